"""The rest of the lifecycle as Slack shows it: reminders, timeouts, failures, extensions, ending early."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.fakes.slack_server import FakeSlackServer, SlackMessage
from tests.slack.conftest import APPROVALS, SlackBot, started_bot
from tests.slack.support import wait_until
from workflows.model import GrantState, RequestState


async def requested(bot: SlackBot, text: str = "cx 1h", user: str = "U0DAVE", count: int = 1) -> SlackMessage:
    await bot.command(user, text)
    await wait_until(lambda: len(bot.slack.in_channel(APPROVALS)) >= count, what="the approval message")
    return bot.slack.in_channel(APPROVALS)[count - 1]


async def approved(bot: SlackBot, message: SlackMessage, approver: str = "U0ALICE") -> None:
    action, value = message.button_value("Approve")
    await bot.click(approver, action, value, channel=APPROVALS, ts=message.ts)
    await wait_until(lambda: message.buttons() == [], what="the approval")
    await bot.runtime.scheduler.run_until_idle()


async def test_approvers_are_reminded_in_the_thread_then_the_request_times_out(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    message = await requested(bot)
    bot.clock.advance(timedelta(minutes=16))
    await bot.runtime.scheduler.run_until_idle()
    replies = [m for m in slack.messages if m.thread_ts == message.ts]
    assert len(replies) == 1
    assert "still waiting for a decision" in replies[0].flat()
    assert "<@U0ALICE>" in replies[0].flat() and "<@U0BOB>" in replies[0].flat()  # found by users.lookupByEmail

    bot.clock.advance(timedelta(hours=2))
    await bot.runtime.scheduler.run_until_idle()
    assert message.buttons() == [] and "Timed out" in message.flat()
    assert "timed out" in slack.dms("U0DAVE")[0].text and "/access customer-x" in slack.dms("U0DAVE")[0].text


async def test_a_failed_grant_alerts_the_approval_channel_and_tells_the_requester(
    tmp_path: Path, slack_server: FakeSlackServer
) -> None:
    async with started_bot(tmp_path, slack_server, accessbot_sandbox_faults="add_member=fail") as bot:
        message = await requested(bot)
        await approved(bot, message)
        for _ in range(6):  # the add keeps failing; after its retries the grant is failed
            bot.clock.advance(timedelta(minutes=6))
            await bot.runtime.scheduler.run_until_idle()
        grant = await bot.runtime.store.get_grant(1)
        assert grant is not None and grant.state is GrantState.FAILED
        alerts = [m for m in slack_server.in_channel(APPROVALS) if m is not message]
        assert len(alerts) == 1 and "Access #1 failed" in alerts[0].flat()
        assert "failed" in message.flat()
        assert "could not be applied yet" in slack_server.dms("U0DAVE")[0].text


async def test_extension_from_the_reminder_button_moves_the_end(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    message = await requested(bot)
    await approved(bot, message)
    bot.clock.advance(timedelta(minutes=46))
    await bot.runtime.scheduler.run_until_idle()
    reminder = slack.dms("U0DAVE")[1]
    action, value = reminder.button_value("Extend")
    await bot.click("U0DAVE", action, value, channel=reminder.channel, ts=reminder.ts)
    await wait_until(lambda: slack.ephemerals, what="the extension confirmation")
    assert "Extension request #2 (1h) sent to the approvers of Customer X" in slack.ephemerals[0]["text"]
    extension = slack.in_channel(APPROVALS)[1]
    assert "Extension request #2" in extension.flat() and "+1h" in extension.flat()
    await approved(bot, extension, approver="U0BOB")
    await wait_until(lambda: len(slack.dms("U0DAVE")) == 3, what="the extended DM")
    assert "now ends at 12:00 CET" in slack.dms("U0DAVE")[2].text
    assert "ends at 12:00 CET" in message.flat()  # the original approval message follows the grant


async def test_end_access_now_and_withdrawing_a_request(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    message = await requested(bot)
    await approved(bot, message)
    granted = slack.dms("U0DAVE")[0]
    action, value = granted.button_value("End access now")
    await bot.click("U0DAVE", action, value, channel=granted.channel, ts=granted.ts)
    await wait_until(lambda: slack.ephemerals, what="the answer to End access now")
    assert "ending access #1 now" in slack.ephemerals[0]["text"]
    await bot.runtime.scheduler.run_until_idle()
    grant = await bot.runtime.store.get_grant(1)
    assert grant is not None and grant.state is GrantState.REVOKED
    assert "revoked by dave@contoso.example" in slack.dms("U0DAVE")[-1].text
    assert "revoked by dave@contoso.example" in message.flat()

    second = await requested(bot, "customer-y 1h", count=2)
    await bot.command("U0DAVE", "revoke 2")
    await wait_until(lambda: len(bot.responses_for("U0DAVE")) == 3, what="the withdrawal answer")
    assert "request #2 withdrawn" in str(bot.responses_for("U0DAVE")[-1]["text"])
    assert "Withdrawn* by the requester" in second.flat() and second.buttons() == []
    assert (await bot.runtime.service.get_request(2)).state is RequestState.CANCELLED


async def test_someone_elses_grant_cannot_be_ended_from_slack(slack_bot: SlackBot) -> None:
    bot = slack_bot
    message = await requested(bot)
    await approved(bot, message)
    await bot.command("U0MALLORY", "revoke 1")
    await wait_until(lambda: bot.responses_for("U0MALLORY"), what="the refusal")
    assert "belongs to dave@contoso.example" in str(bot.responses_for("U0MALLORY")[0]["text"])
    grant = await bot.runtime.store.get_grant(1)
    assert grant is not None and grant.state is GrantState.ACTIVE


async def test_a_lost_approval_message_is_posted_by_the_first_reminder(slack_bot: SlackBot) -> None:
    bot, slack = slack_bot, slack_bot.slack
    slack.faults.push(500, match=lambda _verb, method: method == "chat.postMessage")  # Slack fails that post
    await bot.command("U0DAVE", "cx 1h")
    await wait_until(lambda: bool(slack.faults.served), what="the failed post")
    assert slack.in_channel(APPROVALS) == []
    bot.clock.advance(timedelta(minutes=16))
    await bot.runtime.scheduler.run_until_idle()
    messages = slack.in_channel(APPROVALS)
    assert len(messages) == 1 and messages[0].thread_ts is None
    action, value = messages[0].button_value("Approve")  # a full approval message, buttons and all
    await bot.click("U0ALICE", action, value, channel=APPROVALS, ts=messages[0].ts)
    await wait_until(lambda: messages[0].buttons() == [], what="the approval")
    assert (await bot.runtime.store.get_request(1)).state is RequestState.APPROVED
