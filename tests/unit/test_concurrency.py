"""Replays and races: double clicks, concurrent approvers, and two schedulers sharing one database.

Run on SQLite and on PostgreSQL (the `engine` fixture is parametrized)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import build_world, clone_engine, customer, seed_active_grants
from workflows.audit_chain import verify_chain
from workflows.events import RequestApproved
from workflows.model import GrantState, Person, RequestState, Surface
from workflows.scheduler import Scheduler, SchedulerSettings


async def test_double_submitted_approvals_grant_once(engine: AsyncEngine) -> None:
    world = build_world(engine)
    eve, alice, bob = await world.person("eve"), await world.person("alice"), await world.person("bob")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    clicks = [alice] * 5 + [bob] * 5  # double clicks, Slack retries, two approvers at once
    decisions = await asyncio.gather(
        *(world.service.approve(outcome.request.id, who, surface=Surface.SLACK) for who in clicks)
    )
    assert sum(d.changed for d in decisions) == 1
    assert all(d.request.state is RequestState.APPROVED for d in decisions)
    assert len(world.notifier.of(RequestApproved)) == 1
    await world.run_due()
    assert len(await world.store.list_grants()) == 1
    assert len(await world.directory.calls("add_member")) == 1


async def test_concurrent_requests_make_one_pending_request(engine: AsyncEngine) -> None:
    world = build_world(engine)
    eve = await world.person("eve")
    outcomes = await asyncio.gather(
        *(world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK) for _ in range(6))
    )
    assert sum(o.created for o in outcomes) == 1
    assert len({o.request.id for o in outcomes}) == 1


async def test_two_approvers_racing_with_two_required(engine: AsyncEngine) -> None:
    world = build_world(engine, [customer(approvals_required=2)])
    eve, alice, bob = await world.person("eve"), await world.person("alice"), await world.person("bob")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    await asyncio.gather(*(world.service.approve(outcome.request.id, p, surface=Surface.SLACK) for p in (alice, bob)))
    request = await world.store.get_request(outcome.request.id)
    assert request.state is RequestState.APPROVED  # nobody's approval was lost in the race
    assert len(await world.store.list_grants()) == 1


async def test_two_schedulers_expire_200_grants_each_exactly_once(engine: AsyncEngine) -> None:
    first = build_world(engine)
    people: list[Person] = [await first.directory.add_user(f"user{i:03d}@contoso.example") for i in range(200)]
    now = first.clock.now()
    await seed_active_grants(first.store, people, ends_at=now)
    for person in people:
        await first.directory.add_member("group-customer-x", person.id)

    other_engine = await clone_engine(engine)
    try:
        second = build_world(other_engine, clock=first.clock)
        settings = SchedulerSettings(lease_seconds=60, batch_size=40, poll_seconds=0.01)
        schedulers = [Scheduler(first.deps, settings, "replica-a"), Scheduler(second.deps, settings, "replica-b")]
        done = await asyncio.gather(*(s.run_until_idle() for s in schedulers))
        assert all(n > 0 for n in done), f"both replicas should have taken a share: {done}"
    finally:
        await other_engine.dispose()

    grants = await first.store.list_grants()
    assert Counter(g.state for g in grants) == {GrantState.EXPIRED: 200}
    removes = Counter(c["subject"] for c in await first.directory.calls("remove_member"))
    sessions = Counter(c["subject"] for c in await first.directory.calls("revoke_sign_in_sessions"))
    network = Counter(c["subject"] for c in await first.directory.calls("revoke_user"))
    assert removes == {p.id: 1 for p in people}
    assert sessions == {p.id: 1 for p in people}
    assert network == {p.email: 1 for p in people}
    assert await first.directory.members("group-customer-x") == set()
    events = [e async for e in first.store.audit_events()]
    assert verify_chain(events) is None
    assert Counter(e.record.action for e in events)["grant.expired"] == 200


async def test_a_stuck_chat_front_end_does_not_hold_up_expiries(sqlite_engine: AsyncEngine) -> None:
    class StuckNotifier:
        """A front end waiting out a very long Retry-After."""

        def __init__(self) -> None:
            self.release = asyncio.Event()
            self.seen: list[object] = []

        async def publish(self, event: object) -> None:
            self.seen.append(event)
            await self.release.wait()

    world = build_world(sqlite_engine)
    stuck = StuckNotifier()
    world.deps.notifier = stuck  # type: ignore[assignment]
    now = world.clock.now()
    people = [await world.directory.add_user(f"user{i}@contoso.example") for i in range(2)]
    await seed_active_grants(world.store, people, ends_at=[now + timedelta(minutes=i * 5) for i in range(2)])
    stop = asyncio.Event()
    loop = asyncio.create_task(world.scheduler.run_forever(stop))
    for _ in range(200):
        if (await world.store.get_grant(1)).state is GrantState.EXPIRED and stuck.seen:
            break
        await asyncio.sleep(0.02)
    world.clock.advance(timedelta(minutes=5))  # the second grant's end comes while delivery is stuck
    world.scheduler.wake()
    for _ in range(200):
        if (await world.store.get_grant(2)).state is GrantState.EXPIRED:
            break
        await asyncio.sleep(0.02)
    assert (await world.store.get_grant(2)).state is GrantState.EXPIRED
    assert len(stuck.seen) == 1  # still stuck on the first notice
    stuck.release.set()
    stop.set()
    await loop
    assert [e.grant.id for e in stuck.seen] == [1, 2]  # type: ignore[attr-defined]  # in order, none lost


async def test_a_slow_batch_keeps_its_leases(engine: AsyncEngine) -> None:
    """A batch slower than the lease (Graph throttling) is not taken over by another replica meanwhile."""
    from adapters.sandbox import SandboxDirectory
    from workflows.ports import BulkResult, MembershipChange

    class SlowDirectory(SandboxDirectory):
        async def remove_members(self, changes: list[MembershipChange]) -> BulkResult:  # type: ignore[override]
            await asyncio.sleep(1.2)  # four lease lengths
            return await super().remove_members(changes)

    first = build_world(engine, directory=SlowDirectory(engine))
    now = first.clock.now()
    people = [await first.directory.add_user(f"user{i}@contoso.example") for i in range(3)]
    await seed_active_grants(first.store, people, ends_at=now)
    slow = Scheduler(first.deps, SchedulerSettings(lease_seconds=0.3, batch_size=10), "slow-replica")
    other_engine = await clone_engine(engine)
    try:
        second = build_world(other_engine, clock=first.clock)
        eager = Scheduler(second.deps, SchedulerSettings(lease_seconds=0.3, batch_size=10), "eager-replica")
        batch = asyncio.create_task(slow.run_once())
        stolen = 0
        while not batch.done():
            stolen += await eager.run_once()
            await asyncio.sleep(0.05)
        assert await batch == 3
    finally:
        await other_engine.dispose()
    assert stolen == 0
    assert Counter(c["subject"] for c in await first.directory.calls("remove_member")) == {p.id: 1 for p in people}
    assert {g.state for g in await first.store.list_grants()} == {GrantState.EXPIRED}
