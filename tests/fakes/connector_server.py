"""A fake Bot Framework Connector (the Teams side of ``serviceUrl``), for the bot's outbound calls.

It implements what the bot calls: create a conversation (a 1:1 chat, or a new thread in a
team channel), send to a conversation, reply to an activity, update an activity, and get a
member. It behaves like Teams where the bot depends on it:

* bearer tokens must be ones the fake Entra token server issued to the bot's app for the
  Bot Framework audience (401 "Authorization has been denied for this request." otherwise);
  in emulator mode (no token server) no token is expected;
* a conversation the bot is not part of is a 404 ``ConversationNotFound``; creating a thread
  in a channel of a team the bot is not installed in, or a chat with a user who has not
  installed the app, is a 403 ``BotNotInConversationRoster``;
* every request is checked against Microsoft's own Swagger of the Connector API
  (``reference/teams/botframework_ConnectorAPI.swagger.json``): the method and path must exist
  and the body must validate against the operation's body schema (JSON Schema draft 4 over the
  spec's ``definitions``). GET ``.../members/{memberId}`` is documented for Teams
  (TeamsInfo.get_member) but absent from that Swagger: it is the one supplement.
A request the real service would reject is recorded in ``violations``; the fixture fails the test.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import jwt
from aiohttp import web

from tests.fakes.base import FakeServer, RecordedRequest
from tests.fakes.openapi import REFERENCE_DIR, OpenAPIIndex, load_spec
from tests.fakes.token_server import FakeTokenServer

CONNECTOR_SPEC = REFERENCE_DIR / "teams" / "botframework_ConnectorAPI.swagger.json"
BOTFRAMEWORK_AUDIENCE = "https://api.botframework.com"
GET_MEMBER_DOC = "https://learn.microsoft.com/microsoftteams/platform/bots/how-to/get-teams-context"


@dataclass
class ConnectorCall:
    """One accepted call: what the bot sent where."""

    kind: str  # "create", "send", "reply", "update", "get_member"
    conversation_id: str
    activity_id: str
    body: dict[str, Any]
    authorization: str | None

    @property
    def card(self) -> dict[str, Any] | None:
        """The first Adaptive Card the activity carries (for create: the initial activity's)."""
        activity = self.body.get("activity", self.body) if self.kind == "create" else self.body
        for item in activity.get("attachments") or []:
            if item.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = item["content"]
                return content
        return None

    @property
    def text(self) -> str:
        activity = self.body.get("activity", self.body) if self.kind == "create" else self.body
        return str(activity.get("text") or "")


@dataclass
class Conversation:
    id: str
    members: set[str] = field(default_factory=set)  # member ids ("29:...")
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)


