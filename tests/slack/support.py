"""Building requests the way Slack sends them: signed, shaped like the reference payloads."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from functools import cache
from typing import Any

from tests.fakes.openapi import REFERENCE_DIR

SLACK_REFERENCE = REFERENCE_DIR / "slack"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the one from Slack's docs (signature_test_vector.json)


@cache
def _reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SLACK_REFERENCE / name).read_text())
    return data


def reference_example(file: str, name: str) -> dict[str, Any]:
    for example in _reference(file)["examples"]:
        if example["name"] == name:
            return copy.deepcopy(example)
    raise KeyError(name)


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: ``v0=`` HMAC-SHA256 over ``v0:{timestamp}:{body}``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash_command(user_id: str, text: str, response_url: str, *, channel: str = "C0GENERAL") -> str:
    """A `/access` request: the bolt scenario payload with our command, user and URLs."""
    fields = reference_example("slash_command_payloads.json", "bolt_python_scenario_slash_command")["fields"]
    fields.update(
        command="/access",
        text=text,
        user_id=user_id,
        user_name=user_id.lower(),
        channel_id=channel,
        response_url=response_url,
        trigger_id=f"{int(time.time())}.{user_id}.trigger",
    )
    return urllib.parse.urlencode(fields)


def button_click(
    user_id: str, action_id: str, value: str, *, channel: str, message_ts: str, response_url: str, text: str = ""
) -> str:
    """A button click (block_actions): the bolt HTTP scenario payload, pointed at our message."""
    payload = reference_example("block_actions_payloads.json", "bolt_python_block_actions_button_http")["payload"]
    payload["user"] = {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": "T0FAKE001"}
    payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
    payload["channel"] = {"id": channel, "name": "approvals"}
    payload["response_url"] = response_url
    payload["trigger_id"] = f"{int(time.time())}.{user_id}.click"
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": "b",
            "text": {"type": "plain_text", "text": text or action_id, "emoji": True},
            "value": value,
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
    ]
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def view_submission(user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> str:
    """A modal submission (view_submission) of `view` with these input values."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T0FAKE001", "domain": "fake"},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": "T0FAKE001"},
        "api_app_id": "A0ACCESSBOT",
        "token": "verification_token",
        "trigger_id": f"{int(time.time())}.{user_id}.submit",
        "view": {**view, "id": "V00000001", "team_id": "T0FAKE001", "state": {"values": values}, "hash": "1.x"},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return "payload=" + urllib.parse.quote(json.dumps(payload))


async def wait_until(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll until `predicate()` holds (the bot works after its ack); fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)
