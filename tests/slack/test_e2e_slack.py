"""The real `accessbot serve` process (production mode: Microsoft Graph, Cloudflare and Slack are
the HTTPS fakes) driven the way Slack drives it: signed requests shaped like the reference
payloads. We watch the fake Slack, the fake Graph and the fake Cloudflare."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.process import accessbot_executable, clean_env, free_port, stop, wait_healthy
from tests.fakes.cloudflare_server import FakeCloudflareServer
from tests.fakes.fixtures import EntraSettings
from tests.fakes.graph_server import FakeGraphServer
from tests.fakes.slack_server import FakeSlackServer, SlackMessage
from tests.fakes.tls import FakeTLS
from tests.slack.support import SIGNING_SECRET, button_click, sign, slash_command, wait_until

pytestmark = pytest.mark.slow

APPROVALS = "C0APPROVALS"
PEOPLE = {
    "U0DAVE": "dave@contoso.example",
    "U0ALICE": "alice@contoso.example",
    "U0BOB": "bob@contoso.example",
    "U0MALLORY": "mallory@contoso.example",
}


@pytest.fixture
async def https_slack(fake_ca_env: FakeTLS) -> AsyncIterator[FakeSlackServer]:
    """The fake Slack over HTTPS with the fakes' CA (the bot process trusts it via SSL_CERT_FILE)."""
    server = FakeSlackServer(fake_ca_env)
    for user_id, email in PEOPLE.items():
        server.add_user(user_id, email)
    server.add_channel(APPROVALS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    violations = server.take_violations()
    assert not violations, "FakeSlackServer saw calls Slack would reject:\n" + "\n".join(violations)


@dataclass
class RunningBot:
    port: int
    process: subprocess.Popen[bytes]
    slack: FakeSlackServer
    graph: FakeGraphServer
    group: str
    users: dict[str, str]  # e-mail -> Graph object id
    log: Path

    async def post(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
        started = time.perf_counter()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{self.port}/slack/events", data=body, headers=headers or sign(body)
            ) as response,
        ):
            await response.read()
            return response.status, time.perf_counter() - started

    async def command(self, user_id: str, text: str) -> int:
        return (await self.post(slash_command(user_id, text, self.slack.response_url(f"cmd-{user_id}"))))[0]

    def click_body(self, user_id: str, message: SlackMessage, button: str) -> str:
        action, value = message.button_value(button)
        return button_click(
            user_id, action, value, channel=message.channel, message_ts=message.ts,
            response_url=self.slack.response_url("click"),
        )  # fmt: skip

    def responses_for(self, user_id: str) -> list[dict[str, object]]:
        return [body for path, body in self.slack.responses if path.endswith(f"cmd-{user_id}")]


