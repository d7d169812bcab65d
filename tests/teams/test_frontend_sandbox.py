"""The Teams front end in-process, in emulator mode: requests, approvals, refusals, notices."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from adapters.store.chat_state import ChatState
from bot.teams.references import unseen_approval_channels
from bot.teams.routes import ROUTE, install
from tests.fakes.connector_server import FakeConnectorServer
from tests.teams.harness import APPROVALS, TEAM, Harness, actions, card_text, running
from tests.teams.test_cards import assert_valid_card
from workflows.model import GrantState, RequestState


@pytest.fixture
async def harness(tmp_path: Path, emulator_connector: FakeConnectorServer) -> AsyncIterator[Harness]:
    async with running(tmp_path, emulator_connector) as h:
        yield h


async def test_request_approval_refusal_and_notices_in_emulator_mode(harness: Harness) -> None:
    h = harness
    reply = await h.say("access customer-x 2h fixing the VPN")
    assert "Request #1" in reply.text and "Customer X" in reply.text
    assert reply.authorization is None  # emulator mode: no token

    posted = await h.approval_card()
    card = posted.card
    assert card is not None
    assert_valid_card(card)
    buttons = actions(card)
    assert set(buttons) == {"Approve", "Deny"}
    assert buttons["Approve"]["type"] == "Action.Execute" and buttons["Approve"]["verb"] == "approve"
    assert buttons["Approve"]["fallback"]["type"] == "Action.Submit"
    text = card_text(card)
    for expected in ("Eve", "eve@contoso.example", "Customer X", "2h", "fixing the VPN", "#1"):
        assert expected in text
    # botbuilder writes the tenant as "tenantID"; Teams reads channelData.tenant.id, which is set
    assert posted.body["channelData"]["tenant"]["id"] == h.tenant.tenant_id

    # a non-approver: a refusal card for them only, nothing changes
    status, body = await h.post(h.tenant.invoke(h.mallory, posted.conversation_id, posted.activity_id, "approve",
                                                {"request_id": 1}))  # fmt: skip
    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "You cannot decide this request" in card_text(body["value"]) and "actions" not in body["value"]
    # the requester may not decide their own request either (not even deny it)
    status, body = await h.post(h.tenant.invoke(h.eve, posted.conversation_id, posted.activity_id, "deny",
                                                {"request_id": 1}))  # fmt: skip
    assert status == 200 and "your own request" in card_text(body["value"])
    assert not h.connector.find("update")
    assert (await h.runtime.store.get_request(1)).state is RequestState.PENDING  # type: ignore[union-attr]

    # the approver decides: the card is replaced for them and updated in the channel for everyone
    status, body = await h.post(h.tenant.invoke(h.alice, posted.conversation_id, posted.activity_id, "approve",
                                                {"request_id": 1}))  # fmt: skip
    assert status == 200
    assert_valid_card(body["value"])
    assert "Approved by alice@contoso.example" in card_text(body["value"]) and "actions" not in body["value"]
    update = await h.connector.wait_for(lambda c: c.kind == "update" and c.activity_id == posted.activity_id)
    assert update.card is not None and "Approved by alice@contoso.example" in card_text(update.card)

    granted = await h.connector.wait_for(
        lambda c: c.kind == "send" and c.conversation_id == h.eve_chat and "is active" in card_text(c.card or {})
    )
    assert granted.card is not None and "End access now" in actions(granted.card)
    assert_valid_card(granted.card)

    # a double submission: the same decided card, still one approval and one grant
    status, body = await h.post(h.tenant.invoke(h.alice, posted.conversation_id, posted.activity_id, "approve",
                                                {"request_id": 1}))  # fmt: skip
    assert status == 200 and "Approved by alice@contoso.example" in card_text(body["value"])
    async with h.runtime.store.transaction() as tx:
        assert len(await tx.approvals(1)) == 1
    assert [g.id for g in await h.runtime.store.list_grants()] == [1]

    listed = await h.say("access list")
    assert "access #1" in listed.text

    # End access now, from the notice
    status, body = await h.post(h.tenant.invoke(h.eve, h.eve_chat, granted.activity_id, "end", {"grant_id": 1}))
    assert status == 200 and "Ending now" in card_text(body["value"])
    ended = await h.connector.wait_for(lambda c: c.kind == "send" and "ended" in card_text(c.card or {}))
    assert "by eve@contoso.example" in card_text(ended.card or {})
    grant = await h.runtime.store.get_grant(1)
    assert grant is not None and grant.state is GrantState.REVOKED


async def test_channel_mention_is_stripped_and_errors_say_what_is_allowed(harness: Harness) -> None:
    h = harness
    status, _ = await h.post(h.tenant.channel_message(h.eve, TEAM, TEAM, "help"))
    assert status == 201
    reply = await h.connector.wait_for(lambda c: c.kind == "reply" and c.conversation_id.startswith(TEAM))
    assert "customer-x" in reply.text and "30s to 4h" in reply.text

    unknown = await h.say("access nowhere 1h")
    assert "unknown customer 'nowhere'" in unknown.text and "customer-x" in unknown.text
    too_long = await h.say("access cx 9h")
    assert "Customer X allows 30s to 4h" in too_long.text
    bad = await h.say("access extend soon")
    assert "Allowed:" in bad.text and "access list" in bad.text
    assert await h.runtime.store.list_requests() == []


async def test_bare_access_answers_with_a_form_that_requests(harness: Harness) -> None:
    h = harness
    reply = await h.say("access")
    assert reply.card is not None
    assert_valid_card(reply.card)
    inputs = {item["id"] for item in reply.card["body"] if item["type"].startswith("Input.")}
    assert inputs == {"customer", "duration", "reason"}
    data = {"customer": "customer-x", "duration": "1h", "reason": "patching"}
    status, body = await h.post(h.tenant.invoke(h.eve, h.eve_chat, reply.activity_id, "request", data))
    assert status == 200 and "Request #1" in card_text(body["value"])
    posted = await h.approval_card()
    assert "patching" in card_text(posted.card or {})

    # a bad form comes back with the error and the form again
    data = {"customer": "customer-x", "duration": "99h", "reason": ""}
    status, body = await h.post(h.tenant.invoke(h.mallory, h.eve_chat, reply.activity_id, "request", data))
    assert status == 200 and "allows 30s to 4h" in card_text(body["value"])
    assert {i["id"] for i in body["value"]["body"] if i["type"].startswith("Input.")} == inputs


async def test_action_submit_fallback_decides_like_the_invoke(harness: Harness) -> None:
    h = harness
    await h.say("access customer-x 1h")
    posted = await h.approval_card()
    fallback = actions(posted.card or {})["Deny"]["fallback"]
    status, _ = await h.post(h.tenant.submit(h.alice, h.eve_chat, posted.activity_id, fallback["data"]))
    assert status == 201
    await h.connector.wait_for(lambda c: c.kind == "update" and "Denied by alice" in card_text(c.card or {}))
    denied = await h.connector.wait_for(lambda c: c.kind == "send" and "denied" in card_text(c.card or {}))
    assert denied.conversation_id == h.eve_chat
    assert (await h.runtime.store.get_request(1)).state is RequestState.DENIED  # type: ignore[union-attr]


async def test_production_without_app_id_has_no_teams_endpoint(harness: Harness) -> None:
    production = dataclasses.replace(harness.runtime, sandbox=False, summary_posters={})
    app = web.Application()
    install(app, production)
    assert [r for r in app.router.routes() if r.resource and r.resource.canonical == ROUTE] == []
    assert "teams" not in production.summary_posters


async def test_unseen_approval_channel_is_reported_until_the_bot_has_posted_there(harness: Harness) -> None:
    state = ChatState(harness.runtime.engine)
    assert await unseen_approval_channels(state, [APPROVALS]) == [APPROVALS]
    await harness.say("access customer-x 1h")
    await harness.approval_card()
    assert await unseen_approval_channels(state, [APPROVALS]) == []
    # the next card goes straight to the channel, without creating anything
    await harness.say("access customer-y 1h")
    await harness.connector.wait_for(lambda c: c.kind == "send" and c.conversation_id == APPROVALS)


async def test_emulator_user_acts_as_the_e_mail_address_in_its_name(harness: Harness) -> None:
    h = harness
    activity = h.tenant.personal_message(h.eve, h.eve_chat, "access customer-x 1h")
    activity["from"] = {"id": "frank@contoso.example", "name": "Frank"}  # no aadObjectId: the Emulator
    activity["channelId"] = "emulator"
    status, _ = await h.post(activity)
    assert status == 201
    requests = await h.runtime.store.list_requests()
    assert [r.requester.upn for r in requests] == ["frank@contoso.example"]


async def test_being_added_to_the_team_teaches_the_bot_its_channel(harness: Harness) -> None:
    h = harness
    state = ChatState(h.runtime.engine)
    status, _ = await h.post(h.tenant.bot_added_to_team(h.alice, APPROVALS))
    assert status == 201
    assert await unseen_approval_channels(state, [APPROVALS]) == []
    await h.say("access customer-x 1h")
    posted = await h.connector.wait_for(lambda c: c.conversation_id == APPROVALS and c.card is not None)
    assert posted.kind == "send" and "Approve" in actions(posted.card)
    assert h.connector.find("create") == []


async def test_a_requester_the_bot_cannot_reach_is_logged_and_nothing_else_breaks(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    # eve asks from a channel: no personal chat, and she has not installed the app (the fake refuses)
    status, _ = await h.post(h.tenant.channel_message(h.eve, TEAM, TEAM, "access customer-x 1h"))
    assert status == 201
    posted = await h.approval_card()
    status, body = await h.post(
        h.tenant.invoke(h.alice, posted.conversation_id, posted.activity_id, "approve", {"request_id": 1})
    )
    assert status == 200 and "Approved by alice" in card_text(body["value"])
    await h.connector.wait_for(lambda c: c.kind == "update")
    grant = await h.runtime.store.get_grant(1)
    assert grant is not None

    def logged() -> bool:
        return any("not delivered" in r.message and "HTTP 403" in r.message for r in caplog.records)

    for _ in range(600):  # the notice is attempted once the grant is applied
        if logged():
            break
        await asyncio.sleep(0.05)
    assert logged()
    assert [r.status for r in h.connector.requests if r.path == "/v3/conversations"] == [201, 403]
