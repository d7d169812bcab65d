"""Request verification, Slack's rate limits, the daily summary poster, and the wiring switches."""

from __future__ import annotations

import json
import time
from pathlib import Path

from aiohttp import web

from bot.config import parse_config
from bot.runtime import build_runtime
from bot.server import create_app
from bot.slack.routes import install
from tests.fakes.slack_server import DEFAULT_SCOPES, FakeSlackServer
from tests.slack.conftest import APPROVALS, CONFIG, SUMMARY, SlackBot, settings_for, started_bot
from tests.slack.support import SLACK_REFERENCE, reference_example, sign, slash_command, wait_until
from workflows.ports import SummarySection


async def test_forged_signature_and_stale_timestamp_get_401_and_change_nothing(slack_bot: SlackBot) -> None:
    body = slash_command("U0DAVE", "cx 1h", slack_bot.slack.response_url("forged"))
    assert (await slack_bot.post(body, sign(body, secret="not-the-signing-secret")))[0] == 401
    assert (await slack_bot.post(body, sign(body, timestamp=int(time.time()) - 600)))[0] == 401
    tampered = sign(body)
    assert (await slack_bot.post(body + "&text=cx+4h", tampered))[0] == 401
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await slack_bot.post(body, unsigned))[0] == 401
    # Slack's documented example: a valid signature, but from 2018
    vector = json.loads((SLACK_REFERENCE / "signature_test_vector.json").read_text())
    headers = {**vector["headers"], "Content-Type": "application/x-www-form-urlencoded"}
    assert (await slack_bot.post(vector["body"], headers))[0] == 401

    # only the start-up auth.test: no request got past verification
    assert [name for name, _ in slack_bot.slack.calls] == ["auth.test"]
    assert await slack_bot.runtime.store.list_requests() == []


async def test_reference_vector_signature_matches_our_signer() -> None:
    vector = json.loads((SLACK_REFERENCE / "signature_test_vector.json").read_text())
    headers = sign(vector["body"], secret=vector["signing_secret"], timestamp=int(vector["timestamp"]))
    assert headers["X-Slack-Signature"] == vector["expected_signature"]


async def test_slack_429_is_retried_after_retry_after(slack_bot: SlackBot) -> None:
    slack = slack_bot.slack
    slack.faults.push(429, retry_after=1, match=lambda method, path: path == "chat.postMessage")
    await slack_bot.command("U0DAVE", "cx 1h")
    await wait_until(lambda: slack.in_channel(APPROVALS), what="the approval message after the 429")
    assert [f.status for f in slack.faults.served] == [429]
    assert len(slack.calls_of("chat.postMessage")) == 2  # once throttled, once after Retry-After
    # (an early retry would be a violation, failing the fixture)


async def test_summary_posts_text_then_uploads_the_chart_into_its_thread(slack_bot: SlackBot) -> None:
    poster = slack_bot.runtime.summary_posters["slack"]
    assert poster.surface == "slack"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
    sections = [
        SummarySection("Active", ["dave → Customer X"]),
        SummarySection("Failed", ["#3 <!channel>"], alert=True),
    ]
    await poster.post_summary(SUMMARY, "Access summary", sections, png)
    message = slack_bot.slack.in_channel(SUMMARY)[0]
    assert "Failed" in message.blocks[1]["text"]["text"] and "&lt;!channel&gt;" in message.flat()
    assert len(slack_bot.slack.files) == 1
    shared = slack_bot.slack.files[0]
    assert shared["data"] == png and shared["channel"] == SUMMARY and shared["thread_ts"] == message.ts


async def test_summary_text_goes_out_when_the_upload_fails(slack_bot: SlackBot) -> None:
    slack_bot.slack.upload_status = 500
    poster = slack_bot.runtime.summary_posters["slack"]
    await poster.post_summary(SUMMARY, "Access summary", [SummarySection("Active", ["none"])], b"\x89PNG" + b"1" * 10)
    assert len(slack_bot.slack.in_channel(SUMMARY)) == 1
    assert slack_bot.slack.files == []


async def test_the_reference_button_payload_is_answered(slack_bot: SlackBot) -> None:
    """Slack's own example click (an action id we do not know) is verified, acked and ignored."""
    example = reference_example("block_actions_payloads.json", "bolt_python_block_actions_button_http")
    status, _ = await slack_bot.post(example["form_body"])
    assert status == 404  # bolt answers an action nobody listens to with 404 (after verifying it)
    assert await slack_bot.runtime.store.list_requests() == []