@pytest.fixture
async def running_bot(
    tmp_path: Path,
    https_slack: FakeSlackServer,
    graph_server: FakeGraphServer,
    entra_settings: EntraSettings,
    cloudflare_env: dict[str, str],
) -> AsyncIterator[RunningBot]:
    users = {email: graph_server.add_user(email, email) for email in PEOPLE.values()}
    group = graph_server.add_group("cx-network-access")
    config = tmp_path / "accessbot.toml"
    config.write_text(
        f"""
[bot]
timezone = "Europe/Prague"

[defaults]
min_duration = "20s"
approval_channel = {{ slack = "{APPROVALS}" }}

[customers.customer-x]
display_name = "Customer X"
aliases = ["cx"]
group_id = "{group}"
approvers = ["alice@contoso.example", "bob@contoso.example"]

[scheduler]
reminder_before_end = "10s"
"""
    )
    env = clean_env(
        tmp_path,
        ACCESSBOT_CONFIG=str(config),
        SLACK_BOT_TOKEN=https_slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=https_slack.api_url,
        ACCESSBOT_SCHEDULER_POLL_SECONDS="0.2",
        LOG_LEVEL="DEBUG",
        **entra_settings.as_env(),
        **cloudflare_env,
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [accessbot_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # Blocking helpers run in a thread: the fakes share this event loop and must keep answering.
        await asyncio.to_thread(wait_healthy, port, process)
        yield RunningBot(port, process, https_slack, graph_server, group, users, log)
    finally:
        await asyncio.to_thread(stop, process)
    output = log.read_text()
    for secret in (https_slack.bot_token, SIGNING_SECRET, entra_settings.client_secret):
        assert secret not in output, "a secret reached the logs"


async def test_request_approve_grant_expire_end_to_end(
    running_bot: RunningBot, cloudflare_server: FakeCloudflareServer
) -> None:
    bot, slack, graph = running_bot, running_bot.slack, running_bot.graph
    dave = bot.users["dave@contoso.example"]

    # 1. the request: acknowledged at once, confirmed privately, posted for approval
    assert await bot.command("U0DAVE", "cx 20s rolling out the fix") == 200
    await wait_until(lambda: slack.in_channel(APPROVALS), what="the approval message")
    message = slack.in_channel(APPROVALS)[0]
    assert message.buttons() == ["Approve", "Deny"]
    await wait_until(lambda: bot.responses_for("U0DAVE"), what="the confirmation")
    assert "Request #1 (20s) sent to the approvers of Customer X" in str(bot.responses_for("U0DAVE")[0]["text"])

    # 2. a non-approver's click is refused privately and changes nothing
    assert (await bot.post(bot.click_body("U0MALLORY", message, "Approve")))[0] == 200
    await wait_until(lambda: slack.ephemerals, what="the refusal")
    assert slack.ephemerals[0]["user"] == "U0MALLORY" and "only the approvers" in slack.ephemerals[0]["text"]
    assert graph.members(bot.group) == set()

    # 3. the approver's click: Graph add, the message updated in place, the requester told
    assert (await bot.post(bot.click_body("U0ALICE", message, "Approve")))[0] == 200
    await wait_until(lambda: dave in graph.members(bot.group), what="the Graph membership add")
    await wait_until(lambda: slack.dms("U0DAVE"), what="the granted DM")
    granted = slack.dms("U0DAVE")[0]
    assert "effective now" in granted.text and granted.buttons() == ["End access now"]
    await wait_until(lambda: "active since" in message.flat(), what="the approval message update")
    assert message.buttons() == [] and "Approved* by alice@contoso.example" in message.flat()

    # 4. the reminder before the end, with Extend
    await wait_until(lambda: len(slack.dms("U0DAVE")) >= 2, timeout=30, what="the reminder DM")
    assert slack.dms("U0DAVE")[1].buttons() == ["Extend"]

    # 5. expiry: membership removed, Entra and Cloudflare sessions revoked, everyone told
    await wait_until(lambda: "ended at" in message.flat(), timeout=40, what="the end of access")
    assert dave not in graph.members(bot.group)
    assert graph.users[dave].revocations == 1
    assert cloudflare_server.revocations.get("dave@contoso.example") == 1
    assert "(expired)" in message.flat() and "sessions revoked" in message.flat()
    await wait_until(lambda: len(slack.dms("U0DAVE")) >= 3, what="the ended DM")
    ended = slack.dms("U0DAVE")[-1]
    assert "expired" in ended.text and "sessions were revoked" in ended.text
    assert graph.operation_count("POST", "/members/$ref") == 1


async def test_forged_stale_replayed_and_self_approval_against_the_real_process(running_bot: RunningBot) -> None:
    bot, slack, graph = running_bot, running_bot.slack, running_bot.graph

    body = slash_command("U0DAVE", "cx 1h", slack.response_url("forged"))
    assert (await bot.post(body, sign(body, secret="forged-secret-000")))[0] == 401
    assert (await bot.post(body, sign(body, timestamp=int(time.time()) - 600)))[0] == 401
    await asyncio.sleep(0.3)  # give a (wrongly) accepted request time to show up
    assert slack.in_channel(APPROVALS) == [] and slack.responses == []

    # a Slack user without an Entra account gets a clear, private answer
    slack.add_user("U0GHOST", "ghost@elsewhere.example")
    assert await bot.command("U0GHOST", "cx 1h") == 200
    await wait_until(lambda: bot.responses_for("U0GHOST"), what="the answer to the unknown user")
    answer = bot.responses_for("U0GHOST")[0]
    assert answer["response_type"] == "ephemeral"
    assert "no directory account matches 'ghost@elsewhere.example'" in str(answer["text"])
    assert slack.in_channel(APPROVALS) == []

    # self-approval: bob asks, bob clicks Approve
    assert await bot.command("U0BOB", "cx 1h") == 200
    await wait_until(lambda: slack.in_channel(APPROVALS), what="bob's approval message")
    message = slack.in_channel(APPROVALS)[0]
    await bot.post(bot.click_body("U0BOB", message, "Approve"))
    await wait_until(lambda: slack.ephemerals, what="the self-approval refusal")
    assert "cannot approve your own request" in slack.ephemerals[0]["text"]

    # a replayed approval click (the same signed request, sent again) grants once
    click = bot.click_body("U0ALICE", message, "Approve")
    headers = sign(click)
    statuses = await asyncio.gather(*(bot.post(click, headers) for _ in range(3)))
    assert all(status == 200 for status, _ in statuses)
    bob = bot.users["bob@contoso.example"]
    await wait_until(lambda: bob in graph.members(bot.group), what="the grant")
    await wait_until(lambda: len(slack.ephemerals) == 3, what="the answers to the replays")
    assert all("already approved" in e["text"] for e in slack.ephemerals[1:])
    assert graph.operation_count("POST", "/members/$ref") == 1
