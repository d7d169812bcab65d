"""The Directory and NetworkSessions contracts on the sandbox implementations (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sandbox import SandboxDirectory, SandboxNetworkSessions
from tests.contract.directory_contract import DirectoryContract, NetworkSessionsContract


class SandboxHarness:
    def __init__(self, engine: AsyncEngine) -> None:
        self.directory = SandboxDirectory(engine)
        self._groups = 0

    async def create_user(self, upn: str, mail: str | None = None, *, guest: bool = False) -> str:
        return (await self.directory.add_user(upn, mail or upn, guest=guest)).id

    async def create_group(self, name: str) -> str:
        self._groups += 1
        return f"group-{name}-{self._groups}"

    async def nest(self, parent_group: str, child_group: str) -> None:
        await self.directory.nest(parent_group, child_group)

    async def members(self, group_id: str) -> set[str]:
        return await self.directory.members(group_id)

    async def session_revocations(self, user_id: str) -> int:
        return len([c for c in await self.directory.calls("revoke_sign_in_sessions") if c["subject"] == user_id])

    async def membership_writes(self, group_id: str) -> int:
        calls = await self.directory.calls()
        return len([c for c in calls if c["target"] == group_id and c["changed"]])


class NetHarness:
    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = SandboxNetworkSessions(engine)
        self._directory = SandboxDirectory(engine)

    async def revocations(self, email: str) -> int:
        return len([c for c in await self._directory.calls("revoke_user") if c["subject"] == email])


class TestSandboxDirectory(DirectoryContract):
    @pytest.fixture
    def harness(self, engine: AsyncEngine) -> SandboxHarness:
        return SandboxHarness(engine)


class TestSandboxNetworkSessions(NetworkSessionsContract):
    @pytest.fixture
    def net_harness(self, engine: AsyncEngine) -> NetHarness:
        return NetHarness(engine)
