"""`accessbot serve` as a real process: health, readiness, metrics, and refusing to start half-configured."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.process import accessbot_executable, clean_env, free_port, get, start_bot, stop

pytestmark = pytest.mark.slow


def test_sandbox_serve_answers_health_readiness_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    process = start_bot(tmp_path, port)
    try:
        assert get(port, "/healthz") == (200, b'{"status": "ok"}')
        status, body = get(port, "/readyz")
        assert status == 200 and b'"ready"' in body  # migrations were applied by serve itself
        status, body = get(port, "/metrics")
        assert status == 200
        assert b"accessbot_active_grants 0.0" in body
        assert b"accessbot_scheduler_lag_seconds" in body
    finally:
        stop(process)
    assert process.returncode == 0  # SIGTERM is a clean shutdown
    output = next(tmp_path.glob("serve-*.log")).read_text()
    assert "SANDBOX MODE" in output


def test_serve_without_credentials_names_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [accessbot_executable(), "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "SLACK_BOT_TOKEN", "MICROSOFT_APP_ID"):
        assert name in result.stderr, result.stderr
    assert "--sandbox" in result.stderr
    assert not (tmp_path / "accessbot.db").exists()  # nothing was started or created


def test_bad_configuration_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[customers.customer-x]\ngroup_id = "3f2b8c1e-6d4a-4e57-9a0b-1c2d3e4f5a01"\n'
        'approvers = ["alice@contoso.example"]\nmax_duration = "99x"\n'
    )
    result = subprocess.run(
        [accessbot_executable(), "serve", "--sandbox", "--config", str(config)],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "customers.customer-x.max_duration" in result.stderr
    assert "99x" in result.stderr and "e.g. 30m" in result.stderr
