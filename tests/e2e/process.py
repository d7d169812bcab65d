"""Running the real `accessbot` console script as a subprocess, the way an operator would."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "examples" / "accessbot.toml"


def accessbot_executable() -> str:
    """The console script installed next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).with_name("accessbot")
    found = str(candidate) if candidate.exists() else shutil.which("accessbot")
    assert found, "the accessbot console script is not installed: pip install -e ."
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a fresh operator shell would have: no credentials, a database in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "AZURE_", "CLOUDFLARE_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}",
        ACCESSBOT_CONFIG=str(EXAMPLE_CONFIG),
        LOG_FORMAT="json",
    )
    env.update(extra)
    return env


def start_bot(tmp_path: Path, port: int, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `accessbot serve --sandbox` (cwd tmp_path, so no stray .env is read) and wait for /healthz."""
    log = (tmp_path / f"serve-{port}-{time.monotonic_ns()}.log").open("wb")
    process = subprocess.Popen(
        [accessbot_executable(), "serve", "--sandbox", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=tmp_path,
        env=env or clean_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_healthy(port, process)
    return process


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"accessbot exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError("accessbot did not answer /healthz in time")


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
