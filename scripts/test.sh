#!/usr/bin/env bash
# Set up (or refresh) .venv, then run every check: ruff, mypy, hadolint, pytest.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k store -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON_BIN" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
echo "== ruff";     .venv/bin/ruff check .
echo "== mypy";     .venv/bin/mypy
echo "== hadolint"; .venv/bin/hadolint Dockerfile
echo "== pytest";   .venv/bin/pytest "$@"
