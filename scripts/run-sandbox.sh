#!/usr/bin/env bash
# Set up .venv and run the bot on its embedded default: SQLite (./accessbot.db), sandbox mode
# (Entra ID and Cloudflare simulated), the example configuration, port 3978.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON_BIN" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/accessbot serve --sandbox --config "${ACCESSBOT_CONFIG:-examples/accessbot.toml}" "$@"
