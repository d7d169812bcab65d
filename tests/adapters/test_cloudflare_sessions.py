"""CloudflareSessions against the fake Cloudflare API over real httpx and TLS."""

from __future__ import annotations

import pytest

from adapters.cloudflare import CloudflareError, CloudflareSessions
from adapters.http_retry import RetryPolicy
from tests.contract.directory_contract import NetworkSessionsContract
from tests.fakes.cloudflare_server import FakeCloudflareServer, FakeToken
from tests.fakes.fixtures import FAST_RETRY
from workflows.errors import ConfigError, SessionRevocationError


class CloudflareHarness:
    def __init__(self, sessions: CloudflareSessions, server: FakeCloudflareServer) -> None:
        self.sessions = sessions
        self.server = server

    async def revocations(self, email: str) -> int:
        return self.server.revocations.get(email, 0)


@pytest.fixture
def net_harness(cloudflare_sessions: CloudflareSessions, cloudflare_server: FakeCloudflareServer) -> CloudflareHarness:
    return CloudflareHarness(cloudflare_sessions, cloudflare_server)


class TestCloudflareSessionsContract(NetworkSessionsContract):
    """The shared NetworkSessions contract, run on the Cloudflare API."""


def _sessions(server: FakeCloudflareServer, token: FakeToken | str, **kwargs: object) -> CloudflareSessions:
    value = token.value if isinstance(token, FakeToken) else token
    options: dict[str, object] = {"retry": FAST_RETRY, **kwargs}
    return CloudflareSessions(api_token=value, account_id=server.account_id, base_url=server.base_url, **options)  # type: ignore[arg-type]


async def test_sends_the_configured_revocation_options(
    cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken
) -> None:
    cloudflare_server.active_sessions.add("ada@contoso.example")
    async with _sessions(cloudflare_server, cloudflare_token, devices=True, warp_session_reauth=False) as sessions:
        await sessions.revoke_user("ada@contoso.example")
    assert cloudflare_server.revoke_bodies == [
        {"email": "ada@contoso.example", "devices": True, "warp_session_reauth": False}
    ]
    assert "ada@contoso.example" not in cloudflare_server.active_sessions


async def test_defaults_force_warp_reauth(
    cloudflare_sessions: CloudflareSessions, cloudflare_server: FakeCloudflareServer
) -> None:
    await cloudflare_sessions.revoke_user("bob@contoso.example")
    assert cloudflare_server.revoke_bodies[0]["warp_session_reauth"] is True


async def test_disabled_without_token_is_a_no_op(cloudflare_server: FakeCloudflareServer) -> None:
    sessions = CloudflareSessions(api_token=None, account_id=None, base_url=cloudflare_server.base_url)
    assert sessions.enabled is False
    await sessions.revoke_user("ghost@contoso.example")
    assert cloudflare_server.count() == 0
    assert (await sessions.verify_token()).ok is False


def test_token_without_account_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CLOUDFLARE_ACCOUNT_ID"):
        CloudflareSessions(api_token="t", account_id=None)
    assert "supersecret" not in repr(CloudflareSessions(api_token="supersecret", account_id="a"))


async def test_throttled_then_succeeds_once(
    cloudflare_sessions: CloudflareSessions, cloudflare_server: FakeCloudflareServer
) -> None:
    cloudflare_server.faults.push(429, retry_after=1)
    cloudflare_server.faults.push(502)
    await cloudflare_sessions.revoke_user("slow@contoso.example")
    assert cloudflare_server.revocations == {"slow@contoso.example": 1}
    assert [r.status for r in cloudflare_server.requests] == [429, 502, 200]


async def test_refusal_is_permanent_and_keeps_cloudflare_error(cloudflare_server: FakeCloudflareServer) -> None:
    weak = cloudflare_server.add_token(permissions=frozenset())
    async with _sessions(cloudflare_server, weak) as sessions:
        with pytest.raises(SessionRevocationError) as caught:
            await sessions.revoke_user("ada@contoso.example")
    assert caught.value.transient is False
    assert "10000" in str(caught.value) and "cf-ray" in str(caught.value)
    assert weak.value not in str(caught.value)


async def test_outage_beyond_budget_is_transient(
    cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken
) -> None:
    cloudflare_server.faults.push(503, seconds=30)
    retry = RetryPolicy(budget=0.3, wait_initial=0.02, wait_max=0.05)
    async with _sessions(cloudflare_server, cloudflare_token, retry=retry) as sessions:
        with pytest.raises(SessionRevocationError) as caught:
            await sessions.revoke_user("ada@contoso.example")
    assert caught.value.transient is True
    cloudflare_server.faults.clear()


async def test_verify_account_and_user_tokens(
    cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken
) -> None:
    async with _sessions(cloudflare_server, cloudflare_token) as sessions:
        status = await sessions.verify_token()
    assert status.ok and status.owner == "account"

    user_token = cloudflare_server.add_token(owner="user")
    async with _sessions(cloudflare_server, user_token) as sessions:
        status = await sessions.verify_token()
    assert status.ok and status.owner == "user"

    async with _sessions(cloudflare_server, "not-a-token") as sessions:
        status = await sessions.verify_token()
    assert not status.ok and "Invalid API Token" in status.detail


async def test_lists_gateway_rules(
    cloudflare_sessions: CloudflareSessions, cloudflare_server: FakeCloudflareServer
) -> None:
    cloudflare_server.add_rule(name="cx", traffic='net.vnet_id == "v1"', identity='identity.groups.id == "g1"')
    rules = await cloudflare_sessions.list_gateway_rules()
    assert [(r.name, r.filters, r.enabled) for r in rules] == [("cx", ("l4",), True)]


async def test_wrong_account_is_an_error(cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken) -> None:
    sessions = CloudflareSessions(
        api_token=cloudflare_token.value, account_id="0" * 32, base_url=cloudflare_server.base_url, retry=FAST_RETRY
    )
    async with sessions:
        with pytest.raises(CloudflareError) as caught:
            await sessions.list_gateway_rules()
    assert caught.value.status == 403 and caught.value.transient is False
