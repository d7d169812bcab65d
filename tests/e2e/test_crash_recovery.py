"""Killed mid-revocation: the process dies (SIGKILL) after "membership removed" and before
"sessions revoked"; the restarted bot finishes the revocation, without repeating what was done."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sandbox import SandboxDirectory
from adapters.store.engine import create_engine
from adapters.store.migrate import upgrade
from adapters.store.repository import SqlStore
from tests.e2e.process import clean_env, free_port, get, start_bot, stop
from workflows.audit_chain import verify_chain
from workflows.model import Grant, GrantState, RevocationStep

pytestmark = pytest.mark.slow

GROUP = "3f2b8c1e-6d4a-4e57-9a0b-1c2d3e4f5a01"  # customer-x in examples/accessbot.toml


async def _seed(url: str) -> str:
    engine = create_engine(url)
    await upgrade(engine)
    directory = SandboxDirectory(engine)
    eve = await directory.add_user("eve@contoso.example")
    await directory.add_member(GROUP, eve.id)
    now = datetime.now(UTC)
    async with SqlStore(engine).transaction() as tx:
        await tx.add_grant(
            Grant(
                id=1, customer="customer-x", group_id=GROUP, person=eve, duration=timedelta(hours=1),
                state=GrantState.ACTIVE, created_at=now - timedelta(hours=1), starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(seconds=1), reminded=True,
            )
        )  # fmt: skip
    await engine.dispose()
    return eve.id


async def _snapshot(url: str) -> tuple[Grant, dict[str, int], set[str], list]:  # type: ignore[type-arg]
    engine = create_engine(url)
    try:
        store, directory = SqlStore(engine), SandboxDirectory(engine)
        grant = await store.get_grant(1)
        calls: dict[str, int] = {}
        for call in await directory.calls():
            calls[str(call["op"])] = calls.get(str(call["op"]), 0) + 1
        events = [e async for e in store.audit_events()]
        return grant, calls, await directory.members(GROUP), events  # type: ignore[return-value]
    finally:
        await engine.dispose()


def _wait(url: str, ready, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = asyncio.run(_snapshot(url))
        if ready(*snapshot):
            return snapshot
        time.sleep(0.2)
    raise AssertionError(f"timed out; last state: {snapshot[0].state} {snapshot[0].steps_done} {snapshot[1]}")


def test_sigkill_between_membership_removal_and_session_revocation(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}"
    asyncio.run(_seed(url))
    fast = {"ACCESSBOT_SCHEDULER_LEASE_SECONDS": "2", "ACCESSBOT_SCHEDULER_POLL_SECONDS": "0.2"}

    # 1. a bot whose Entra session revocation hangs: it gets as far as removing the membership
    port = free_port()
    env = clean_env(tmp_path, ACCESSBOT_SANDBOX_FAULTS="revoke_sign_in_sessions=hang", **fast)
    first = start_bot(tmp_path, port, env=env)
    try:
        grant, calls, members, _ = _wait(url, lambda g, c, m, e: RevocationStep.REMOVE_MEMBERSHIP in g.steps_done)
        time.sleep(0.3)  # it is now stuck inside "revoke sessions"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    grant, calls, members, _ = asyncio.run(_snapshot(url))
    assert grant.state is GrantState.REVOKING
    assert grant.steps_done == {RevocationStep.REMOVE_MEMBERSHIP}
    assert members == set()
    assert calls.get("revoke_sign_in_sessions", 0) == 0 and calls.get("revoke_user", 0) == 0

    # 2. restarted (no fault): once the dead process's lease runs out, the revocation is finished
    port = free_port()
    second = start_bot(tmp_path, port, env=clean_env(tmp_path, **fast))
    try:
        grant, calls, members, events = _wait(url, lambda g, c, m, e: g.state is GrantState.EXPIRED)
        assert get(port, "/healthz")[0] == 200
    finally:
        stop(second)
    assert grant.steps_done == frozenset(RevocationStep)
    assert calls["add_member"] == 1 and calls["remove_member"] == 1  # the removal was not repeated
    assert calls["revoke_sign_in_sessions"] == 1
    assert calls["revoke_user"] == 1
    assert verify_chain(events) is None
    assert [e.record.details.get("step") for e in events if e.record.action == "grant.step_done"] == [
        "remove_membership", "revoke_entra_sessions", "revoke_network_sessions",
    ]  # fmt: skip
