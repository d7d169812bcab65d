"""A fake Slack Web API (and response_url sink, and file upload host) for the Slack front end.

It behaves like Slack where the bot depends on it:

* every method answers HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``;
  throttling is HTTP 429 with ``Retry-After`` (seconds) and ``{"ok": false, "error": "ratelimited"}``,
  and a call for that method before the Retry-After has passed is a violation;
* arguments may come in the query string, a form body, or (for methods whose spec says
  they consume it) a JSON body; the token in ``Authorization: Bearer`` or as ``token``;
* scopes: a method needs its scope (``missing_scope`` otherwise), and ``users.info`` shows
  ``profile.email`` only to a token with ``users:read.email``;
* Block Kit limits that Slack enforces with ``invalid_blocks`` (text lengths, element counts);
* the upload flow: files.getUploadURLExternal -> POST to the returned URL ->
  files.completeUploadExternal.

Each call is checked against Slack's own OpenAPI document
(`reference/slack/slack_web_openapi_v2_trimmed.json`) for required arguments, plus the
documented methods the trimmed spec lacks (`SUPPLEMENT`). A call Slack would reject is
answered the way Slack would and recorded in `violations`; the `slack_server` fixture fails
the test on any. Plain HTTP (`tls=None`, for in-process tests: aiohttp reads SSL_CERT_FILE
only at import) or HTTPS with the fakes' CA (for the real `accessbot serve` process).
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.base import FakeServer, RecordedRequest
from tests.fakes.openapi import REFERENCE_DIR, load_spec
from tests.fakes.tls import FakeTLS

SLACK_SPEC = REFERENCE_DIR / "slack" / "slack_web_openapi_v2_trimmed.json"

# Documented methods the trimmed spec does not contain: (method, required args, docs page).
SUPPLEMENT: dict[str, tuple[tuple[str, ...], str]] = {
    "files.getUploadURLExternal": (
        ("filename", "length"),
        "https://docs.slack.dev/reference/methods/files.getUploadURLExternal",
    ),
    "files.completeUploadExternal": (
        ("files",),
        "https://docs.slack.dev/reference/methods/files.completeUploadExternal",
    ),
    "apps.connections.open": ((), "https://docs.slack.dev/reference/methods/apps.connections.open"),
}

# Granular bot scopes each method needs (docs.slack.dev method pages).
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "conversations.open": "im:write",
    "views.open": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "apps.connections.open": None,  # an app-level token with connections:write
}
DEFAULT_SCOPES = frozenset({"commands", "chat:write", "im:write", "users:read", "users:read.email", "files:write"})

TEAM_ID = "T0FAKE001"
BOT_USER_ID = "U0ACCESSBOT"


@dataclass
class SlackUser:
    id: str
    name: str
    email: str | None
    real_name: str = ""
    is_bot: bool = False

    def as_json(self, *, with_email: bool) -> dict[str, Any]:
        profile: dict[str, Any] = {"real_name": self.real_name or self.name, "display_name": self.name}
        if with_email and self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": False,
            "is_bot": self.is_bot,
            "tz": "Europe/Prague",
            "profile": profile,
        }


@dataclass
class SlackMessage:
    """A message the bot posted, with every version chat.update gave it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def flat(self) -> str:
        """Text and every text inside the blocks, for simple assertions."""
        return self.text + "\n" + "\n".join(_texts(self.blocks))

    def buttons(self) -> list[str]:
        """The texts of the buttons the message shows now."""
        return [
            element["text"]["text"]
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]

    def button_value(self, text: str) -> tuple[str, str]:
        """(action_id, value) of the button labelled `text`."""
        for block in self.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("type") == "button" and element["text"]["text"] == text:
                    return element["action_id"], element["value"]
        raise KeyError(text)


