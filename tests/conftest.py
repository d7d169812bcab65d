"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import World, build_world, migrated_engine

# The fake Entra, Graph and Cloudflare servers (real HTTPS, checked against the vendors' specs).
pytest_plugins = ["tests.fakes.fixtures"]

DATABASES = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                os.environ.get("ACCESSBOT_TEST_SKIP_POSTGRES") == "1", reason="ACCESSBOT_TEST_SKIP_POSTGRES=1"
            ),
        ],
    ),
]


@pytest.fixture(params=DATABASES)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A freshly migrated database, once on SQLite and once on PostgreSQL."""
    async with migrated_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine("sqlite", tmp_path) as engine:
        yield engine


@pytest.fixture
async def world(sqlite_engine: AsyncEngine) -> World:
    """The core wired on SQLite and the sandbox, with a manual clock."""
    return build_world(sqlite_engine)
