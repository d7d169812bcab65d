"""The fakes' own checker: a request the real service would reject is caught and recorded.

These tests talk to the fakes with a bare httpx client (trusting the fake CA the same way
the adapters do) and take the recorded violations themselves, so the fixtures' teardown
check stays green.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.cloudflare_server import FakeCloudflareServer, FakeToken
from tests.fakes.graph_server import FakeGraphServer
from tests.fakes.token_server import AppRegistration, FakeTokenServer


@pytest.fixture
async def graph_client(
    token_server: FakeTokenServer, graph_server: FakeGraphServer, graph_app: AppRegistration
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            token_server.token_endpoint(),
            data={
                "grant_type": "client_credentials",
                "client_id": graph_app.client_id,
                "client_secret": graph_app.secret,
                "scope": f"{graph_server.origin}/.default",
            },
        )
        response.raise_for_status()
        token = response.json()["access_token"]
    client = httpx.AsyncClient(base_url=graph_server.graph_url, headers={"Authorization": f"Bearer {token}"})
    async with client:
        yield client


async def test_delete_member_without_ref_is_caught(
    graph_client: httpx.AsyncClient, graph_server: FakeGraphServer
) -> None:
    group = graph_server.add_group("g")
    user = graph_server.add_user("u@contoso.example")
    graph_server.groups[group].members.add(user)
    response = await graph_client.delete(f"/groups/{group}/members/{user}")
    assert response.status_code >= 400
    assert response.json()["error"]["innerError"]["request-id"] == response.headers["request-id"]
    assert graph_server.members(group) == {user}  # nothing was deleted
    assert any("no such operation" in v for v in graph_server.take_violations())


async def test_graph_checks_bodies_queries_and_tokens(
    graph_client: httpx.AsyncClient, graph_server: FakeGraphServer
) -> None:
    group = graph_server.add_group("g")
    user = graph_server.add_user("u@contoso.example")

    await graph_client.post(f"/groups/{group}/members/$ref", json={"id": user})
    await graph_client.post(
        f"/groups/{group}/members/$ref", json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user}"}
    )
    await graph_client.get(f"/users/{user}", params={"$select": "id,favouriteColour"})
    await graph_client.patch(f"/groups/{group}", json={"displayName": "x"})
    await graph_client.post("/users/x/checkMemberGroups", json={})
    await graph_client.get("/users", headers={"Authorization": "Bearer forged"})
    violations = graph_server.take_violations()
    assert len(violations) == 6, violations
    assert graph_server.members(group) == set()


async def test_graph_batch_rules(graph_client: httpx.AsyncClient, graph_server: FakeGraphServer) -> None:
    user = graph_server.add_user("u@contoso.example")
    item = {"method": "POST", "url": f"/users/{user}/revokeSignInSessions"}
    too_many = await graph_client.post("/$batch", json={"requests": [{"id": str(i), **item} for i in range(21)]})
    duplicate = await graph_client.post("/$batch", json={"requests": [{"id": "1", **item}, {"id": "1", **item}]})
    assert too_many.status_code == 400 and duplicate.status_code == 400
    assert len(graph_server.take_violations()) == 2

    no_content_type = {"id": "1", "method": "POST", "url": f"/users/{user}/checkMemberGroups", "body": {"groupIds": []}}
    dependent = {"id": "2", "dependsOn": ["1"], **item}
    response = await graph_client.post("/$batch", json={"requests": [no_content_type, dependent]})
    statuses = {r["id"]: r["status"] for r in response.json()["responses"]}
    assert statuses == {"1": 400, "2": 424}
    assert len(graph_server.take_violations()) == 1
    assert graph_server.users[user].revocations == 0


async def test_graph_flags_retry_before_retry_after(
    graph_client: httpx.AsyncClient, graph_server: FakeGraphServer
) -> None:
    graph_server.faults.push(429, retry_after=30)
    first = await graph_client.get("/users")
    assert first.status_code == 429 and first.headers["Retry-After"] == "30"
    await graph_client.get("/users")
    assert any("before Retry-After" in v for v in graph_server.take_violations())


async def test_cloudflare_checks_requests(cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken) -> None:
    base = f"{cloudflare_server.base_url}/accounts/{cloudflare_server.account_id}"
    auth = {"Authorization": f"Bearer {cloudflare_token.value}"}
    async with httpx.AsyncClient() as client:
        no_email = await client.post(f"{base}/access/organizations/revoke_user", json={"devices": True}, headers=auth)
        no_auth = await client.post(f"{base}/access/organizations/revoke_user", json={"email": "a@b.example"})
        wrong_method = await client.delete(f"{base}/access/organizations/revoke_user", headers=auth)
        ok = await client.post(f"{base}/access/organizations/revoke_user", json={"email": "a@b.example"}, headers=auth)
    assert no_email.status_code == 400 and no_email.json()["success"] is False
    assert no_auth.status_code == 400
    assert wrong_method.status_code == 400
    assert ok.json() == {"success": True, "errors": [], "messages": [], "result": False}
    assert len(cloudflare_server.take_violations()) == 3
    assert cloudflare_server.revocations == {"a@b.example": 1}
