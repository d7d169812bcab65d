"""The Store contract, run on SQLite and on PostgreSQL (the `engine` fixture is parametrized)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from adapters.store.migrate import is_current
from adapters.store.repository import SqlStore
from workflows.audit_chain import verify_chain
from workflows.errors import StaleState
from workflows.model import (
    AccessRequest,
    Actor,
    Approval,
    AuditRecord,
    ChatAddress,
    EndReason,
    Grant,
    GrantState,
    Person,
    RequestCommand,
    RequestKind,
    RequestState,
    RevocationStep,
    Surface,
)

T0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC)
EVE = Person("00000000-0000-0000-0000-00000000e5e0", "eve@contoso.example", "eve@contoso.example", "Eve", False)
ALICE = Person("00000000-0000-0000-0000-0000000a11ce", "alice@contoso.example", "alice@contoso.example", "Alice")


def new_request(person: Person = EVE, customer: str = "customer-x") -> AccessRequest:
    return AccessRequest(
        id=None,
        kind=RequestKind.ACCESS,
        customer=customer,
        requester=person,
        duration=timedelta(hours=1),
        reason="patching «core» router; it's urgent",
        state=RequestState.PENDING,
        created_at=T0,
        timeout_at=T0 + timedelta(hours=2),
        origin=ChatAddress(Surface.SLACK, "U123"),
        next_reminder_at=T0 + timedelta(minutes=15),
    )


def new_grant(grant_id: int, person: Person = EVE, customer: str = "customer-x", due: datetime = T0) -> Grant:
    return Grant(
        id=grant_id,
        customer=customer,
        group_id="group-x",
        person=person,
        duration=timedelta(hours=1),
        state=GrantState.GRANTING,
        created_at=T0,
        approved_by=("alice@contoso.example",),
        retry_at=due,
        details={"note": "x"},
    )


def record(action: str = "test.event", **details: object) -> AuditRecord:
    return AuditRecord(at=T0, actor=Actor.system(), surface=Surface.CLI, action=action, details=details)


async def add_request(store: SqlStore, request: AccessRequest | None = None) -> AccessRequest:
    async with store.transaction() as tx:
        return await tx.add_request(request or new_request())


async def test_migrations_are_current_and_match_the_tables(engine: AsyncEngine) -> None:
    assert await is_current(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )
    assert diff == []


async def test_request_round_trip_and_compare_and_swap(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    request = await add_request(store)
    assert request.id is not None and request.version == 0
    loaded = await store.get_request(request.id)
    assert loaded == request  # every field survives, time zones and microseconds included

    async with store.transaction() as tx:
        current = await tx.get_request(request.id)
        current.transition(RequestCommand.DENY)
        await tx.save_request(current)
    assert (await store.get_request(request.id)).version == 1

    stale = loaded  # still version 0
    stale.decision_note = "should not be written"
    with pytest.raises(StaleState):
        async with store.transaction() as tx:
            await tx.save_request(stale)
    assert (await store.get_request(request.id)).decision_note == ""


async def test_one_pending_request_per_person_and_customer(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    await add_request(store)
    with pytest.raises(StaleState):
        await add_request(store)
    other = await add_request(store, new_request(customer="customer-y"))
    assert other.id is not None
    assert len(await store.list_requests(user_id=EVE.id)) == 2


async def test_grant_round_trip_cas_and_one_live_grant(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    async with store.transaction() as tx:
        await tx.add_grant(new_grant(7))
    loaded = await store.get_grant(7)
    assert loaded == new_grant(7)
    with pytest.raises(StaleState):
        async with store.transaction() as tx:
            await tx.add_grant(new_grant(8))  # same person and customer, still live
    async with store.transaction() as tx:
        grant = await tx.get_grant(7)
        grant.state, grant.end_reason = GrantState.REVOKING, EndReason.REVOKED
        grant.steps_done = frozenset({RevocationStep.REMOVE_MEMBERSHIP})
        await tx.save_grant(grant)
    with pytest.raises(StaleState):
        async with store.transaction() as tx:
            await tx.save_grant(loaded)  # version 0 is stale now
    again = await store.get_grant(7)
    assert again.steps_done == {RevocationStep.REMOVE_MEMBERSHIP} and again.version == 1
    async with store.transaction() as tx:
        found = await tx.find_live_grant(EVE.id, "customer-x")
    assert found is not None and found.id == 7


async def test_approvals_are_once_per_approver(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    request = await add_request(store)
    async with store.transaction() as tx:
        assert await tx.add_approval(Approval(request.id, ALICE, T0)) is True
        assert await tx.add_approval(Approval(request.id, ALICE, T0)) is False
        assert [a.approver.upn for a in await tx.approvals(request.id)] == [ALICE.upn]


async def test_audit_commits_with_the_change_and_rolls_back_with_it(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.add_request(new_request())
            tx.audit(record("request.submitted"))
            raise RuntimeError("crash before commit")
    assert await store.list_requests() == []
    assert [e async for e in store.audit_events()] == []
    async with store.transaction() as tx:
        await tx.add_request(new_request())
        tx.audit(record("request.submitted", reason="x"))
    events = [e async for e in store.audit_events()]
    assert [(e.seq, e.record.action) for e in events] == [(1, "request.submitted")]


async def test_audit_chain_is_linear_under_concurrency(engine: AsyncEngine) -> None:
    store = SqlStore(engine)

    async def append(i: int) -> None:
        async with store.transaction() as tx:
            tx.audit(record("concurrent", i=i))
            tx.audit(record("concurrent.second", i=i))

    await asyncio.gather(*(append(i) for i in range(20)))
    events = [e async for e in store.audit_events()]
    assert [e.seq for e in events] == list(range(1, 41))
    assert verify_chain(events) is None
    assert (await store.audit_head()) == (40, events[-1].hash)


async def test_audit_filters(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    async with store.transaction() as tx:
        tx.audit(AuditRecord(T0, ALICE.as_actor(), Surface.SLACK, "a", customer="customer-x", details={}))
        tx.audit(
            AuditRecord(
                T0 + timedelta(hours=1), Actor.system(), Surface.SCHEDULER, "b", customer="customer-y",
                details={"subject": EVE.upn, "subject_id": EVE.id},
            )
        )  # fmt: skip
    assert [e.record.action async for e in store.audit_events(customer="customer-y")] == ["b"]
    assert [e.record.action async for e in store.audit_events(user=EVE.upn)] == ["b"]
    assert [e.record.action async for e in store.audit_events(user=EVE.id)] == ["b"]
    assert [e.record.action async for e in store.audit_events(user=ALICE.id)] == ["a"]
    assert [e.record.action async for e in store.audit_events(since=T0 + timedelta(minutes=1))] == ["b"]
    assert [e.record.action async for e in store.audit_events(until=T0 + timedelta(minutes=1))] == ["a"]


async def test_claims_only_due_work_and_leases_it(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    people = [Person(f"id-{i}", f"u{i}@x.example", f"u{i}@x.example") for i in range(3)]
    async with store.transaction() as tx:
        await tx.add_grant(new_grant(1, people[0], due=T0))
        await tx.add_grant(new_grant(2, people[1], due=T0 + timedelta(minutes=5)))
        await tx.add_grant(new_grant(3, people[2], due=T0 - timedelta(minutes=5)))
    assert await store.next_due() == T0 - timedelta(minutes=5)
    assert await store.oldest_due(T0) == T0 - timedelta(minutes=5)
    claimed = await store.claim_due_grants(T0, "a", 0.5, 10)
    assert [g.id for g in claimed] == [3, 1]
    assert await store.claim_due_grants(T0, "b", 0.5, 10) == []  # leased
    await store.release("grant", 3, "b")  # not b's lease: no effect
    assert await store.claim_due_grants(T0, "b", 0.5, 10) == []
    await store.release("grant", 3, "a")
    assert [g.id for g in await store.claim_due_grants(T0, "b", 0.5, 10)] == [3]
    await asyncio.sleep(0.6)  # a's lease on grant 1 runs out, as if a had been killed
    assert {g.id for g in await store.claim_due_grants(T0, "c", 30, 10)} == {1, 3}


async def test_concurrent_claimers_get_disjoint_work(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    async with store.transaction() as tx:
        for i in range(60):
            await tx.add_grant(new_grant(i + 1, Person(f"id-{i}", f"u{i}@x.example", f"u{i}@x.example")))
    batches = await asyncio.gather(*(store.claim_due_grants(T0, f"w{i}", 30, 7) for i in range(12)))
    ids = [g.id for batch in batches for g in batch]
    assert len(ids) == len(set(ids)) == 60


async def test_pending_requests_are_claimed_at_their_reminder_or_timeout(engine: AsyncEngine) -> None:
    store = SqlStore(engine)
    request = await add_request(store)
    assert await store.claim_due_requests(T0, "a", 30, 10) == []
    due = await store.claim_due_requests(T0 + timedelta(minutes=15), "a", 30, 10)
    assert [r.id for r in due] == [request.id]
