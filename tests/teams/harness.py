"""An in-process accessbot with the Teams front end in emulator mode (serve --sandbox, no app id):
the real aiohttp route and botbuilder CloudAdapter, the core on the sandbox directory and SQLite,
and the fake Bot Connector over HTTPS. Activities are shaped like the reference captures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.sandbox import SandboxDirectory
from bot.config import parse_config
from bot.runtime import Runtime, build_runtime
from bot.server import create_app
from bot.settings import Settings
from bot.teams.routes import ROUTE, install
from tests.fakes.connector_server import ConnectorCall, FakeConnectorServer
from tests.teams.activities import TeamsUser, Tenant

APPROVALS = "19:approvals0a1b2c3d4e5f@thread.tacv2"
TEAM = "19:team0a1b2c3d4e5f@thread.tacv2"
GROUP = "3f2b8c1e-6d4a-4e57-9a0b-1c2d3e4f5a01"
CONFIG = f"""
[bot]
timezone = "Europe/Prague"

[defaults]
min_duration = "30s"
default_duration = "1h"
max_duration = "4h"

[customers.customer-x]
display_name = "Customer X"
aliases = ["cx"]
group_id = "{GROUP}"
approvers = ["alice@contoso.example"]
approval_channel = {{ teams = "{APPROVALS}" }}

[customers.customer-y]
display_name = "Customer Y"
group_id = "7c9d0e1f-2a3b-4c5d-8e6f-7a8b9c0d1e02"
approvers = ["alice@contoso.example", "bob@contoso.example"]
approvals_required = 2
approval_channel = {{ teams = "{APPROVALS}" }}
"""


@dataclass
class Harness:
    client: TestClient[Any, Any]
    runtime: Runtime
    connector: FakeConnectorServer
    tenant: Tenant
    eve: TeamsUser
    alice: TeamsUser
    mallory: TeamsUser
    bob: TeamsUser
    eve_chat: str

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        response = await self.client.post(ROUTE, json=activity, headers=headers or {})
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def say(self, text: str) -> ConnectorCall:
        before = len(self.connector.calls)
        status, _ = await self.post(self.tenant.personal_message(self.eve, self.eve_chat, text))
        assert status == 201
        return await self.connector.wait_for(
            lambda c: (
                c.kind == "reply" and c.conversation_id == self.eve_chat and self.connector.calls.index(c) >= before
            )
        )

    async def approval_card(self) -> ConnectorCall:
        return await self.connector.wait_for(lambda c: c.kind == "create" and c.conversation_id.startswith(APPROVALS))


@asynccontextmanager
async def running(tmp_path: Path, connector: FakeConnectorServer, config: str = CONFIG) -> AsyncIterator[Harness]:
    """The bot serving `config` in-process, with eve (requester), alice and bob (approvers), mallory."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}",
        accessbot_scheduler_poll_seconds=0.1,
    )
    runtime = await build_runtime(settings, parse_config(config), sandbox=True)
    directory = runtime.directory
    assert isinstance(directory, SandboxDirectory)
    people = {}
    for name in ("eve", "alice", "mallory", "bob"):
        person = await directory.add_user(f"{name}@contoso.example", display_name=name.title())
        people[name] = TeamsUser(person.id, name.title())
    tenant = Tenant(connector.service_url, connector.tenant_id)
    eve_chat = f"a:{uuid.uuid4().hex}"
    connector.add_personal_chat(eve_chat, people["eve"].id)
    connector.add_channel(APPROVALS)
    connector.add_channel(TEAM)
    client = TestClient(TestServer(create_app(runtime, [install])))
    await client.start_server()
    try:
        yield Harness(client, runtime, connector, tenant, people["eve"], people["alice"], people["mallory"],
                      people["bob"], eve_chat)  # fmt: skip
    finally:
        await client.close()
        await runtime.close()


def actions(card: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in (card or {}).get("actions", [])}


def card_text(card: dict[str, Any] | None) -> str:
    """Every text, title and value of a card, one per line (what a reader of the card sees)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            parts.extend(node[k] for k in ("text", "title", "value") if isinstance(node.get(k), str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card or {})
    return "\n".join(parts)
