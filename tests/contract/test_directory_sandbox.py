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


async def test_sandbox_enrols_any_address_only_when_asked(engine: AsyncEngine) -> None:
    strict, lenient = SandboxDirectory(engine), SandboxDirectory(engine, auto_enroll=True)
    assert await strict.resolve_user("newcomer@contoso.example") is None
    person = await lenient.resolve_user("Newcomer@Contoso.example")
    assert person is not None and person.upn == "newcomer@contoso.example"
    assert await strict.resolve_user(person.id) == person  # now a known sandbox user
    assert await lenient.resolve_user("not an address") is None


async def test_injected_faults_fail_then_recover(engine: AsyncEngine) -> None:
    from adapters.sandbox import SandboxFaults
    from workflows.errors import DirectoryError

    faults = SandboxFaults.parse("add_member=fail:2, revoke_sign_in_sessions=hang")
    assert faults.failures == {"add_member": 2} and faults.hangs == {"revoke_sign_in_sessions"}
    directory = SandboxDirectory(engine, faults=faults)
    for _ in range(2):
        with pytest.raises(DirectoryError, match="injected"):
            await directory.add_member("g", "u")
    await directory.add_member("g", "u")
    assert await directory.members("g") == {"u"}
    with pytest.raises(ValueError, match="ACCESSBOT_SANDBOX_FAULTS"):
        SandboxFaults.parse("add_member=explode")
