"""The HTTP surface of `serve` in-process: readiness follows the database and migrations; metrics follow events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from adapters.store.migrate import upgrade
from bot.config import parse_config
from bot.runtime import Runtime, build_runtime
from bot.server import create_app
from bot.settings import Settings
from tests.e2e.process import EXAMPLE_CONFIG
from tests.fakes.clock import ManualClock
from workflows.model import Surface


@pytest.fixture
async def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    monkeypatch.chdir(tmp_path)
    config = parse_config(EXAMPLE_CONFIG.read_text())
    runtime = await build_runtime(
        Settings.load(env_file=None), config, sandbox=True, clock=ManualClock(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    )  # fmt: skip
    yield runtime
    await runtime.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(create_app(runtime, scheduler=False))) as client:
        yield client


async def test_ready_only_with_current_migrations(client: TestClient, runtime: Runtime) -> None:  # type: ignore[type-arg]
    response = await client.get("/readyz")
    assert response.status == 200 and (await response.json())["sandbox"] is True
    async with runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = await client.get("/readyz")
    assert response.status == 503 and (await response.json())["database"] == "migrations pending"
    async with runtime.engine.begin() as conn:
        await conn.execute(text("DROP TABLE sandbox_calls"))  # 0002 does not recreate it; the head is enough
        await conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    assert (await client.get("/readyz")).status == 200


async def test_not_ready_when_the_database_is_gone(client: TestClient, runtime: Runtime) -> None:  # type: ignore[type-arg]
    await runtime.engine.dispose()
    Path(runtime.engine.url.database or "").unlink()
    Path(runtime.engine.url.database or "").mkdir()  # a directory where the database file was: unusable
    response = await client.get("/readyz")
    assert response.status == 503 and (await response.json())["database"] == "unreachable"
    assert (await client.get("/healthz")).status == 200  # alive, but not ready


async def test_metrics_follow_the_workflow(client: TestClient, runtime: Runtime) -> None:  # type: ignore[type-arg]
    directory = runtime.directory
    eve = await directory.resolve_user("eve@contoso.example")
    alice = await directory.resolve_user("alice@contoso.example")
    assert eve and alice
    first = await runtime.service.request_access(eve, "cx", "1h", "", surface=Surface.SLACK)
    await runtime.service.approve(first.request.id, alice, surface=Surface.SLACK)
    denied = await runtime.service.request_access(eve, "customer-y", "1h", "a reason", surface=Surface.SLACK)
    await runtime.service.deny(denied.request.id, alice, surface=Surface.SLACK)
    await runtime.scheduler.run_until_idle()
    runtime.clock.advance(timedelta(hours=1, minutes=5))  # type: ignore[attr-defined]
    body = await (await client.get("/metrics")).text()
    assert 'accessbot_requests_total{outcome="submitted"} 2.0' in body
    assert 'accessbot_requests_total{outcome="approved"} 1.0' in body
    assert 'accessbot_requests_total{outcome="denied"} 1.0' in body
    assert "accessbot_active_grants 1.0" in body
    assert "accessbot_scheduler_lag_seconds 1200.0" in body  # the reminder (at 45 min) is 20 minutes overdue
    await runtime.scheduler.run_until_idle()
    body = await (await client.get("/metrics")).text()
    assert "accessbot_active_grants 0.0" in body
    assert 'accessbot_revocations_total{outcome="expired"} 1.0' in body
    assert "accessbot_scheduler_lag_seconds 0.0" in body


async def test_upgrade_is_idempotent(runtime: Runtime) -> None:
    before, after = await upgrade(runtime.engine)
    assert before == after