def _body_schemas(spec: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> the definition name of its body parameter."""
    found: dict[tuple[str, str], str] = {}
    for template, item in spec["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("in") == "body" and "$ref" in param.get("schema", {}):
                    found[(method.upper(), template)] = param["schema"]["$ref"].rsplit("/", 1)[1]
    return found


@dataclass
class FakeConnectorServer(FakeServer):
    """The fake connector. Its `service_url` is what activities carry as ``serviceUrl``."""

    token_server: FakeTokenServer | None = None  # None: emulator mode (no token expected)
    app_id: str | None = None
    audience: str = BOTFRAMEWORK_AUDIENCE
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    channels: set[str] = field(default_factory=set)  # channels of teams the bot is installed in
    installed: set[str] = field(default_factory=set)  # user ids that installed the app (personal scope)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> TeamsChannelAccount
    conversations: dict[str, Conversation] = field(default_factory=dict)
    calls: list[ConnectorCall] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(int(time.time() * 1000)))

    def __post_init__(self) -> None:
        self.index = OpenAPIIndex.load(CONNECTOR_SPEC)
        self.index.add("GET", "/v3/conversations/{conversationId}/members/{memberId}", source=GET_MEMBER_DOC)
        self.spec = load_spec(CONNECTOR_SPEC)
        self.body_schemas = _body_schemas(self.spec)

    @property
    def service_url(self) -> str:
        return f"{self.origin}/"

    # -- set-up helpers -------------------------------------------------------------------

    def add_user(self, user_id: str, aad_object_id: str, name: str, upn: str, *, installed: bool = True) -> None:
        self.profiles[user_id] = {
            "id": user_id, "name": name, "aadObjectId": aad_object_id, "email": upn, "userPrincipalName": upn,
            "tenantId": self.tenant_id, "userRole": "user",
        }  # fmt: skip
        if installed:
            self.installed.add(user_id)

    def add_personal_chat(self, conversation_id: str, user_id: str) -> None:
        self.conversations[conversation_id] = Conversation(conversation_id, {user_id})

    def add_channel(self, channel_id: str) -> None:
        """A channel of a team the bot is installed in."""
        self.channels.add(channel_id)
        self.conversations.setdefault(channel_id, Conversation(channel_id))

    # -- what tests look at ---------------------------------------------------------------

    def find(self, kind: str | None = None, conversation: str | None = None) -> list[ConnectorCall]:
        return [
            c
            for c in self.calls
            if (kind is None or c.kind == kind)
            and (conversation is None or c.conversation_id.split(";")[0] == conversation.split(";")[0])
        ]

    async def wait_for(self, predicate: Callable[[ConnectorCall], bool], timeout: float = 60.0) -> ConnectorCall:
        """The first call matching `predicate`, waiting for the bot to make it."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls:
                if predicate(call):
                    return call
            if time.monotonic() > deadline:
                seen = "\n".join(f"{c.kind} {c.conversation_id}: {c.text or c.card}" for c in self.calls)
                raise AssertionError(f"the bot made no such connector call; it made:\n{seen}")
            await asyncio.sleep(0.05)

    # -- the service ----------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        method, path = request.method, request.path
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                self.violation(f"{method} {path}: body is not JSON")
                return self._answer(method, path, 400, _error("BadSyntax", "The request body is not valid JSON."))
        fault = self.faults.take(method, path)
        if fault is not None:
            headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
            self.requests.append(RecordedRequest(method, path, fault.status))
            return web.json_response(_error("ServiceError", "injected"), status=fault.status, headers=headers)
        header = request.headers.get("Authorization")
        denied = self._authenticate(method, path, header)
        if denied is not None:
            return denied
        op, path_exists = self.index.match(method, path)
        if op is None:
            self.violation(f"{method} {path}: {'method not allowed' if path_exists else 'no such operation'}")
            return self._answer(method, path, 405 if path_exists else 404, _error("NotFound", "No such operation."))
        problems = self._check_body(method, op.template, body)
        if problems:
            for problem in problems:
                self.violation(f"{method} {path}: {problem}")
            return self._answer(method, path, 400, _error("BadArgument", "; ".join(problems)))
        status, answer = self._route(method, op.template, op.params(path), body or {}, header)
        return self._answer(method, path, status, answer)

    def _answer(self, method: str, path: str, status: int, body: dict[str, Any]) -> web.Response:
        self.requests.append(RecordedRequest(method, path, status))
        return web.json_response(body, status=status)

    def _authenticate(self, method: str, path: str, header: str | None) -> web.Response | None:
        denied = {"message": "Authorization has been denied for this request."}
        if self.token_server is None:
            if header:
                self.violation(f"{method} {path}: a token was sent in emulator mode (no app id)")
            return None
        if not header or not header.startswith("Bearer "):
            return self._answer(method, path, 401, denied)
        try:
            claims = self.token_server.validate(header.removeprefix("Bearer "), self.audience)
        except jwt.InvalidTokenError:
            return self._answer(method, path, 401, denied)
        if self.app_id is not None and claims.get("appid") != self.app_id:
            return self._answer(method, path, 401, denied)
        return None

    def _check_body(self, method: str, template: str, body: Any) -> list[str]:
        definition = self.body_schemas.get((method, template))
        if definition is None:
            return []
        if body is None:
            return ["request body required"]
        schema = {"$ref": f"#/definitions/{definition}", "definitions": self.spec["definitions"]}
        validator = jsonschema.Draft4Validator(schema)
        problems = [
            f"{definition}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)
        ]
        if definition == "Activity" and not body.get("type"):
            problems.append("Activity: an activity needs a type")
        return problems

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _route(
        self, method: str, template: str, params: dict[str, str], body: dict[str, Any], header: str | None
    ) -> tuple[int, dict[str, Any]]:
        if (method, template) == ("POST", "/v3/conversations"):
            return self._create(body, header)
        conversation_id = params.get("conversationId", "")
        conversation = self.conversations.get(conversation_id)
        if conversation is None and ";messageid=" in conversation_id:
            conversation = self.conversations.get(conversation_id.split(";")[0])
        if conversation is None:
            return 404, _error("ConversationNotFound", "Conversation not found.")
        if (method, template) == ("POST", "/v3/conversations/{conversationId}/activities"):
            activity_id = self._next_id()
            conversation.activities[activity_id] = body
            self.calls.append(ConnectorCall("send", conversation_id, activity_id, body, header))
            return 201, {"id": activity_id}
        if (method, template) == ("POST", "/v3/conversations/{conversationId}/activities/{activityId}"):
            activity_id = self._next_id()
            conversation.activities[activity_id] = body
            self.calls.append(ConnectorCall("reply", conversation_id, activity_id, body, header))
            return 201, {"id": activity_id}
        if (method, template) == ("PUT", "/v3/conversations/{conversationId}/activities/{activityId}"):
            activity_id = params["activityId"]
            if activity_id not in conversation.activities:
                return 404, _error("ActivityNotFound", "Activity not found.")
            conversation.activities[activity_id] = body
            self.calls.append(ConnectorCall("update", conversation_id, activity_id, body, header))
            return 200, {"id": activity_id}
        if (method, template) == ("GET", "/v3/conversations/{conversationId}/members/{memberId}"):
            profile = self.profiles.get(params["memberId"])
            if profile is None:
                return 404, _error("MemberNotFound", "The member was not found in the conversation.")
            self.calls.append(ConnectorCall("get_member", conversation_id, "", {}, header))
            return 200, profile
        return 501, _error("NotImplemented", f"the fake does not implement {method} {template}")

    def _create(self, body: dict[str, Any], header: str | None) -> tuple[int, dict[str, Any]]:
        tenant = body.get("tenantId") or ((body.get("channelData") or {}).get("tenant") or {}).get("id")
        if not tenant:
            return 400, _error("BadArgument", "A tenant id is required to create a conversation in Teams.")
        channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if channel:
            if channel not in self.channels:
                return 403, _error("BotNotInConversationRoster", "The bot is not part of the conversation roster.")
            activity = body.get("activity")
            if not isinstance(activity, dict):
                return 400, _error("BadArgument", "A new channel thread needs its first activity.")
            activity_id = self._next_id()
            conversation_id = f"{channel};messageid={activity_id}"
            self.conversations[channel].activities[activity_id] = activity
            self.calls.append(ConnectorCall("create", conversation_id, activity_id, body, header))
            return 201, {"id": conversation_id, "activityId": activity_id, "serviceUrl": self.service_url}
        members = [m.get("id") for m in body.get("members") or []]
        if len(members) != 1:
            return 400, _error("BadArgument", "A 1:1 conversation needs exactly one member.")
        if members[0] not in self.installed:
            return 403, _error("BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        existing = next((c for c in self.conversations.values() if c.members == {members[0]}), None)
        conversation = existing or Conversation(f"a:{uuid.uuid4().hex}", {members[0]})
        self.conversations[conversation.id] = conversation
        self.calls.append(ConnectorCall("create", conversation.id, "", body, header))
        return 201, {"id": conversation.id, "serviceUrl": self.service_url}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
