"""Teams end to end, through the real `accessbot serve` process in production mode: Microsoft
Graph, the Entra token endpoint, Cloudflare, the Bot Connector and the Bot Framework's
OpenID/JWKS are local fakes over real TLS; every activity carries a real RS256 token signed by
a key generated here and validated by botbuilder against the fake JWKS."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.store.engine import create_engine
from adapters.store.repository import SqlStore
from tests.e2e.process import accessbot_executable, clean_env, free_port, stop, wait_healthy
from tests.fakes.cloudflare_server import FakeCloudflareServer
from tests.fakes.connector_server import ConnectorCall, FakeConnectorServer
from tests.fakes.fixtures import EntraSettings
from tests.fakes.graph_server import FakeGraphServer
from tests.fakes.openid_server import FakeOpenIdServer, new_key
from tests.fakes.token_server import AppRegistration, FakeTokenServer
from tests.teams.activities import TeamsUser, Tenant
from tests.teams.harness import card_text
from tests.teams.test_cards import assert_valid_card
from workflows.model import GrantState, RequestState

pytestmark = pytest.mark.slow

APPROVALS = "19:e2eapprovals0123456789@thread.tacv2"
ROUTE = "/api/messages"


@dataclass
class Bot:
    """The running `accessbot serve` and everything around it."""

    port: int
    process: subprocess.Popen[bytes]
    database_url: str
    app_id: str
    openid: FakeOpenIdServer
    connector: FakeConnectorServer
    graph: FakeGraphServer
    tenant: Tenant
    log: Path

    async def post(self, activity: dict[str, Any], token: str | None = "valid") -> tuple[int, Any]:
        headers = {}
        if token == "valid":
            token = self.openid.token(self.app_id, activity["serviceUrl"])
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{self.port}{ROUTE}", json=activity, headers=headers) as response,
        ):
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def wait(self, predicate: Callable[[ConnectorCall], bool], timeout: float = 60) -> ConnectorCall:
        try:
            return await self.connector.wait_for(predicate, timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- bot log ---\n{self.log.read_text()[-6000:]}") from None

    async def store(self) -> tuple[list[Any], list[Any]]:
        engine = create_engine(self.database_url)
        try:
            store = SqlStore(engine)
            return await store.list_requests(), await store.list_grants()
        finally:
            await engine.dispose()


def _config(group_id: str) -> str:
    return f"""
[bot]
timezone = "Europe/Prague"

[defaults]
min_duration = "30s"
default_duration = "1h"
max_duration = "4h"

[customers.customer-x]
display_name = "Customer X"
aliases = ["cx"]
group_id = "{group_id}"
approvers = ["alice@contoso.example"]
approval_channel = {{ teams = "{APPROVALS}" }}

