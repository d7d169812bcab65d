"""`accessbot demo` prints the whole lifecycle and exits 0."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.process import accessbot_executable, clean_env

pytestmark = pytest.mark.slow


def test_demo_prints_the_whole_lifecycle(tmp_path: Path) -> None:
    result = subprocess.run(
        [accessbot_executable(), "demo"], cwd=tmp_path, env=clean_env(tmp_path, COLUMNS="160"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in (
        "RequestSubmitted: request #1",  # request
        "RequestApproved: request #1",  # approval
        "GrantActivated: access #1",  # grant
        "GrantExpiringSoon: access #1",  # reminder
        "GrantEnded: access #1 eve@contoso.example -> customer-x [expired",  # expiry + revocation
        "RequestDenied: request #2",  # a denied request
        "GrantEnded: access #3 frank@contoso.example -> customer-x [revoked",  # an early revoke
        "revoke_sign_in_sessions",
        "revoke_user",
        "hash chain intact",
    ):
        assert step in out, f"missing {step!r} in:\n{out}"
    order = [out.index(s) for s in ("GrantActivated: access #1", "GrantExpiringSoon: access #1", "[expired")]
    assert order == sorted(order)
    assert not (tmp_path / "accessbot.db").exists()  # it ran on a temporary database