async def test_slack_is_mounted_only_when_configured(tmp_path: Path, slack_server: FakeSlackServer) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}"
    for extra, mounted in (
        ({"slack_bot_token": None}, False),  # no token: no Slack at all
        ({"slack_signing_secret": None}, False),  # a token alone cannot verify requests
        ({}, True),
    ):
        settings = settings_for(slack_server, database_url, **extra)
        runtime = await build_runtime(settings, parse_config(CONFIG), sandbox=True, database_url=database_url)
        try:
            app = create_app(runtime, [install], scheduler=False)
            routes = {r.resource.canonical for r in app.router.routes() if isinstance(r.resource, web.Resource)}
            assert ("/slack/events" in routes) is mounted
            assert ("slack" in runtime.summary_posters) is mounted
        finally:
            await runtime.close()


async def test_socket_mode_runs_the_same_handlers(tmp_path: Path, slack_server: FakeSlackServer) -> None:
    """With SLACK_APP_TOKEN the bot connects over Socket Mode (no /slack/events) and acks envelopes."""
    async with started_bot(
        tmp_path, slack_server, slack_app_token=slack_server.app_token, slack_signing_secret=None
    ) as bot:
        await wait_until(lambda: slack_server.sockets, what="the Socket Mode connection")
        body = slash_command("U0DAVE", "cx 1h", slack_server.response_url("cmd-U0DAVE"))
        assert (await bot.post(body))[0] == 404  # nothing served over HTTP

        envelope = reference_example("slash_command_payloads.json", "socket_mode_slash_commands_envelope")["envelope"]
        envelope["payload"].update(
            command="/access", text="cx 1h over the socket", user_id="U0DAVE",
            response_url=slack_server.response_url("cmd-U0DAVE"),
        )  # fmt: skip
        await slack_server.socket_send(envelope)
        await wait_until(lambda: envelope["envelope_id"] in slack_server.socket_acks, what="the ack frame")
        await wait_until(lambda: slack_server.in_channel(APPROVALS), what="the approval message")
        await wait_until(lambda: bot.responses_for("U0DAVE"), what="the confirmation")
        assert "Request #1 (1h)" in str(bot.responses_for("U0DAVE")[0]["text"])

        message = slack_server.in_channel(APPROVALS)[0]
        action, value = message.button_value("Approve")
        click = reference_example(
            "block_actions_payloads.json", "bolt_python_block_actions_button_with_message_socket_mode"
        )
        payload = click["payload"]
        payload["user"] = {"id": "U0ALICE"}
        payload["container"].update(channel_id=APPROVALS, message_ts=message.ts)
        payload["channel"] = {"id": APPROVALS}
        payload["actions"][0].update(action_id=action, value=value)
        payload["response_url"] = slack_server.response_url("click")
        await slack_server.socket_send({"envelope_id": "env-click-1", "type": "interactive", "payload": payload,
                                        "accepts_response_payload": False})  # fmt: skip
        await wait_until(lambda: message.buttons() == [], what="the approval over the socket")
        assert "Approved* by alice@contoso.example" in message.flat()
        assert "env-click-1" in slack_server.socket_acks


def test_manifest_grants_exactly_the_scopes_the_bot_uses() -> None:
    """The scopes in manifests/slack-app.yml are those the fake Slack demands for the calls the bot makes."""
    text = (Path(__file__).resolve().parents[2] / "manifests" / "slack-app.yml").read_text()
    lines = text.splitlines()
    start = lines.index("    bot:") + 1
    scopes = set()
    for line in lines[start:]:
        if not line.strip().startswith("- "):
            break
        scopes.add(line.split("- ", 1)[1].split("#", 1)[0].strip())
    assert scopes == set(DEFAULT_SCOPES)
    assert "command: /access" in text
    assert text.count("https://accessbot.example.com/slack/events") == 2  # slash command and interactivity
    assert "socket_mode_enabled: false" in text and "connections:write" in text


async def test_requester_is_told_when_the_approval_message_could_not_be_posted(slack_bot: SlackBot) -> None:
    slack_bot.slack.channels.discard(APPROVALS)  # e.g. the channel was archived: channel_not_found
    await slack_bot.command("U0DAVE", "cx 1h")
    await wait_until(lambda: slack_bot.responses_for("U0DAVE"), what="the answer")
    text = str(slack_bot.responses_for("U0DAVE")[0]["text"])
    assert "request #1 is recorded, but I could not post it to the approvers' channel" in text
    assert slack_bot.slack.in_channel(APPROVALS) == []
