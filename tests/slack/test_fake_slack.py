"""The fake Slack's own checks: calls the real Slack would reject are answered like Slack and recorded.

These tests call the fake with a bare aiohttp client and take the recorded violations
themselves, so the fixture's teardown check stays green.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.fakes.slack_server import FakeSlackServer


async def call(
    slack: FakeSlackServer, method: str, *, token: str | None = None, json_body: Any = None, **form: Any
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Authorization": f"Bearer {token or slack.bot_token}"}
    async with aiohttp.ClientSession() as session:
        if json_body is not None:
            request = session.post(f"{slack.api_url}{method}", json=json_body, headers=headers)
        else:
            request = session.post(f"{slack.api_url}{method}", data=form, headers=headers)
        async with request as response:
            return response.status, await response.json(), dict(response.headers)


async def test_required_arguments_come_from_the_spec(slack_server: FakeSlackServer) -> None:
    status, body, _ = await call(slack_server, "chat.update", channel="C0APPROVALS", text="x")
    assert status == 200 and body == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["ts"]},
    }
    assert slack_server.take_violations() == ["chat.update: required argument 'ts' missing"]


async def test_json_is_refused_where_slack_ignores_it_and_tokens_are_checked(slack_server: FakeSlackServer) -> None:
    await call(slack_server, "users.info", json_body={"user": "U0DAVE"})
    assert any("does not accept" in v for v in slack_server.take_violations())
    _, body, _ = await call(slack_server, "auth.test", token="xoxb-someone-else")
    assert body == {"ok": False, "error": "invalid_auth"}
    assert slack_server.take_violations() == ["auth.test: a token Slack does not know"]


async def test_email_needs_its_scope_and_missing_scopes_are_refused(slack_server: FakeSlackServer) -> None:
    _, body, _ = await call(slack_server, "users.info", user="U0DAVE")
    assert body["user"]["profile"]["email"] == "dave@contoso.example"
    slack_server.scopes.discard("users:read.email")
    _, body, _ = await call(slack_server, "users.info", user="U0DAVE")
    assert "email" not in body["user"]["profile"]
    _, body, _ = await call(slack_server, "users.lookupByEmail", email="dave@contoso.example")
    assert body["error"] == "missing_scope" and body["needed"] == "users:read.email"
    assert slack_server.take_violations() == ["users.lookupByEmail: the token lacks the users:read.email scope"]


async def test_block_kit_limits_give_invalid_blocks(slack_server: FakeSlackServer) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    _, body, _ = await call(
        slack_server, "chat.postMessage", channel="C0APPROVALS", text="t", blocks=json.dumps(blocks)
    )
    assert body == {"ok": False, "error": "invalid_blocks"}
    button = {"type": "button", "text": {"type": "plain_text", "text": "y" * 76}, "action_id": "a", "value": "1"}
    actions = [{"type": "actions", "elements": [button]}]
    _, body, _ = await call(
        slack_server, "chat.postMessage", channel="C0APPROVALS", text="t", blocks=json.dumps(actions)
    )
    assert body["error"] == "invalid_blocks"
    found = slack_server.take_violations()
    assert "3001 characters" in found[0] and "76 characters" in found[1]
    assert slack_server.messages == []


async def test_429_carries_retry_after_and_an_early_retry_is_a_violation(slack_server: FakeSlackServer) -> None:
    slack_server.faults.push(429, retry_after=30, match=lambda method, path: path == "chat.postMessage")
    status, body, headers = await call(slack_server, "chat.postMessage", channel="C0APPROVALS", text="hi")
    assert status == 429 and body == {"ok": False, "error": "ratelimited"} and headers["Retry-After"] == "30"
    status, body, _ = await call(slack_server, "chat.postMessage", channel="C0APPROVALS", text="hi")
    assert status == 200 and body["ok"]
    assert any("before Retry-After expired" in v for v in slack_server.take_violations())


async def test_the_upload_flow_needs_every_step(slack_server: FakeSlackServer) -> None:
    _, body, _ = await call(slack_server, "files.completeUploadExternal", files=json.dumps([{"id": "F404"}]))
    assert body == {"ok": False, "error": "file_not_found"}
    assert slack_server.take_violations() == ["files.completeUploadExternal: file F404 was never uploaded"]
    _, body, _ = await call(slack_server, "files.getUploadURLExternal", filename="a.png", length="3")
    async with aiohttp.ClientSession() as session, session.post(body["upload_url"], data=b"abc") as response:
        assert response.status == 200 and await response.text() == "OK - 3"
    _, done, _ = await call(
        slack_server,
        "files.completeUploadExternal",
        files=json.dumps([{"id": body["file_id"]}]),
        channel_id="C0SUMMARY",
    )
    assert done["ok"] and slack_server.files[0]["data"] == b"abc" and slack_server.files[0]["channel"] == "C0SUMMARY"
