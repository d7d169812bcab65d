"""The fake Bot Connector's own checks: what the real connector would refuse is refused and recorded."""

from __future__ import annotations

import uuid

import httpx

from tests.fakes.connector_server import FakeConnectorServer
from tests.fakes.tls import FakeTLS
from tests.fakes.token_server import AppRegistration, FakeTokenServer


async def _token(token_server: FakeTokenServer, app: AppRegistration, audience: str) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            token_server.token_endpoint(),
            data={"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": app.secret,
                  "scope": f"{audience}/.default"},
        )  # fmt: skip
        response.raise_for_status()
        return str(response.json()["access_token"])


async def test_connector_enforces_tokens_the_swagger_and_the_roster(
    connector_server: FakeConnectorServer, token_server: FakeTokenServer, bot_app: AppRegistration, fake_tls: FakeTLS
) -> None:
    chat = f"a:{uuid.uuid4().hex}"
    connector_server.add_personal_chat(chat, "29:eve")
    token = await _token(token_server, bot_app, connector_server.audience)
    other = token_server.register(AppRegistration(client_id=str(uuid.uuid4()), secret="x"))
    other_token = await _token(token_server, other, connector_server.audience)
    url = f"{connector_server.origin}/v3/conversations/{chat}/activities"
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, json={"type": "message", "text": "hi"})).status_code == 401
        forged = {"Authorization": f"Bearer {other_token}"}
        assert (await client.post(url, json={"type": "message"}, headers=forged)).status_code == 401

        client.headers["Authorization"] = f"Bearer {token}"
        ok = await client.post(url, json={"type": "message", "text": "hi"})
        assert ok.status_code == 201 and ok.json()["id"]
        # not an activity type in the Swagger: 400, and recorded as a violation
        bad = await client.post(url, json={"type": "shout", "text": "hi"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "BadArgument"
        assert any("'shout' is not one of" in v for v in connector_server.take_violations())
        # a path the connector does not have
        assert (await client.patch(url, json={})).status_code == 405
        assert any("method not allowed" in v for v in connector_server.take_violations())
        # a conversation the bot is not in, a channel of a team it is not installed in, a user without the app
        missing = await client.post(
            f"{connector_server.origin}/v3/conversations/a:nope/activities", json={"type": "message"}
        )
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "ConversationNotFound"
        thread = {"isGroup": True, "channelData": {"channel": {"id": "19:x@thread.tacv2"}, "tenant": {"id": "t"}},
                  "activity": {"type": "message", "text": "hi"}}  # fmt: skip
        refused = await client.post(f"{connector_server.origin}/v3/conversations", json=thread)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "BotNotInConversationRoster"
        chat_with = {"members": [{"id": "29:stranger"}], "channelData": {"tenant": {"id": "t"}}}
        assert (await client.post(f"{connector_server.origin}/v3/conversations", json=chat_with)).status_code == 403
        no_tenant = {"members": [{"id": "29:eve"}]}
        assert (await client.post(f"{connector_server.origin}/v3/conversations", json=no_tenant)).status_code == 400
    assert [c.kind for c in connector_server.calls] == ["send"]