@dataclass
class FakeSlackServer(FakeServer):
    """The fake Slack. `api_url` is what SLACK_API_URL would be set to."""

    tls: FakeTLS | None = None  # type: ignore[assignment]
    bot_token: str = field(default_factory=lambda: "xoxb-fake-" + secrets.token_hex(12))
    app_token: str = field(default_factory=lambda: "xapp-1-fake-" + secrets.token_hex(12))
    scopes: set[str] = field(default_factory=lambda: set(DEFAULT_SCOPES))
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    messages: list[SlackMessage] = field(default_factory=list)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    responses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # response_url sink
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)  # completed uploads, shared
    upload_status: int = 200  # set to 500 to make the upload host fail
    sockets: list[web.WebSocketResponse] = field(default_factory=list)  # Socket Mode connections
    socket_acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope_id -> the ack frame
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        spec = load_spec(SLACK_SPEC)
        self.spec_ops: dict[str, dict[str, Any]] = {}
        for path, item in spec["paths"].items():
            for op in item.values():
                if isinstance(op, dict) and "parameters" in op:
                    self.spec_ops[path.lstrip("/")] = op

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.origin}/api/"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.build_app(), access_log=None)
        await self._runner.setup()
        context = self.tls.server_context() if self.tls else None
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{tail:.*}", self._response_url)
        app.router.add_get("/socket", self._socket)
        return app

    # -- back door for tests -------------------------------------------------------------

    def add_user(self, user_id: str, email: str | None, name: str = "", *, is_bot: bool = False) -> SlackUser:
        user = SlackUser(user_id, name or (email or user_id).split("@")[0], email, is_bot=is_bot)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str) -> None:
        self.channels.add(channel_id)

    def response_url(self, name: str = "") -> str:
        return f"{self.origin}/response/{name or secrets.token_hex(6)}"

    def in_channel(self, channel: str, *, top_level: bool = True) -> list[SlackMessage]:
        return [m for m in self.messages if m.channel == channel and (not top_level or m.thread_ts is None)]

    def dms(self, user_id: str) -> list[SlackMessage]:
        return [m for m in self.messages if m.channel == _dm_channel(user_id)]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    # -- the Web API ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, problems = await _arguments(request, self._consumes_json(method))
        for problem in problems:
            self.violation(f"{method}: {problem}")
        token = args.pop("token", None)
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header.removeprefix("Bearer ")
        self.calls.append((method, dict(args)))
        if not token:
            self.violation(f"{method}: no token")
            return self._answer(request, method, {"ok": False, "error": "not_authed"})
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            known = token in (self.app_token, self.bot_token)
            self.violation(f"{method}: {'the wrong kind of token' if known else 'a token Slack does not know'}")
            error = "not_allowed_token_type" if known else "invalid_auth"
            return self._answer(request, method, {"ok": False, "error": error})
        self.check_throttle(request.method, method, key=method)
        fault = self.faults.take(request.method, method)
        if fault is not None:
            if fault.status == 429:
                self.throttle(method, fault.retry_after)
                headers = {"Retry-After": str(int(fault.retry_after or 1))}
                self.requests.append(RecordedRequest(request.method, method, 429))
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            return self._answer(request, method, {"ok": False, "error": "fatal_error"}, status=fault.status)
        missing = self._missing_arguments(method, args)
        if missing is not None:
            return self._answer(request, method, missing)
        scope = METHOD_SCOPES.get(method)
        if scope is not None and scope not in self.scopes:
            self.violation(f"{method}: the token lacks the {scope} scope")
            return self._answer(
                request,
                method,
                {"ok": False, "error": "missing_scope", "needed": scope, "provided": ",".join(sorted(self.scopes))},
            )
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            self.violation(f"{method}: the fake does not implement it")
            return self._answer(request, method, {"ok": False, "error": "unknown_method"})
        return self._answer(request, method, handler(args))

    def _answer(self, request: web.Request, method: str, body: dict[str, Any], status: int = 200) -> web.Response:
        self.requests.append(RecordedRequest(request.method, method, status))
        return web.json_response(body, status=status)

    def _consumes_json(self, method: str) -> bool:
        op = self.spec_ops.get(method)
        if op is None:
            return method in SUPPLEMENT
        return "application/json" in op.get("consumes", [])

    def _missing_arguments(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        if method in SUPPLEMENT:
            required: tuple[str, ...] = SUPPLEMENT[method][0]
        elif method in self.spec_ops:
            required = tuple(
                p["name"] for p in self.spec_ops[method]["parameters"] if p.get("required") and p.get("name") != "token"
            )
        else:
            self.violation(f"{method}: no such method in the spec")
            return {"ok": False, "error": "unknown_method"}
        for name in required:
            if args.get(name) in (None, ""):
                self.violation(f"{method}: required argument {name!r} missing")
                return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [name]}}
        return None

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _blocks(self, method: str, args: dict[str, Any], *, required_text: bool = True) -> list[dict[str, Any]] | str:
        """The message's blocks, or an error code Slack would answer with."""
        raw = args.get("blocks")
        blocks: Any = [] if raw in (None, "") else raw
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                self.violation(f"{method}: blocks is not JSON")
                return "invalid_blocks_format"
        problems = check_blocks(blocks, limit=50)
        for problem in problems:
            self.violation(f"{method}: {problem}")
        if problems:
            return "invalid_blocks"
        if required_text and not args.get("text") and not blocks and not args.get("attachments"):
            self.violation(f"{method}: no text and no blocks")
            return "no_text"
        return list(blocks)

    def _channel_ok(self, channel: str) -> bool:
        return channel in self.channels or channel.startswith(("D", "U", "W"))

    # -- methods (each takes the parsed arguments and returns the JSON answer) ------------

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "accessbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "B0ACCESSBOT",
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        blocks = self._blocks("chat.postMessage", args)
        if isinstance(blocks, str):
            return {"ok": False, "error": blocks}
        if channel.startswith(("U", "W")):
            channel = _dm_channel(channel)  # Slack posts to the app's DM with that user
        thread = args.get("thread_ts") or None
        if thread is not None and not any(m.ts == thread and m.channel == channel for m in self.messages):
            self.violation(f"chat.postMessage: thread_ts {thread} is not a message in {channel}")
        message = SlackMessage(channel, self._next_ts(), str(args.get("text") or ""), blocks, thread)
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": {"text": message.text, "ts": message.ts}}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args["channel"]), str(args["ts"])
        found = next((m for m in self.messages if m.channel == channel and m.ts == ts), None)
        if found is None:
            self.violation(f"chat.update: no message {ts} in {channel}")
            return {"ok": False, "error": "message_not_found"}
        blocks = self._blocks("chat.update", args)
        if isinstance(blocks, str):
            return {"ok": False, "error": blocks}
        found.history.append({"text": found.text, "blocks": found.blocks})
        found.text, found.blocks = str(args.get("text") or found.text), blocks
        return {"ok": True, "channel": channel, "ts": ts, "text": found.text}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        blocks = self._blocks("chat.postEphemeral", args)
        if isinstance(blocks, str):
            return {"ok": False, "error": blocks}
        self.ephemerals.append({"channel": channel, "user": args["user"], "text": args.get("text"), "blocks": blocks})
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.as_json(with_email="users:read.email" in self.scopes)}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args["email"]).casefold()
        for user in self.users.values():
            if user.email and user.email.casefold() == email:
                return {"ok": True, "user": user.as_json(with_email=True)}
        return {"ok": False, "error": "users_not_found"}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            return {"ok": False, "error": "not_implemented" if users else "users_list_not_supplied"}
        if users[0] not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": _dm_channel(users[0])}}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args["view"]
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                self.violation("views.open: view is not JSON")
                return {"ok": False, "error": "invalid_arguments"}
        problems = check_view(view)
        for problem in problems:
            self.violation(f"views.open: {problem}")
        if problems:
            return {"ok": False, "error": "invalid_arguments"}
        self.views.append({"trigger_id": args["trigger_id"], "view": view})
        return {"ok": True, "view": {"id": f"V{len(self.views):08d}", **view}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(args["length"])
        except ValueError:
            self.violation("files.getUploadURLExternal: length is not a number")
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + 1:08d}"
        self.uploads[file_id] = {"filename": args["filename"], "length": length, "data": None}
        return {"ok": True, "upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"]
        if isinstance(files, str):
            files = json.loads(files)
        done = []
        for item in files:
            upload = self.uploads.get(item.get("id", ""))
            if upload is None or upload["data"] is None:
                self.violation(f"files.completeUploadExternal: file {item.get('id')} was never uploaded")
                return {"ok": False, "error": "file_not_found"}
            shared = {
                "id": item["id"],
                "title": item.get("title") or upload["filename"],
                "channel": args.get("channel_id"),
                "thread_ts": args.get("thread_ts"),
                "data": upload["data"],
            }
            self.files.append(shared)
            done.append({"id": item["id"], "title": shared["title"]})
        return {"ok": True, "files": done}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        scheme = "wss" if self.tls else "ws"
        return {"ok": True, "url": f"{scheme}://127.0.0.1:{self.port}/socket"}

    # -- Socket Mode ---------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)  # answers the SDK's pings with pongs
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": len(self.sockets), "connection_info": {"app_id": "A0ACCESSBOT"}}
        )
        async for frame in socket:
            try:
                ack = json.loads(frame.data)
            except (TypeError, ValueError):
                self.violation("socket mode: a frame that is not JSON")
                continue
            if "envelope_id" not in ack:
                self.violation("socket mode: a frame without envelope_id")
                continue
            self.socket_acks[ack["envelope_id"]] = ack
        self.sockets.remove(socket)
        return socket

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Deliver a Socket Mode envelope (as Slack does: to one open connection)."""
        await self.sockets[-1].send_json(envelope)

    # -- the other hosts -----------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.requests.append(RecordedRequest("POST", f"/upload/{file_id}", self.upload_status))
        upload = self.uploads.get(file_id)
        if upload is None:
            self.violation(f"upload: unknown file {file_id}")
            return web.Response(status=404, text="not found")
        if self.upload_status != 200:
            return web.Response(status=self.upload_status, text="upload failed")
        if len(data) != upload["length"]:
            self.violation(f"upload: {len(data)} bytes sent, {upload['length']} announced")
        upload["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _response_url(self, request: web.Request) -> web.Response:
        path = "/response/" + request.match_info["tail"]
        self.requests.append(RecordedRequest("POST", path, 200))
        try:
            body = json.loads(await request.read())
        except ValueError:
            self.violation(f"response_url {path}: body is not JSON")
            return web.Response(status=400, text="invalid_payload")
        problems = check_blocks(body.get("blocks") or [], limit=50)
        for problem in problems:
            self.violation(f"response_url: {problem}")
        self.responses.append((path, body))
        return web.Response(text="ok")


# ---- Block Kit limits (docs.slack.dev/reference/block-kit) ---------------------------------


def check_blocks(blocks: Any, *, limit: int) -> list[str]:
    """The Block Kit rules Slack enforces with invalid_blocks that our messages could break."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    problems = [f"{len(blocks)} blocks (at most {limit})"] if len(blocks) > limit else []
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            text = block.get("text")
            if text is not None:
                problems += _text(text, 3000, f"{where}.text")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields (at most 10)")
            for i, item in enumerate(fields):
                problems += _text(item, 2000, f"{where}.fields[{i}]")
            if text is None and not fields:
                problems.append(f"{where}: a section needs text or fields")
            if block.get("accessory"):
                problems += _element(block["accessory"], f"{where}.accessory")
        elif kind == "header":
            problems += _text(block.get("text"), 150, f"{where}.text", plain_only=True)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                problems.append(f"{where}: {len(elements)} elements (1 to 10)")
            for i, item in enumerate(elements):
                problems += _text(item, 2000, f"{where}.elements[{i}]")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                problems.append(f"{where}: {len(elements)} elements (1 to 25)")
            for i, item in enumerate(elements):
                problems += _element(item, f"{where}.elements[{i}]")
        elif kind == "input":
            problems += _text(block.get("label"), 2000, f"{where}.label", plain_only=True)
            problems += _element(block.get("element") or {}, f"{where}.element")
        elif kind in ("divider", "image"):
            pass
        else:
            problems.append(f"{where}: unknown block type {kind!r}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None and len(str(block_id)) > 255:
            problems.append(f"{where}.block_id longer than 255")
    return problems


def check_view(view: Any) -> list[str]:
    if not isinstance(view, dict) or view.get("type") != "modal":
        return ["view must be a modal object"]
    problems = _text(view.get("title"), 24, "view.title", plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            problems += _text(view[key], 24, f"view.{key}", plain_only=True)
    if len(str(view.get("private_metadata") or "")) > 3000:
        problems.append("view.private_metadata longer than 3000")
    has_input = any(b.get("type") == "input" for b in view.get("blocks", []))
    if has_input and "submit" not in view:
        problems.append("a modal with input blocks needs submit")
    return problems + check_blocks(view.get("blocks"), limit=100)


def _text(obj: Any, limit: int, where: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if plain_only and obj["type"] != "plain_text":
        return [f"{where}: must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}: empty text"]
    if len(text) > limit:
        return [f"{where}: {len(text)} characters (at most {limit})"]
    return []


def _element(element: dict[str, Any], where: str) -> list[str]:
    kind = element.get("type")
    problems: list[str] = []
    if len(str(element.get("action_id") or "")) > 255:
        problems.append(f"{where}.action_id longer than 255")
    if kind == "button":
        problems += _text(element.get("text"), 75, f"{where}.text", plain_only=True)
        if len(str(element.get("value") or "")) > 2000:
            problems.append(f"{where}.value longer than 2000")
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}.style {element.get('style')!r}")
        confirm = element.get("confirm")
        if confirm is not None:
            for key, size in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
                problems += _text(confirm.get(key), size, f"{where}.confirm.{key}")
    elif kind == "static_select":
        options = element.get("options") or []
        if not 1 <= len(options) <= 100:
            problems.append(f"{where}: {len(options)} options (1 to 100)")
        for i, option in enumerate(options):
            problems += _text(option.get("text"), 75, f"{where}.options[{i}].text", plain_only=True)
            if not 1 <= len(str(option.get("value") or "")) <= 150:
                problems.append(f"{where}.options[{i}].value: 1 to 150 characters")
    elif kind == "plain_text_input":
        if int(element.get("max_length") or 0) > 3000:
            problems.append(f"{where}.max_length over 3000")
    else:
        problems.append(f"{where}: unknown element type {kind!r}")
    return problems


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        for key in ("text", "label"):
            value = block.get(key)
            if isinstance(value, dict) and "text" in value:
                found.append(value["text"])
        for item in block.get("fields", []) + block.get("elements", []):
            if isinstance(item, dict) and isinstance(item.get("text"), dict):
                found.append(item["text"]["text"])
            elif isinstance(item, dict) and "text" in item:
                found.append(str(item["text"]))
    return found


def _dm_channel(user_id: str) -> str:
    return "D" + user_id[1:]


async def _arguments(request: web.Request, json_allowed: bool) -> tuple[dict[str, Any], list[str]]:
    """Slack reads arguments from the query string and from a form or JSON body."""
    args: dict[str, Any] = dict(request.query)
    problems: list[str] = []
    raw = await request.read()
    if not raw:
        return args, problems
    content_type = request.content_type
    if content_type == "application/json":
        if not json_allowed:
            problems.append("sent as JSON, which this method does not accept (Slack ignores the arguments)")
        try:
            body = json.loads(raw)
        except ValueError:
            problems.append("body is not JSON")
            return args, problems
        if isinstance(body, dict):
            args.update(body)
    elif content_type == "application/x-www-form-urlencoded":
        args.update(dict(parse_qsl(raw.decode(), keep_blank_values=True)))
    else:
        problems.append(f"body sent as {content_type!r}")
    return args, problems
