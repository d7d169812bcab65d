"""The README opens with two commands; the first one really starts the bot in sandbox mode on SQLite.
(The second, scripts/test.sh, is what CI runs — this very suite.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.process import ROOT, clean_env, free_port, get, stop, wait_healthy

pytestmark = pytest.mark.slow


def _readme_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## The two commands", 1)[1]
    return re.findall(r"```sh\n(.+?)\n```", section)[:2]


def test_readme_opens_with_the_run_and_test_commands() -> None:
    assert _readme_commands() == ["bash scripts/run-sandbox.sh", "bash scripts/test.sh"]
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_first_command_serves_the_sandbox_on_sqlite(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, ACCESSBOT_CONFIG="examples/accessbot.toml")
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        ["bash", *_readme_commands()[0].split()[1:], "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_healthy(port, process, timeout=240)  # the script first (re)installs the project into .venv
        assert get(port, "/readyz")[0] == 200
    finally:
        stop(process)
    assert (tmp_path / "accessbot.db").exists()  # SQLite, at DATABASE_URL
    assert "SANDBOX MODE" in (tmp_path / "run.log").read_text()
