"""Applying and checking the alembic migrations, programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every replica running `serve`.
_PG_MIGRATION_LOCK = 0x61636365737362


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest migration (what /readyz reports)."""
    return await current_revision(engine) == head_revision()


async def upgrade(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """Apply pending migrations; returns (revision before, revision after).

    On PostgreSQL an advisory lock makes replicas starting together take turns.
    """
    before = await current_revision(engine)
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})

        def run(sync_conn: Any) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync_conn
            command.upgrade(config, "head")

        await conn.run_sync(run)
    return before, await current_revision(engine)
