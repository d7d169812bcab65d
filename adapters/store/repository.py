"""`SqlStore`: the Store port on SQLAlchemy Core over the SQLModel tables.

Concurrency rules, for SQLite and PostgreSQL alike:
- requests and grants are saved with compare-and-swap on ``version`` (`StaleState` on a lost race);
- `lock=True` reads take a row lock on PostgreSQL (SQLite transactions are already serialized);
- due work is claimed with ``FOR UPDATE SKIP LOCKED`` plus a lease, so each due item goes to one
  scheduler even with several replicas, and a killed claimer's lease simply runs out;
- audit events are appended at commit under a lock on the chain's head row, so the chain stays linear.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.store.mapping import audit_from_row, grant_from_row, grant_values, request_from_row, request_values
from adapters.store.tables import ApprovalRow, AuditEventRow, AuditHeadRow, GrantRow, RequestRow
from workflows.audit_chain import GENESIS, canonical_fields, event_hash
from workflows.errors import StaleState
from workflows.model import (
    LIVE_GRANT_STATES,
    AccessRequest,
    Approval,
    AuditRecord,
    Grant,
    GrantState,
    Person,
    RequestState,
    StoredAuditEvent,
)

requests_t = RequestRow.__table__  # type: ignore[attr-defined]
grants_t = GrantRow.__table__  # type: ignore[attr-defined]
approvals_t = ApprovalRow.__table__  # type: ignore[attr-defined]
audit_t = AuditEventRow.__table__  # type: ignore[attr-defined]
head_t = AuditHeadRow.__table__  # type: ignore[attr-defined]


def wall_now() -> datetime:
    """Real time, for leases: a lease is about a process being alive, not about the business clock."""
    return datetime.fromtimestamp(time.time(), UTC)


class SqlTransaction:
    """One transaction on one connection; implements `workflows.ports.StoreTransaction`."""

    def __init__(self, conn: AsyncConnection, postgres: bool) -> None:
        self._conn = conn
        self._postgres = postgres
        self._audit: list[AuditRecord] = []

    def _lockable(self, statement: Any, lock: bool) -> Any:
        return statement.with_for_update() if lock and self._postgres else statement

    async def get_request(self, request_id: int, *, lock: bool = True) -> AccessRequest | None:
        stmt = self._lockable(select(requests_t).where(requests_t.c.id == request_id), lock)
        row = (await self._conn.execute(stmt)).mappings().first()
        return request_from_row(row) if row else None

    async def get_grant(self, grant_id: int, *, lock: bool = True) -> Grant | None:
        stmt = self._lockable(select(grants_t).where(grants_t.c.id == grant_id), lock)
        row = (await self._conn.execute(stmt)).mappings().first()
        return grant_from_row(row) if row else None

    async def find_pending_request(self, user_id: str, customer: str) -> AccessRequest | None:
        stmt = select(requests_t).where(
            requests_t.c.requester_id == user_id,
            requests_t.c.customer == customer,
            requests_t.c.state == RequestState.PENDING.value,
        )
        row = (await self._conn.execute(stmt)).mappings().first()
        return request_from_row(row) if row else None

    async def find_live_grant(self, user_id: str, customer: str) -> Grant | None:
        stmt = select(grants_t).where(
            grants_t.c.user_id == user_id,
            grants_t.c.customer == customer,
            grants_t.c.state.in_([s.value for s in LIVE_GRANT_STATES]),
        )
        row = (await self._conn.execute(stmt)).mappings().first()
        return grant_from_row(row) if row else None

    async def _insert(self, statement: Any) -> Any:
        # A savepoint keeps the transaction usable after a uniqueness violation.
        try:
            async with self._conn.begin_nested():
                return await self._conn.execute(statement)
        except IntegrityError as error:
            raise StaleState(f"concurrent insert: {error.orig}") from error

    async def add_request(self, request: AccessRequest) -> AccessRequest:
        values = request_values(request) | {"version": 0}
        result = await self._insert(insert(requests_t).values(**values).returning(requests_t.c.id))
        request.id = result.scalar_one()
        request.version = 0
        return request

    async def _compare_and_swap(self, table: Any, item_id: int, version: int, values: dict[str, Any]) -> None:
        stmt = (
            update(table)
            .where(table.c.id == item_id, table.c.version == version)
            .values(**values, version=version + 1)
        )
        if (await self._conn.execute(stmt)).rowcount != 1:
            raise StaleState(f"{table.name} #{item_id} changed concurrently")

    async def save_request(self, request: AccessRequest) -> AccessRequest:
        assert request.id is not None
        await self._compare_and_swap(requests_t, request.id, request.version, request_values(request))
        request.version += 1
        return request

    async def add_grant(self, grant: Grant) -> Grant:
        await self._insert(insert(grants_t).values(id=grant.id, version=0, **grant_values(grant)))
        grant.version = 0
        return grant

    async def save_grant(self, grant: Grant) -> Grant:
        await self._compare_and_swap(grants_t, grant.id, grant.version, grant_values(grant))
        grant.version += 1
        return grant

    async def add_approval(self, approval: Approval) -> bool:
        exists = await self._conn.execute(
            select(approvals_t.c.request_id).where(
                approvals_t.c.request_id == approval.request_id,
                approvals_t.c.approver_id == approval.approver.id,
            )
        )
        if exists.first() is not None:
            return False
        await self._insert(
            insert(approvals_t).values(
                request_id=approval.request_id,
                approver_id=approval.approver.id,
                approver_upn=approval.approver.upn,
                approver_email=approval.approver.email,
                approver_name=approval.approver.display_name,
                at=approval.at,
            )
        )
        return True

    async def approvals(self, request_id: int) -> list[Approval]:
        rows = await self._conn.execute(
            select(approvals_t).where(approvals_t.c.request_id == request_id).order_by(approvals_t.c.at)
        )
        return [
            Approval(
                request_id=row["request_id"],
                approver=Person(
                    id=row["approver_id"],
                    upn=row["approver_upn"],
                    email=row["approver_email"],
                    display_name=row["approver_name"],
                ),
                at=row["at"],
            )
            for row in rows.mappings()
        ]

    def audit(self, record: AuditRecord) -> None:
        self._audit.append(record)

    async def flush_audit(self) -> None:
        """Append the queued events to the chain (called just before commit)."""
        if not self._audit:
            return
        head_stmt = select(head_t).where(head_t.c.id == 1)
        if self._postgres:
            head_stmt = head_stmt.with_for_update()
        head = (await self._conn.execute(head_stmt)).mappings().first()
        if head is None:  # the initial migration creates it; its absence means no migrations ran
            raise RuntimeError("the audit chain head is missing: run `accessbot db upgrade`")
        seq, prev = head["seq"], head["hash"]
        rows = []
        for record in self._audit:
            seq += 1
            fields = canonical_fields(seq, record, prev)  # exactly what the hash covers
            digest = event_hash(seq, record, prev)
            details = json.dumps(fields["details"], sort_keys=True, ensure_ascii=False)
            rows.append(fields | {"at": record.at, "details": details, "hash": digest})
            prev = digest
        await self._conn.execute(insert(audit_t), rows)
        await self._conn.execute(update(head_t).where(head_t.c.id == 1).values(seq=seq, hash=prev))
        self._audit.clear()


class SqlStore:
    """The Store port on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlTransaction]:
        async with self._engine.begin() as conn:
            tx = SqlTransaction(conn, self._postgres)
            yield tx
            await tx.flush_audit()

    # ---- due work ---------------------------------------------------------------------

    async def _claim(
        self,
        table: Any,
        now: datetime,
        owner: str,
        lease_seconds: float,
        limit: int,
        only_ids: Sequence[int] | None = None,
    ) -> list[Any]:
        wall = wall_now()
        async with self._engine.begin() as conn:
            candidates = (
                select(table.c.id)
                .where(
                    table.c.next_due_at.is_not(None),
                    table.c.next_due_at <= now,
                    or_(table.c.lease_until.is_(None), table.c.lease_until < wall),
                )
                .order_by(table.c.next_due_at)
                .limit(limit)
            )
            if only_ids is not None:
                candidates = candidates.where(table.c.id.in_(list(only_ids)))
            if self._postgres:
                candidates = candidates.with_for_update(skip_locked=True)
            ids = list((await conn.execute(candidates)).scalars())
            if not ids:
                return []
            await conn.execute(
                update(table)
                .where(table.c.id.in_(ids))
                .values(lease_owner=owner, lease_until=wall + timedelta(seconds=lease_seconds))
            )
            rows = await conn.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.next_due_at))
            return list(rows.mappings())

    async def claim_due_grants(
        self, now: datetime, owner: str, lease_seconds: float, limit: int, only_ids: Sequence[int] | None = None
    ) -> list[Grant]:
        rows = await self._claim(grants_t, now, owner, lease_seconds, limit, only_ids)
        return [grant_from_row(r) for r in rows]

    async def claim_due_requests(
        self, now: datetime, owner: str, lease_seconds: float, limit: int
    ) -> list[AccessRequest]:
        return [request_from_row(r) for r in await self._claim(requests_t, now, owner, lease_seconds, limit)]

    async def release(self, kind: str, item_id: int, owner: str) -> None:
        table = {"grant": grants_t, "request": requests_t}[kind]
        async with self._engine.begin() as conn:
            await conn.execute(
                update(table)
                .where(table.c.id == item_id, table.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def extend_leases(self, kind: str, item_ids: Sequence[int], owner: str, lease_seconds: float) -> int:
        if not item_ids:
            return 0
        table = {"grant": grants_t, "request": requests_t}[kind]
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(table)
                .where(table.c.id.in_(list(item_ids)), table.c.lease_owner == owner)
                .values(lease_until=wall_now() + timedelta(seconds=lease_seconds))
            )
            return int(result.rowcount)

    async def oldest_due(self, now: datetime) -> datetime | None:
        async with self._engine.connect() as conn:
            found = []
            for table in (grants_t, requests_t):
                value = (
                    await conn.execute(select(func.min(table.c.next_due_at)).where(table.c.next_due_at <= now))
                ).scalar()
                if value is not None:
                    found.append(_aware(value))
            return min(found) if found else None

    async def next_due(self) -> datetime | None:
        async with self._engine.connect() as conn:
            found = []
            for table in (grants_t, requests_t):
                value = (await conn.execute(select(func.min(table.c.next_due_at)))).scalar()
                if value is not None:
                    found.append(_aware(value))
            return min(found) if found else None

    # ---- reads ------------------------------------------------------------------------

    async def list_requests(
        self, *, user_id: str | None = None, states: Sequence[str] | None = None, customer: str | None = None
    ) -> list[AccessRequest]:
        stmt = select(requests_t).order_by(requests_t.c.id)
        if user_id is not None:
            stmt = stmt.where(requests_t.c.requester_id == user_id)
        if states is not None:
            stmt = stmt.where(requests_t.c.state.in_([str(s) for s in states]))
        if customer is not None:
            stmt = stmt.where(requests_t.c.customer == customer)
        async with self._engine.connect() as conn:
            return [request_from_row(r) for r in (await conn.execute(stmt)).mappings()]

    async def list_grants(
        self,
        *,
        user_id: str | None = None,
        states: Sequence[GrantState] | None = None,
        customer: str | None = None,
    ) -> list[Grant]:
        stmt = select(grants_t).order_by(grants_t.c.id)
        if user_id is not None:
            stmt = stmt.where(grants_t.c.user_id == user_id)
        if states is not None:
            stmt = stmt.where(grants_t.c.state.in_([str(s) for s in states]))
        if customer is not None:
            stmt = stmt.where(grants_t.c.customer == customer)
        async with self._engine.connect() as conn:
            return [grant_from_row(r) for r in (await conn.execute(stmt)).mappings()]

    async def get_request(self, request_id: int) -> AccessRequest | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(requests_t).where(requests_t.c.id == request_id))).mappings().first()
            return request_from_row(row) if row else None

    async def get_grant(self, grant_id: int) -> Grant | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(grants_t).where(grants_t.c.id == grant_id))).mappings().first()
            return grant_from_row(row) if row else None

    async def count_grants(self) -> dict[GrantState, int]:
        stmt = select(grants_t.c.state, func.count()).group_by(grants_t.c.state)
        async with self._engine.connect() as conn:
            return {GrantState(state): count for state, count in (await conn.execute(stmt)).all()}

    async def audit_events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        customer: str | None = None,
        user: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[StoredAuditEvent]:
        conditions: list[Any] = []
        if since is not None:
            conditions.append(audit_t.c.at >= since)
        if until is not None:
            conditions.append(audit_t.c.at < until)
        if customer is not None:
            conditions.append(audit_t.c.customer == customer)
        if user is not None:
            # the actor, or the subject (recorded in details) — matched on id or UPN
            pattern_id = f'%"subject_id": {json.dumps(user)}%'
            pattern_upn = f'%"subject": {json.dumps(user)}%'
            conditions.append(
                or_(
                    audit_t.c.actor_id == user,
                    func.lower(audit_t.c.actor_name) == user.lower(),
                    audit_t.c.details.like(pattern_id),
                    func.lower(audit_t.c.details).like(pattern_upn.lower()),
                )
            )
        last = 0
        while True:  # keyset pages, so a large trail streams without holding a connection long
            stmt = select(audit_t).where(and_(audit_t.c.seq > last, *conditions)).order_by(audit_t.c.seq)
            async with self._engine.connect() as conn:
                rows = list((await conn.execute(stmt.limit(page_size))).mappings())
            for row in rows:
                yield audit_from_row(row)
            if len(rows) < page_size:
                return
            last = rows[-1]["seq"]

    async def audit_head(self) -> tuple[int, str]:
        """(last seq, last hash) of the chain."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(head_t).where(head_t.c.id == 1))).mappings().first()
            return (row["seq"], row["hash"]) if row else (0, GENESIS)

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(select(1))

    async def delete_everything(self) -> None:
        """Tests only: empty every table of the core (the schema stays)."""
        async with self._engine.begin() as conn:
            for table in (approvals_t, audit_t, head_t, grants_t, requests_t):
                await conn.execute(delete(table))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
