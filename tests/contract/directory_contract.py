"""The Directory contract: one suite, run against every implementation of the port.

An implementation's test module subclasses `DirectoryContract` and provides a `harness`
fixture (see `DirectoryHarness`): the directory under test plus a back door to the
service behind it (the sandbox's tables, or a fake Graph server's state).
"""

from __future__ import annotations

import uuid
from typing import Protocol

import pytest

from workflows.ports import Directory, MembershipChange


class DirectoryHarness(Protocol):
    directory: Directory

    async def create_user(self, upn: str, mail: str | None = None, *, guest: bool = False) -> str:
        """Create a user in the backing service; returns its object id."""
        ...

    async def create_group(self, name: str) -> str:
        """Create an empty security group; returns its object id."""
        ...

    async def nest(self, parent_group: str, child_group: str) -> None:
        """Make `child_group` a member of `parent_group`."""
        ...

    async def members(self, group_id: str) -> set[str]:
        """Direct members of the group, as the service sees them."""
        ...

    async def session_revocations(self, user_id: str) -> int:
        """How many times the user's sign-in sessions were revoked."""
        ...

    async def membership_writes(self, group_id: str) -> int:
        """How many membership changes (adds and removes that changed something) the group saw."""
        ...


def _upn(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}@contoso.example"


class DirectoryContract:
    """Behaviour every Directory must have. Subclasses provide the `harness` fixture."""

    async def test_resolves_by_upn_mail_and_object_id(self, harness: DirectoryHarness) -> None:
        upn = _upn("ada")
        mail = f"ada.lovelace-{uuid.uuid4().hex[:4]}@contoso.example"
        user_id = await harness.create_user(upn, mail)
        for identifier in (upn, upn.upper(), mail, user_id):
            person = await harness.directory.resolve_user(identifier)
            assert person is not None, identifier
            assert person.id == user_id
            assert person.upn.casefold() == upn.casefold()
            assert person.email.casefold() == mail.casefold()
            assert person.is_guest is False

    async def test_resolves_mail_with_apostrophe(self, harness: DirectoryHarness) -> None:
        upn = _upn("obrien")
        mail = f"o'brien-{uuid.uuid4().hex[:4]}@contoso.example"
        user_id = await harness.create_user(upn, mail)
        person = await harness.directory.resolve_user(mail)
        assert person is not None and person.id == user_id

    async def test_unknown_user_is_none(self, harness: DirectoryHarness) -> None:
        assert await harness.directory.resolve_user(_upn("nobody")) is None
        assert await harness.directory.resolve_user(str(uuid.uuid4())) is None

    async def test_guest_is_flagged(self, harness: DirectoryHarness) -> None:
        upn = f"guest_{uuid.uuid4().hex[:6]}_fabrikam.example#EXT#@contoso.example"
        user_id = await harness.create_user(upn, f"guest-{uuid.uuid4().hex[:4]}@fabrikam.example", guest=True)
        person = await harness.directory.resolve_user(user_id)
        assert person is not None and person.is_guest is True

    async def test_add_twice_is_one_membership(self, harness: DirectoryHarness) -> None:
        user_id = await harness.create_user(_upn("grace"))
        group_id = await harness.create_group("customer-x")
        await harness.directory.add_member(group_id, user_id)
        await harness.directory.add_member(group_id, user_id)
        assert await harness.members(group_id) == {user_id}
        assert await harness.membership_writes(group_id) == 1
        assert await harness.directory.is_member(user_id, group_id) is True

    async def test_remove_twice_is_one_change(self, harness: DirectoryHarness) -> None:
        user_id = await harness.create_user(_upn("linus"))
        group_id = await harness.create_group("customer-y")
        await harness.directory.add_member(group_id, user_id)
        await harness.directory.remove_member(group_id, user_id)
        await harness.directory.remove_member(group_id, user_id)
        assert await harness.members(group_id) == set()
        assert await harness.membership_writes(group_id) == 2
        assert await harness.directory.is_member(user_id, group_id) is False

    async def test_remove_of_non_member_succeeds(self, harness: DirectoryHarness) -> None:
        user_id = await harness.create_user(_upn("ken"))
        group_id = await harness.create_group("customer-z")
        await harness.directory.remove_member(group_id, user_id)
        assert await harness.members(group_id) == set()

    async def test_membership_is_transitive(self, harness: DirectoryHarness) -> None:
        user_id = await harness.create_user(_upn("barbara"))
        parent = await harness.create_group("approvers")
        child = await harness.create_group("approvers-emea")
        await harness.nest(parent, child)
        await harness.directory.add_member(child, user_id)
        assert await harness.directory.is_member(user_id, parent) is True
        assert await harness.directory.is_member(user_id, await harness.create_group("other")) is False

    async def test_revoke_sessions_twice_succeeds(self, harness: DirectoryHarness) -> None:
        user_id = await harness.create_user(_upn("margaret"))
        await harness.directory.revoke_sign_in_sessions(user_id)
        await harness.directory.revoke_sign_in_sessions(user_id)
        assert await harness.session_revocations(user_id) == 2

    async def test_bulk_remove_and_revoke(self, harness: DirectoryHarness) -> None:
        group_id = await harness.create_group("bulk")
        users = [await harness.create_user(_upn(f"bulk{i}")) for i in range(25)]
        for user_id in users[:20]:
            await harness.directory.add_member(group_id, user_id)
        # five of them were never members: removing them is still success
        result = await harness.directory.remove_members([MembershipChange(group_id, u) for u in users])
        assert result.failed == {}
        assert await harness.members(group_id) == set()
        result = await harness.directory.revoke_sign_in_sessions_many(users)
        assert result.failed == {}
        for user_id in users:
            assert await harness.session_revocations(user_id) == 1

    async def test_bulk_of_nothing(self, harness: DirectoryHarness) -> None:
        assert (await harness.directory.remove_members([])).failed == {}
        assert (await harness.directory.revoke_sign_in_sessions_many([])).failed == {}


class NetworkSessionsHarness(Protocol):
    sessions: object  # a workflows.ports.NetworkSessions

    async def revocations(self, email: str) -> int: ...


class NetworkSessionsContract:
    """Behaviour every NetworkSessions must have. Subclasses provide the `net_harness` fixture."""

    async def test_revoke_is_recorded_and_repeatable(self, net_harness: NetworkSessionsHarness) -> None:
        sessions = net_harness.sessions
        assert sessions.enabled is True  # type: ignore[attr-defined]
        email = f"eng-{uuid.uuid4().hex[:6]}@contoso.example"
        await sessions.revoke_user(email)  # type: ignore[attr-defined]
        await sessions.revoke_user(email)  # type: ignore[attr-defined]
        assert await net_harness.revocations(email) == 2

    async def test_revoke_of_unknown_user_succeeds(self, net_harness: NetworkSessionsHarness) -> None:
        # Cloudflare answers result=false for someone with no sessions: that is not an error.
        await net_harness.sessions.revoke_user(f"never-logged-in-{uuid.uuid4().hex[:6]}@contoso.example")  # type: ignore[attr-defined]


__all__ = ["DirectoryContract", "DirectoryHarness", "NetworkSessionsContract", "NetworkSessionsHarness", "pytest"]
