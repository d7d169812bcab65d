"""Fixtures of the Slack tests: the fake Slack, and the bot's aiohttp app wired to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import parse_config
from bot.runtime import Runtime, build_runtime
from bot.server import create_app
from bot.settings import Settings
from bot.slack.routes import install
from tests.fakes.clock import ManualClock
from tests.fakes.slack_server import FakeSlackServer
from tests.slack.support import SIGNING_SECRET, button_click, sign, slash_command, view_submission

APPROVALS = "C0APPROVALS"
SUMMARY = "C0SUMMARY"

CONFIG = f"""
[bot]
timezone = "Europe/Prague"
summary_channel = {{ slack = "{SUMMARY}" }}

[defaults]
min_duration = "15m"
max_duration = "8h"
approval_channel = {{ slack = "{APPROVALS}" }}

[customers.customer-x]
display_name = "Customer X"
aliases = ["cx"]
group_id = "3f2b8c1e-6d4a-4e57-9a0b-1c2d3e4f5a01"
approvers = ["alice@contoso.example", "bob@contoso.example"]
max_duration = "4h"

[customers.customer-y]
display_name = "Customer Y"
group_id = "7c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e02"
approvers = ["alice@contoso.example", "bob@contoso.example", "carol@contoso.example"]
approvals_required = 2

[customers.customer-z]
display_name = "Customer Z"
group_id = "9c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e03"
approvers = ["alice@contoso.example"]
allow_self_approval = true
"""

# Slack users of the tests: id -> e-mail (the sandbox directory enrols any e-mail).
PEOPLE = {
    "U0DAVE": "dave@contoso.example",  # the engineer asking
    "U0ALICE": "alice@contoso.example",  # approver
    "U0BOB": "bob@contoso.example",  # approver
    "U0CAROL": "carol@contoso.example",  # approver of customer-y only
    "U0MALLORY": "mallory@contoso.example",  # nobody's approver
}


@pytest.fixture
async def slack_server() -> AsyncIterator[FakeSlackServer]:
    """The fake Slack over plain HTTP (in-process clients), with the tests' users and channels."""
    server = FakeSlackServer(None)
    for user_id, email in PEOPLE.items():
        server.add_user(user_id, email)
    server.add_channel(APPROVALS)
    server.add_channel(SUMMARY)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    violations = server.take_violations()
    assert not violations, "FakeSlackServer saw calls Slack would reject:\n" + "\n".join(violations)


@dataclass
class SlackBot:
    """The bot's aiohttp app (Slack mounted, scheduler stopped) and how to talk to it as Slack does."""

    runtime: Runtime
    client: TestClient
    slack: FakeSlackServer
    clock: ManualClock

    async def post(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        response = await self.client.post("/slack/events", data=body, headers=headers or sign(body))
        return response.status, await response.text()

    async def command(self, user_id: str, text: str) -> tuple[int, str]:
        return await self.post(slash_command(user_id, text, self.slack.response_url(f"cmd-{user_id}")))

    async def click(self, user_id: str, action_id: str, value: str, *, channel: str, ts: str) -> tuple[int, str]:
        body = button_click(
            user_id, action_id, value, channel=channel, message_ts=ts, response_url=self.slack.response_url("click")
        )
        return await self.post(body)

    async def submit(self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> tuple[int, str]:
        return await self.post(view_submission(user_id, view, values))

    def responses_for(self, user_id: str) -> list[dict[str, Any]]:
        return [body for path, body in self.slack.responses if path.endswith(f"cmd-{user_id}")]


def settings_for(slack: FakeSlackServer, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "database_url": database_url,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def started_bot(tmp_path: Path, slack: FakeSlackServer, **settings: Any) -> AsyncIterator[SlackBot]:
    """The bot's app on a fresh SQLite database and the sandbox directory, Slack pointed at the fake."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}"
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    runtime = await build_runtime(
        settings_for(slack, database_url, **settings), parse_config(CONFIG), sandbox=True, clock=clock,
        database_url=database_url,
    )  # fmt: skip
    app = create_app(runtime, [install], scheduler=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield SlackBot(runtime, client, slack, clock)
    finally:
        await client.close()
        await runtime.close()


@pytest.fixture
async def slack_bot(tmp_path: Path, slack_server: FakeSlackServer) -> AsyncIterator[SlackBot]:
    async with started_bot(tmp_path, slack_server) as bot:
        yield bot
