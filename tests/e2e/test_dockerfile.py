"""The Dockerfile's steps, exercised without a Docker engine: lint, the wheel it builds (migrations
included), the user it runs as, its entrypoint, and its HEALTHCHECK command against a real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.e2e.process import ROOT, free_port, start_bot, stop

pytestmark = pytest.mark.slow

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instruction(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_hadolint_is_clean() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_as_non_root_with_the_serve_entrypoint() -> None:
    users = _instruction("USER")
    assert users and all(u.split(":")[0] not in {"root", "0"} for u in users)
    assert json.loads(_instruction("ENTRYPOINT")[-1]) == ["accessbot", "serve"]
    assert len(_instruction("FROM")) == 2  # multi-stage
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f'"accessbot=={version}"' in DOCKERFILE  # the pinned install follows the project version


def test_the_wheel_carries_the_migrations(tmp_path: Path) -> None:
    # The build stage's COPY steps, then its `pip wheel` (for our package only: no network for deps)
    source = tmp_path / "src"
    source.mkdir()
    for copy in _instruction("COPY"):
        if copy.startswith("--from"):
            continue
        *sources, _destination = copy.split()
        for name in sources:
            origin = ROOT / name
            if origin.is_dir():
                shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(origin, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("accessbot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "adapters/store/migrations/env.py" in names
    assert {n for n in names if re.match(r"adapters/store/migrations/versions/\d{4}_.*\.py$", n)} >= {
        "adapters/store/migrations/versions/0001_initial_schema.py"
    }
    assert not [n for n in names if n.startswith("tests/")]
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    probe = subprocess.run(
        [sys.executable, "-c", "import adapters, adapters.store.migrate as m; print(adapters.__file__, m.head_revision())"],  # noqa: E501
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    location, head = probe.stdout.split()
    assert location.startswith(str(target)) and head.isdigit()


def test_healthcheck_command_passes_on_a_live_bot_and_fails_without_one(tmp_path: Path) -> None:
    command = json.loads(_instruction("HEALTHCHECK")[-1].split("CMD", 1)[1])
    assert command[0] == "python"
    command[0] = sys.executable
    port = free_port()
    process = start_bot(tmp_path, port)
    try:
        ok = subprocess.run(command, env={**os.environ, "PORT": str(port)}, capture_output=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
    finally:
        stop(process)
    down = subprocess.run(command, env={**os.environ, "PORT": str(port)}, capture_output=True, timeout=30)
    assert down.returncode != 0