[scheduler]
reminder_before_end = "20s"
"""


@pytest.fixture
async def bot(
    tmp_path: Path,
    entra_settings: EntraSettings,
    graph_server: FakeGraphServer,
    token_server: FakeTokenServer,
    cloudflare_env: dict[str, str],
    openid_server: FakeOpenIdServer,
    connector_server: FakeConnectorServer,
    bot_app: AppRegistration,
) -> AsyncIterator[Bot]:
    assert bot_app.secret is not None
    openid_server.issuer = f"{openid_server.origin}/issuer"  # not the public one: the setting is used
    group = graph_server.add_group("customer-x network")
    config = tmp_path / "accessbot.toml"
    config.write_text(_config(group))
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}"
    env = clean_env(
        tmp_path,
        **entra_settings.as_env(),
        **cloudflare_env,
        ACCESSBOT_CONFIG=str(config),
        DATABASE_URL=database_url,
        SSL_CERT_FILE=str(token_server.tls.ca_bundle),
        REQUESTS_CA_BUNDLE=str(token_server.tls.ca_bundle),
        MICROSOFT_APP_ID=bot_app.client_id,
        MICROSOFT_APP_PASSWORD=bot_app.secret,
        BOTFRAMEWORK_OPENID_METADATA_URL=openid_server.metadata_url,
        BOTFRAMEWORK_TOKEN_ISSUER=openid_server.issuer,
        BOTFRAMEWORK_LOGIN_URL=f"{token_server.origin}/{token_server.tenant_id}",
        BOTFRAMEWORK_OAUTH_SCOPE=connector_server.audience,
        ACCESSBOT_SCHEDULER_POLL_SECONDS="0.2",
        LOG_LEVEL="INFO",
    )
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [accessbot_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # off the event loop: the fakes the bot talks to while starting are served by this loop
        await asyncio.to_thread(wait_healthy, port, process)
        yield Bot(
            port, process, database_url, bot_app.client_id, openid_server, connector_server, graph_server,
            Tenant(connector_server.service_url, connector_server.tenant_id, bot_id=f"28:{bot_app.client_id}"), log,
        )  # fmt: skip
    finally:
        await asyncio.to_thread(stop, process)


def _people(bot: Bot) -> dict[str, TeamsUser]:
    people = {}
    for name in ("eve", "alice", "mallory"):
        upn = f"{name}@contoso.example"
        user = TeamsUser(bot.graph.add_user(upn, upn, display_name=name.title()), name.title())
        bot.connector.add_user(user.id, user.aad_object_id, user.name, upn)
        people[name] = user
    return people


async def test_request_to_expiry_through_the_real_process(
    bot: Bot, cloudflare_server: FakeCloudflareServer, token_server: FakeTokenServer
) -> None:
    people = _people(bot)
    eve, alice, mallory = people["eve"], people["alice"], people["mallory"]
    group = next(iter(bot.graph.groups))
    eve_chat = f"a:{uuid.uuid4().hex}"
    bot.connector.add_personal_chat(eve_chat, eve.id)
    bot.connector.add_channel(APPROVALS)  # the bot is in the team, but has never seen this channel

    # 1. the requester asks in their personal chat
    status, _ = await bot.post(bot.tenant.personal_message(eve, eve_chat, "access customer-x 30s e2e check"))
    assert status == 201
    reply = await bot.wait(lambda c: c.kind == "reply" and c.conversation_id == eve_chat)
    assert "Request #1" in reply.text
    assert reply.authorization and reply.authorization.startswith("Bearer ")  # a real token from the fake Entra

    # 2. the approval card, in a new thread of the approval channel (created: no reference yet)
    posted = await bot.wait(lambda c: c.kind == "create" and c.conversation_id.startswith(APPROVALS))
    assert posted.card is not None
    assert_valid_card(posted.card)
    assert [a["title"] for a in posted.card["actions"]] == ["Approve", "Deny"]
    assert "eve@contoso.example" in card_text(posted.card) and "30s" in card_text(posted.card)

    # 3. a non-approver: refused, for them only; nothing changes
    status, body = await bot.post(
        bot.tenant.invoke(mallory, posted.conversation_id, posted.activity_id, "approve", {"request_id": 1})
    )
    assert status == 200 and body["statusCode"] == 200
    assert "You cannot decide this request" in card_text(body["value"])
    assert bot.graph.operation_count("POST", "/members/$ref") == 0
    assert not bot.connector.find("update")

    # 4. the approver: decided, the card is replaced for everyone, the Graph add happens
    status, body = await bot.post(
        bot.tenant.invoke(alice, posted.conversation_id, posted.activity_id, "approve", {"request_id": 1})
    )
    assert status == 200
    assert_valid_card(body["value"])
    assert "Approved by alice@contoso.example" in card_text(body["value"])
    update = await bot.wait(lambda c: c.kind == "update" and c.activity_id == posted.activity_id)
    assert "Approved by alice@contoso.example" in card_text(update.card) and "actions" not in (update.card or {})

    granted = await bot.wait(lambda c: c.conversation_id == eve_chat and "is active" in card_text(c.card))
    assert eve.aad_object_id in bot.graph.members(group)
    assert "End access now" in [a["title"] for a in (granted.card or {}).get("actions", [])]

    # a double click of the approver: the same answer, one decision, one Graph add
    status, body = await bot.post(
        bot.tenant.invoke(alice, posted.conversation_id, posted.activity_id, "approve", {"request_id": 1})
    )
    assert status == 200 and "Approved by alice@contoso.example" in card_text(body["value"])
    assert bot.graph.operation_count("POST", "/members/$ref") == 1

    # 5. 20 s before the end: a notice with Extend; at the end: removal, revocation, a notice
    soon = await bot.wait(lambda c: c.conversation_id == eve_chat and "ends in" in card_text(c.card))
    assert "Extend" in [a["title"] for a in (soon.card or {}).get("actions", [])]
    ended = await bot.wait(lambda c: c.conversation_id == eve_chat and "expired" in card_text(c.card), timeout=90)
    assert "group membership removed" in card_text(ended.card)
    assert eve.aad_object_id not in bot.graph.members(group)
    assert bot.graph.users[eve.aad_object_id].revocations == 1
    assert cloudflare_server.revocations == {"eve@contoso.example": 1}
    requests, grants = await bot.store()
    assert [r.state for r in requests] == [RequestState.APPROVED]
    assert [g.state for g in grants] == [GrantState.EXPIRED]
    # every outbound connector call carried a token the fake Entra issued to the bot
    assert all(c.authorization for c in bot.connector.calls)
    assert token_server.tokens_issued >= 1


async def test_only_correctly_signed_activities_are_accepted(bot: Bot) -> None:
    people = _people(bot)
    eve = people["eve"]
    chat = f"a:{uuid.uuid4().hex}"
    bot.connector.add_personal_chat(chat, eve.id)
    activity = bot.tenant.personal_message(eve, chat, "access customer-x 1h")
    service_url = activity["serviceUrl"]
    bad = {
        "missing token": None,
        "another key": bot.openid.token(bot.app_id, service_url, key=new_key()),
        "another key, unknown kid": bot.openid.token(bot.app_id, service_url, key=new_key(), kid="other"),
        "wrong audience": bot.openid.token(bot.app_id, service_url, audience=str(uuid.uuid4())),
        "expired": bot.openid.token(bot.app_id, service_url, issued_ago=7200, lifetime=3600),
        "serviceurl claim differs": bot.openid.token(bot.app_id, "https://smba.trafficmanager.net/emea/"),
        "wrong issuer": bot.openid.token(bot.app_id, service_url, issuer="https://api.botframework.com"),
        "not a JWT": "garbage",
    }
    for case, token in bad.items():
        status, _ = await bot.post(activity, token=token)
        assert status == 401, case
    # an invoke without a valid token is refused the same way
    invoke = bot.tenant.invoke(eve, chat, "1", "approve", {"request_id": 1})
    assert (await bot.post(invoke, token=None))[0] == 401
    assert bot.connector.calls == []
    assert await bot.store() == ([], [])

    status, _ = await bot.post(activity)
    assert status == 201
    reply = await bot.wait(lambda c: c.kind == "reply" and c.conversation_id == chat)
    assert "Request #1" in reply.text
    requests, _ = await bot.store()
    assert [r.requester.upn for r in requests] == ["eve@contoso.example"]


async def test_a_requester_without_a_personal_chat_is_reached_by_creating_one(bot: Bot) -> None:
    people = _people(bot)
    eve, alice = people["eve"], people["alice"]
    bot.connector.add_channel(APPROVALS)
    # eve asks in a channel (mention), so the bot has no personal chat with her
    team = "19:e2eteam0123456789@thread.tacv2"
    bot.connector.add_channel(team)
    status, _ = await bot.post(bot.tenant.channel_message(eve, team, team, "access cx 1h from the channel"))
    assert status == 201
    await bot.wait(lambda c: c.kind == "reply" and c.conversation_id.startswith(team))
    posted = await bot.wait(lambda c: c.kind == "create" and c.conversation_id.startswith(APPROVALS))
    status, _ = await bot.post(
        bot.tenant.invoke(alice, posted.conversation_id, posted.activity_id, "approve", {"request_id": 1})
    )
    assert status == 200
    created = await bot.wait(lambda c: c.kind == "create" and not c.conversation_id.startswith("19:"))
    assert created.body["members"] == [{"id": eve.id}]
    assert created.body["channelData"]["tenant"]["id"] == bot.tenant.tenant_id
    notice = await bot.wait(lambda c: c.kind == "send" and c.conversation_id == created.conversation_id)
    assert "is active" in card_text(notice.card)
