"""Sandbox stand-ins for Entra ID and Cloudflare, for `serve --sandbox`, `demo` and drills.

They keep their state (users, memberships, a log of every call) in the bot's own database,
so a restarted sandbox bot sees what it did before, and an operator can read
`sandbox_calls` to see exactly what the real services would have been asked.

Faults can be injected (see `SandboxFaults`) to rehearse outages: a failing or hanging call.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.tables import SandboxCallRow, SandboxMemberRow, SandboxUserRow
from workflows.errors import DirectoryError, SessionRevocationError
from workflows.model import Person
from workflows.ports import BulkResult, MembershipChange

log = logging.getLogger("accessbot.sandbox")

users_t = SandboxUserRow.__table__  # type: ignore[attr-defined]
members_t = SandboxMemberRow.__table__  # type: ignore[attr-defined]
calls_t = SandboxCallRow.__table__  # type: ignore[attr-defined]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SANDBOX_NS = uuid.UUID("6f1c3c9e-2b7a-4a43-9c43-5d1c0b7e2a10")


@dataclass
class SandboxFaults:
    """Injected failures, by operation name: ``fail`` N times (transient), or ``hang`` forever.

    Parsed from ``ACCESSBOT_SANDBOX_FAULTS``, e.g. ``add_member=fail:3,revoke_sign_in_sessions=hang``.
    """

    failures: dict[str, int] = field(default_factory=dict)
    hangs: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str | None) -> SandboxFaults:
        faults = cls()
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            op, _, spec = item.partition("=")
            if spec == "hang":
                faults.hangs.add(op)
            elif spec.startswith("fail"):
                count = spec.partition(":")[2]
                faults.failures[op] = int(count) if count.isdigit() else 1_000_000
            else:
                raise ValueError(f"ACCESSBOT_SANDBOX_FAULTS: {item!r}; use op=fail, op=fail:N or op=hang")
        return faults

    async def check(self, op: str) -> None:
        if op in self.hangs:
            log.warning("sandbox: %s hangs (injected fault)", op)
            await asyncio.Event().wait()
        remaining = self.failures.get(op, 0)
        if remaining > 0:
            self.failures[op] = remaining - 1
            raise DirectoryError(f"sandbox: injected failure of {op}", transient=True)


def sandbox_user_id(upn: str) -> str:
    """A stable object id for an auto-enrolled sandbox user."""
    return str(uuid.uuid5(_SANDBOX_NS, upn.casefold()))


class SandboxDirectory:
    """An in-process `Directory` on the bot's database. Every call is logged and recorded."""

    def __init__(self, engine: AsyncEngine, *, auto_enroll: bool = False, faults: SandboxFaults | None = None) -> None:
        self._engine = engine
        self._auto_enroll = auto_enroll  # any e-mail address resolves (serve --sandbox, demo)
        self._faults = faults or SandboxFaults()

    async def _record(self, op: str, target: str = "", subject: str = "", changed: bool = False) -> None:
        log.info("sandbox directory: %s target=%s subject=%s changed=%s", op, target, subject, changed)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(calls_t).values(at=datetime.now(UTC), op=op, target=target, subject=subject, changed=changed)
            )

    async def add_user(self, upn: str, mail: str = "", display_name: str = "", *, guest: bool = False) -> Person:
        """Create (or return) a sandbox user."""
        user_id = sandbox_user_id(upn)
        async with self._engine.begin() as conn:
            found = (await conn.execute(select(users_t).where(users_t.c.id == user_id))).mappings().first()
            if found is None:
                await conn.execute(
                    insert(users_t).values(
                        id=user_id, upn=upn, mail=mail or upn, display_name=display_name or upn, guest=guest
                    )
                )
        return Person(user_id, upn, mail or upn, display_name or upn, guest)

    async def resolve_user(self, identifier: str) -> Person | None:
        key = identifier.strip()
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(users_t).where(
                            or_(
                                users_t.c.id == key,
                                func.lower(users_t.c.upn) == key.lower(),
                                func.lower(users_t.c.mail) == key.lower(),
                            )
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is not None:
            return Person(row["id"], row["upn"], row["mail"], row["display_name"], bool(row["guest"]))
        if self._auto_enroll and _EMAIL.match(key):
            return await self.add_user(key.lower())
        return None

    async def is_member(self, user_id: str, group_id: str) -> bool:
        # Walk nested groups breadth-first (what Graph's transitive membership does).
        seen: set[str] = set()
        frontier = {group_id}
        async with self._engine.connect() as conn:
            while frontier:
                rows = await conn.execute(select(members_t.c.member_id).where(members_t.c.group_id.in_(frontier)))
                members = set(rows.scalars())
                if user_id in members:
                    return True
                seen |= frontier
                frontier = members - seen
        return False

    async def add_member(self, group_id: str, user_id: str) -> None:
        await self._faults.check("add_member")
        async with self._engine.begin() as conn:
            exists = await conn.execute(
                select(members_t).where(members_t.c.group_id == group_id, members_t.c.member_id == user_id)
            )
            changed = exists.first() is None
            if changed:
                await conn.execute(insert(members_t).values(group_id=group_id, member_id=user_id))
        await self._record("add_member", group_id, user_id, changed)

    async def remove_member(self, group_id: str, user_id: str) -> None:
        await self._faults.check("remove_member")
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(members_t).where(members_t.c.group_id == group_id, members_t.c.member_id == user_id)
            )
        await self._record("remove_member", group_id, user_id, result.rowcount > 0)

    async def revoke_sign_in_sessions(self, user_id: str) -> None:
        await self._faults.check("revoke_sign_in_sessions")
        await self._record("revoke_sign_in_sessions", "", user_id, True)

    async def _passing(self, op: str, keys: Sequence[str]) -> tuple[list[str], dict[str, str]]:
        """Injected faults first, outside any transaction (a hang must not hold a database lock)."""
        passing: list[str] = []
        failed: dict[str, str] = {}
        for key in keys:
            try:
                await self._faults.check(op)
                passing.append(key)
            except DirectoryError as error:
                failed[key] = str(error)
        return passing, failed

    async def remove_members(self, changes: Sequence[MembershipChange]) -> BulkResult:
        """Like Graph's $batch: one round trip (here, one transaction) for many removals."""
        by_key = {f"{c.group_id}:{c.user_id}": c for c in changes}
        passing, failed = await self._passing("remove_member", list(by_key))
        async with self._engine.begin() as conn:
            for key in passing:
                change = by_key[key]
                result = await conn.execute(
                    delete(members_t).where(
                        members_t.c.group_id == change.group_id, members_t.c.member_id == change.user_id
                    )
                )
                await conn.execute(
                    insert(calls_t).values(
                        at=datetime.now(UTC), op="remove_member", target=change.group_id, subject=change.user_id,
                        changed=result.rowcount > 0,
                    )
                )  # fmt: skip
        log.info("sandbox directory: remove_members x%d (%d failed)", len(changes), len(failed))
        return BulkResult(failed)

    async def revoke_sign_in_sessions_many(self, user_ids: Sequence[str]) -> BulkResult:
        passing, failed = await self._passing("revoke_sign_in_sessions", list(user_ids))
        if passing:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(calls_t),
                    [
                        {"at": datetime.now(UTC), "op": "revoke_sign_in_sessions", "target": "", "subject": user_id,
                         "changed": True}
                        for user_id in passing
                    ],
                )  # fmt: skip
        log.info("sandbox directory: revoke_sign_in_sessions x%d (%d failed)", len(user_ids), len(failed))
        return BulkResult(failed)

    # ---- what the sandbox was asked (tests, demo, drills) ------------------------------

    async def calls(self, op: str | None = None) -> list[dict[str, object]]:
        stmt = select(calls_t).order_by(calls_t.c.id)
        if op is not None:
            stmt = stmt.where(calls_t.c.op == op)
        async with self._engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    async def members(self, group_id: str) -> set[str]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(members_t.c.member_id).where(members_t.c.group_id == group_id))
            return set(rows.scalars())

    async def nest(self, parent_group: str, child_group: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(members_t).values(group_id=parent_group, member_id=child_group))


class SandboxNetworkSessions:
    """An in-process `NetworkSessions`: records each revocation in the sandbox call log."""

    def __init__(self, engine: AsyncEngine, *, faults: SandboxFaults | None = None) -> None:
        self._engine = engine
        self._faults = faults or SandboxFaults()

    @property
    def enabled(self) -> bool:
        return True

    async def revoke_user(self, email: str) -> None:
        try:
            await self._faults.check("revoke_user")
        except DirectoryError as error:
            raise SessionRevocationError(str(error)) from error
        log.info("sandbox network sessions: revoke_user %s", email)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(calls_t).values(at=datetime.now(UTC), op="revoke_user", target="", subject=email, changed=True)
            )
