"""The core's lifecycle on the real adapters: GraphDirectory and CloudflareSessions talking through
msal, httpx and TLS to the fakes. Throttling and outages are absorbed; a wave of expiries is batched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cloudflare import CloudflareSessions
from adapters.http_retry import RetryPolicy
from tests.fakes.cloudflare_server import FakeCloudflareServer
from tests.fakes.fixtures import EntraSettings
from tests.fakes.graph_server import FakeGraphServer
from tests.support import World, build_world, customer, seed_active_grants
from workflows.model import GrantState, Person, Surface


@pytest.fixture
async def graph_world(
    sqlite_engine: AsyncEngine,
    graph_server: FakeGraphServer,
    entra_settings: EntraSettings,
    cloudflare_sessions: CloudflareSessions,
) -> AsyncIterator[tuple[World, str]]:
    group = graph_server.add_group("cf-customer-x")
    graph_server.add_user("alice@contoso.example", "alice@contoso.example")
    retry = RetryPolicy(budget=60, wait_initial=0.25, wait_max=1.0, wait_jitter=0.1)
    async with entra_settings.directory(retry=retry) as directory:
        world = build_world(
            sqlite_engine, [customer(group_id=group)], directory=directory, network=cloudflare_sessions  # type: ignore[arg-type]
        )
        yield world, group


async def test_grant_and_revocation_survive_throttling_then_outage(
    graph_world: tuple[World, str], graph_server: FakeGraphServer, cloudflare_server: FakeCloudflareServer
) -> None:
    world, group = graph_world
    eve_id = graph_server.add_user("eve@contoso.example", "eve@contoso.example")
    eve = await world.service.resolve_person("eve@contoso.example")
    alice = await world.service.resolve_person("alice@contoso.example")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)

    graph_server.faults.push(429, retry_after=2, times=3)
    graph_server.faults.push(503, seconds=5)
    await world.run_due()
    assert (await world.store.get_grant(outcome.request.id)).state is GrantState.ACTIVE
    assert graph_server.members(group) == {eve_id}

    graph_server.faults.push(429, retry_after=2, times=3)
    graph_server.faults.push(503, seconds=5)
    world.clock.advance(timedelta(hours=1))
    await world.run_due()
    grant = await world.store.get_grant(outcome.request.id)
    assert grant.state is GrantState.EXPIRED
    assert graph_server.members(group) == set()
    assert graph_server.groups[group].writes == 2  # one add, one removal: exactly once each
    assert graph_server.users[eve_id].revocations == 1
    assert cloudflare_server.count("POST", "revoke_user") == 1


async def test_a_wave_of_100_expiries_costs_at_most_10_graph_requests(
    graph_world: tuple[World, str], graph_server: FakeGraphServer
) -> None:
    world, group = graph_world
    now = world.clock.now()
    people = []
    for i in range(100):
        user_id = graph_server.add_user(f"eng{i:03d}@contoso.example", f"eng{i:03d}@contoso.example")
        graph_server.groups[group].members.add(user_id)
        people.append(Person(user_id, f"eng{i:03d}@contoso.example", f"eng{i:03d}@contoso.example"))
    await seed_active_grants(world.store, people, ends_at=now, group_id=group)
    before = len(graph_server.requests)
    await world.run_due()
    graph_requests = graph_server.requests[before:]
    assert len(graph_requests) <= 10, [(r.method, r.path) for r in graph_requests]
    assert {r.path for r in graph_requests} == {"/$batch"}
    assert graph_server.members(group) == set()
    assert all(graph_server.users[p.id].revocations == 1 for p in people)
    assert {g.state for g in await world.store.list_grants()} == {GrantState.EXPIRED}
