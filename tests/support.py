"""Shared test helpers: databases on SQLite and PostgreSQL, and a wired core on the sandbox."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sandbox import SandboxDirectory, SandboxNetworkSessions
from adapters.store.engine import create_engine
from adapters.store.migrate import upgrade
from adapters.store.repository import SqlStore
from tests.fakes.clock import ManualClock
from tests.fakes.notifier import RecordingNotifier
from workflows.context import Deps, Tunables
from workflows.model import Grant, GrantState, Person
from workflows.policy import Catalog, CustomerPolicy
from workflows.scheduler import Scheduler, SchedulerSettings
from workflows.service import AccessService

POSTGRES_URL = os.environ.get("ACCESSBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def migrated_engine(kind: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A freshly migrated database: a SQLite file, or a throwaway schema in the PostgreSQL test database."""
    if kind == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}")
        await upgrade(engine)
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_async_engine(
        POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}, pool_size=20, max_overflow=20
    )
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def customer(key: str = "customer-x", **overrides: object) -> CustomerPolicy:
    values: dict[str, object] = {
        "key": key,
        "display_name": key.replace("-", " ").title(),
        "group_id": f"group-{key}",
        "aliases": ("cx",) if key == "customer-x" else (),
        "approvers": ("alice@contoso.example", "bob@contoso.example"),
        "approval_channels": {"slack": "C0APPROVALS"},
        "max_duration": timedelta(hours=4),
    }
    values.update(overrides)
    return CustomerPolicy(**values)  # type: ignore[arg-type]


FAST = Tunables(
    retry_base=timedelta(seconds=10),
    retry_cap=timedelta(minutes=2),
    attempts_before_failed=3,
    failed_retry_interval=timedelta(minutes=15),
)


@dataclass
class World:
    """A wired core on the sandbox directory, a real store and a manual clock."""

    engine: AsyncEngine
    store: SqlStore
    directory: SandboxDirectory
    network: SandboxNetworkSessions
    notifier: RecordingNotifier
    clock: ManualClock
    deps: Deps
    service: AccessService
    scheduler: Scheduler

    async def person(self, name: str, *, guest: bool = False):  # type: ignore[no-untyped-def]
        return await self.directory.add_user(f"{name}@contoso.example", guest=guest)

    async def run_due(self) -> int:
        return await self.scheduler.run_until_idle()


def build_world(
    engine: AsyncEngine,
    customers: list[CustomerPolicy] | None = None,
    *,
    tunables: Tunables = FAST,
    directory: SandboxDirectory | None = None,
    clock: ManualClock | None = None,
    network: SandboxNetworkSessions | None = None,
) -> World:
    """Wire the core. `directory`/`network` may be any implementation (the Graph and Cloudflare
    adapters too); the World's helpers that create users assume the sandbox."""
    store = SqlStore(engine)
    directory = directory or SandboxDirectory(engine)
    network = network or SandboxNetworkSessions(engine)
    notifier = RecordingNotifier()
    clock = clock or ManualClock()
    deps = Deps(
        catalog=Catalog(customers or [customer()]),
        store=store,
        directory=directory,
        network=network,
        notifier=notifier,
        clock=clock,
        tunables=tunables,
    )
    scheduler = Scheduler(deps, SchedulerSettings(lease_seconds=30, batch_size=500, poll_seconds=0.05))
    deps.wake = scheduler.wake
    return World(engine, store, directory, network, notifier, clock, deps, AccessService(deps), scheduler)


async def clone_engine(engine: AsyncEngine) -> AsyncEngine:
    """A second engine (its own connection pool) on the same database, as another replica would have."""
    if engine.dialect.name == "sqlite":
        return create_engine(engine.url.render_as_string(hide_password=False))
    async with engine.connect() as conn:
        search_path = (await conn.execute(text("SHOW search_path"))).scalar_one()
    return create_async_engine(
        engine.url.render_as_string(hide_password=False),
        connect_args={"server_settings": {"search_path": search_path}},
        pool_size=20,
        max_overflow=20,
    )


async def seed_active_grants(
    store: SqlStore,
    people: list[Person],
    *,
    ends_at: list[datetime] | datetime,
    group_id: str = "group-customer-x",
    customer_key: str = "customer-x",
) -> None:
    """Active one-hour grants #1..#n (one per person) ending at `ends_at`, already reminded: a wave of expiries."""
    ends = ends_at if isinstance(ends_at, list) else [ends_at] * len(people)
    async with store.transaction() as tx:
        for i, (person, end) in enumerate(zip(people, ends, strict=True)):
            await tx.add_grant(
                Grant(
                    id=i + 1, customer=customer_key, group_id=group_id, person=person, duration=timedelta(hours=1),
                    state=GrantState.ACTIVE, created_at=end - timedelta(hours=1), starts_at=end - timedelta(hours=1),
                    ends_at=end, reminded=True,
                )
            )  # fmt: skip
