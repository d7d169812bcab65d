"""The Slack front end through real signed HTTP requests against the bot's aiohttp app.

The app runs in-process on the sandbox directory with a manual clock; Slack is the fake Web
API. Every request is signed like Slack signs it and shaped like the reference payloads.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from bot.slack import modals
from tests.slack.conftest import APPROVALS, SlackBot
from tests.slack.support import wait_until
from workflows.model import GrantState, RequestState


async def approval_message(bot: SlackBot, count: int = 1):  # type: ignore[no-untyped-def]
    await wait_until(lambda: len(bot.slack.in_channel(APPROVALS)) >= count, what="the approval message")
    return bot.slack.in_channel(APPROVALS)[count - 1]


async def test_request_is_acknowledged_then_confirmed_privately_and_posted_for_approval(slack_bot: SlackBot) -> None:
    status, body = await slack_bot.command("U0DAVE", "cx 2h fixing the VPN")
    assert status == 200 and body == ""  # the ack: the answer follows through response_url
    await wait_until(lambda: slack_bot.responses_for("U0DAVE"), what="the confirmation")
    answer = slack_bot.responses_for("U0DAVE")[0]
    assert answer["response_type"] == "ephemeral"
    assert "Request #1 (2h) sent to the approvers of Customer X" in answer["text"]

    message = await approval_message(slack_bot)
    assert message.buttons() == ["Approve", "Deny"]
    flat = message.flat()
    for expected in ("dave@contoso.example", "Customer X", "2h", "#1", "fixing the VPN"):
        assert expected in flat
    # the user was mapped once through users.info, and the mapping is cached
    await slack_bot.command("U0DAVE", "list")
    await wait_until(lambda: len(slack_bot.responses_for("U0DAVE")) == 2, what="the list")
    listing = slack_bot.responses_for("U0DAVE")[1]
    assert "Request *#1* for *Customer X* (2h): waiting for approval" in listing["blocks"][0]["text"]["text"]
    assert len(slack_bot.slack.calls_of("users.info")) == 1


async def test_full_lifecycle_in_slack(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    await bot.command("U0DAVE", "customer-x 1h deploying a fix")
    message = await approval_message(bot)
    action, value = message.button_value("Approve")

    # a non-approver is refused privately and nothing changes
    await bot.click("U0MALLORY", action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: slack.ephemerals, what="the refusal")
    refusal = slack.ephemerals[0]
    assert refusal["user"] == "U0MALLORY" and refusal["channel"] == APPROVALS
    assert "only the approvers of Customer X" in refusal["text"] and "alice@contoso.example" in refusal["text"]
    assert (await bot.runtime.service.get_request(1)).state is RequestState.PENDING
    assert message.buttons() == ["Approve", "Deny"]

    # the approver approves: the message is updated in place, buttons gone, who and when shown
    await bot.click("U0ALICE", action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: message.buttons() == [], what="the message update")
    assert "Approved* by alice@contoso.example" in message.flat()
    assert (await bot.runtime.service.get_request(1)).state is RequestState.APPROVED

    # the scheduler applies the grant: the requester gets a DM with End access now
    await bot.runtime.scheduler.run_until_idle()
    await wait_until(lambda: slack.dms("U0DAVE"), what="the granted DM")
    granted = slack.dms("U0DAVE")[0]
    assert "effective now" in granted.text and "ends at 11:00 CET" in granted.text  # 10:00 UTC + 1h, Prague
    assert granted.buttons() == ["End access now"]
    assert "active since 10:00 CET, ends at 11:00 CET" in message.flat()

    # 15 minutes before the end: a reminder with Extend
    bot.clock.advance(timedelta(minutes=46))
    await bot.runtime.scheduler.run_until_idle()
    await wait_until(lambda: len(slack.dms("U0DAVE")) == 2, what="the reminder DM")
    reminder = slack.dms("U0DAVE")[1]
    assert reminder.buttons() == ["Extend"] and "ends at 11:00 CET" in reminder.text

    # expiry: membership removed, sessions revoked, requester and approvers told
    bot.clock.advance(timedelta(minutes=15))
    await bot.runtime.scheduler.run_until_idle()
    grant = await bot.runtime.store.get_grant(1)
    assert grant is not None and grant.state is GrantState.EXPIRED
    await wait_until(lambda: len(slack.dms("U0DAVE")) == 3, what="the ended DM")
    ended = slack.dms("U0DAVE")[2]
    assert "expired" in ended.text and "sessions were revoked" in ended.text
    assert "ended at 11:01 CET (expired)" in message.flat()


async def test_replayed_and_concurrent_clicks_give_one_decision(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    await bot.command("U0DAVE", "cx 1h")
    message = await approval_message(bot)
    action, value = message.button_value("Approve")
    await asyncio.gather(
        *(bot.click(user, action, value, channel=APPROVALS, ts=message.ts) for user in ("U0ALICE", "U0ALICE", "U0BOB"))
    )
    await wait_until(lambda: len(slack.ephemerals) == 2, what="the answers to the late clicks")
    assert all("already approved" in e["text"] for e in slack.ephemerals)
    grants = await bot.runtime.store.list_grants()
    assert len(grants) == 1
    audit = [e.record.action async for e in bot.runtime.store.audit_events()]
    assert audit.count("request.approved") == 1 and audit.count("grant.created") == 1


async def test_self_approval_is_refused_unless_the_customer_allows_it(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    await bot.command("U0ALICE", "cx 1h")  # alice approves customer-x, but not her own request
    message = await approval_message(bot)
    action, value = message.button_value("Approve")
    await bot.click("U0ALICE", action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: slack.ephemerals, what="the refusal")
    assert "you cannot approve your own request" in slack.ephemerals[0]["text"]
    assert (await bot.runtime.service.get_request(1)).state is RequestState.PENDING

    await bot.command("U0ALICE", "customer-z 1h")  # customer-z allows self-approval
    second = await approval_message(bot, 2)
    action, value = second.button_value("Approve")
    await bot.click("U0ALICE", action, value, channel=APPROVALS, ts=second.ts)
    await wait_until(lambda: second.buttons() == [], what="the self-approval")
    assert (await bot.runtime.service.get_request(2)).state is RequestState.APPROVED


async def test_two_approvals_show_the_count_until_decided(slack_bot: SlackBot) -> None:
    bot = slack_bot
    await bot.command("U0DAVE", "customer-y 1h")
    message = await approval_message(bot)
    assert "Approvals so far: *0 of 2*" in message.flat()
    action, value = message.button_value("Approve")
    await bot.click("U0ALICE", action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: "*1 of 2*" in message.flat(), what="the count")
    assert message.buttons() == ["Approve", "Deny"]
    await bot.click("U0CAROL", action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: message.buttons() == [], what="the decision")
    assert "alice@contoso.example, carol@contoso.example" in message.flat()


async def test_deny_asks_for_a_reason_and_tells_the_requester(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    await bot.command("U0DAVE", "cx 1h")
    message = await approval_message(bot)
    action, value = message.button_value("Deny")
    await bot.click("U0BOB", action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: slack.views, what="the deny modal")
    view = slack.views[0]["view"]
    assert view["callback_id"] == modals.DENY_FORM
    status, _ = await bot.submit(
        "U0BOB", view, {"note": {"note": {"type": "plain_text_input", "value": "not today <!channel>"}}}
    )
    assert status == 200
    await wait_until(lambda: message.buttons() == [], what="the denial")
    assert "Denied* by bob@contoso.example" in message.flat()
    assert "<!channel>" not in message.flat() and "&lt;!channel&gt;" in message.flat()
    await wait_until(lambda: slack.dms("U0DAVE"), what="the requester's DM")
    assert "denied by bob@contoso.example" in slack.dms("U0DAVE")[0].text
    assert "not today" in slack.dms("U0DAVE")[0].text


async def test_errors_are_private_and_say_what_is_allowed(slack_bot: SlackBot) -> None:
    bot = slack_bot
    status, body = await bot.command("U0DAVE", "cx 99x")  # a grammar error: answered in the ack itself
    assert status == 200
    answer = json.loads(body)
    assert answer.get("response_type", "ephemeral") == "ephemeral"  # Slack's default for command answers: private
    assert "is not a duration" in answer["text"] and "customer-x" in body and "15m to 4h" in body

    await bot.command("U0DAVE", "nowhere 1h")
    await bot.command("U0DAVE", "cx 9h")
    await wait_until(lambda: len(bot.responses_for("U0DAVE")) == 2, what="both refusals")
    texts = sorted(str(r["blocks"]) for r in bot.responses_for("U0DAVE"))
    assert any("unknown customer" in t and "customer-y" in t for t in texts)
    assert any("allows 15m to 4h; you asked for 9h" in t for t in texts)
    assert all(r["response_type"] == "ephemeral" for r in bot.responses_for("U0DAVE"))
    assert bot.slack.in_channel(APPROVALS) == []  # nothing was requested


async def test_user_without_directory_match_or_email_gets_a_clear_answer(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    slack.add_user("U0NOMAIL", None)
    await bot.command("U0NOMAIL", "cx 1h")
    await wait_until(lambda: bot.responses_for("U0NOMAIL"), what="the answer")
    assert "no e-mail address" in bot.responses_for("U0NOMAIL")[0]["text"]
    assert slack.in_channel(APPROVALS) == []


async def test_help_and_modal(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    status, body = await bot.command("U0DAVE", "help")
    assert status == 200 and "/access list" in body and "customer-y" in body
    await bot.command("U0DAVE", "")
    await wait_until(lambda: slack.views, what="the request modal")
    view = slack.views[0]["view"]
    assert view["callback_id"] == modals.REQUEST_FORM
    # a bad duration is shown next to its field, the modal stays open
    values = {
        "customer": {"customer": {"type": "static_select", "selected_option": {"value": "customer-x"}}},
        "duration": {"duration": {"type": "plain_text_input", "value": "12h"}},
        "reason": {"reason": {"type": "plain_text_input", "value": ""}},
    }
    status, body = await bot.submit("U0DAVE", view, values)
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "allows 15m to 4h" in answer["errors"]["duration"]
    values["duration"]["duration"]["value"] = "30m"
    status, body = await bot.submit("U0DAVE", view, values)
    assert status == 200 and body == ""
    await wait_until(lambda: slack.dms("U0DAVE"), what="the confirmation DM")
    assert "Request #1 (30m) sent to the approvers of Customer X" in slack.dms("U0DAVE")[0].text
