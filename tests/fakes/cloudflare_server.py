"""A fake Cloudflare API v4: Access session revocation, Gateway rules and token verification.

Answers in Cloudflare's envelope `{"success", "errors", "messages", "result"}`, takes
`Authorization: Bearer <token>`, knows account-owned and user-owned tokens, and checks every
request against Cloudflare's OpenAPI schema (`reference/cloudflare/cloudflare_openapi_trimmed.json`,
2024-08) plus the two documented token-verify endpoints the extract lacks (`SUPPLEMENT`).
Requests the real API would reject are recorded in `violations`; the fixture fails the test on them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer, RecordedRequest
from tests.fakes.openapi import CLOUDFLARE_SPEC, OpenAPIIndex

SUPPLEMENT: tuple[tuple[str, str, str], ...] = (
    (
        "GET",
        "/accounts/{account_id}/tokens/verify",
        "https://developers.cloudflare.com/api/resources/accounts/subresources/tokens/methods/verify",
    ),
    (
        "GET",
        "/user/tokens/verify",
        "https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/verify",
    ),
)

REVOKE_PERMISSION = "Access: Organizations Revoke"
GATEWAY_READ_PERMISSION = "Zero Trust Read"


@dataclass
class FakeToken:
    """An API token: owned by the account (the recommended kind for automation) or by a user."""

    value: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    owner: str = "account"  # "account" or "user"
    status: str = "active"
    permissions: frozenset[str] = frozenset({REVOKE_PERMISSION, GATEWAY_READ_PERMISSION})


Answer = tuple[int, dict[str, Any]]


@dataclass
class FakeCloudflareServer(FakeServer):
    """The fake Cloudflare API. `base_url` is what CLOUDFLARE_API_URL would be set to."""

    account_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tokens: dict[str, FakeToken] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    active_sessions: set[str] = field(default_factory=set)  # e-mails with Access sessions (result=true)
    revocations: dict[str, int] = field(default_factory=dict)
    revoke_bodies: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.spec = OpenAPIIndex.load(CLOUDFLARE_SPEC)
        for method, template, source in SUPPLEMENT:
            self.spec.add(method, template, source=source)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/client/v4"

    # -- back door -----------------------------------------------------------------------

    def add_token(self, value: str | None = None, **kwargs: Any) -> FakeToken:
        token = FakeToken(value or uuid.uuid4().hex + uuid.uuid4().hex[:8], **kwargs)
        self.tokens[token.value] = token
        return token

    def add_rule(
        self,
        *,
        name: str,
        traffic: str,
        identity: str = "",
        action: str = "block",
        enabled: bool = True,
        filters: tuple[str, ...] = ("l4",),
        precedence: int | None = None,
    ) -> dict[str, Any]:
        rule = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": "",
            "action": action,
            "enabled": enabled,
            "filters": list(filters),
            "traffic": traffic,
            "identity": identity,
            "device_posture": "",
            "precedence": precedence if precedence is not None else (len(self.rules) + 1) * 1000,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "deleted_at": None,
            "rule_settings": {},
            "version": 1,
        }
        self.rules.append(rule)
        return rule

    # -- HTTP ----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/client/v4/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self.violation(f"{request.method} {path}: body is not JSON")
                return self._respond(request.method, path, _failure(400, 6007, "Malformed JSON in request body"))
        problems = self.spec.check(request.method, path, dict(request.query), body)
        for problem in problems:
            self.violation(problem)
        if problems:
            return self._respond(request.method, path, _failure(400, 7003, "Could not route to " + path))
        token = self._token(request.method, path, request.headers.get("Authorization"))
        if isinstance(token, tuple):
            return self._respond(request.method, path, token)
        self.check_throttle(request.method, path)
        fault = self.faults.take(request.method, path)
        if fault is not None:
            if fault.status == 429:
                self.throttle(None, fault.retry_after)
            status, payload = _failure(
                fault.status,
                10013 if fault.status == 429 else 10001,
                "Rate limited" if fault.status == 429 else "Service unavailable",
            )
            headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
            return self._respond(request.method, path, (status, payload), headers)
        return self._respond(request.method, path, self._route(request.method, path, body, token))

    def _respond(self, method: str, path: str, answer: Answer, headers: dict[str, str] | None = None) -> web.Response:
        status, payload = answer
        self.requests.append(RecordedRequest(method, path, status))
        return web.json_response(payload, status=status, headers={"cf-ray": uuid.uuid4().hex[:16], **(headers or {})})

    def _token(self, method: str, path: str, header: str | None) -> FakeToken | Answer:
        if not header or not header.startswith("Bearer "):
            self.violation(f"{method} {path}: no Authorization: Bearer header")
            return _failure(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        token = self.tokens.get(header.removeprefix("Bearer "))
        if token is None or token.status != "active":
            return _failure(
                401 if path.endswith("/tokens/verify") else 403,
                1000 if path.endswith("/tokens/verify") else 10000,
                "Invalid API Token" if path.endswith("/tokens/verify") else "Authentication error",
            )
        return token

    def _route(self, method: str, path: str, body: Any, token: FakeToken) -> Answer:
        segments = path.strip("/").split("/")
        if segments == ["user", "tokens", "verify"]:
            if token.owner != "user":
                return _failure(401, 1000, "Invalid API Token")
            return _success({"id": token.id, "status": token.status})
        if segments[0] != "accounts" or len(segments) < 2:
            return _failure(404, 7000, "No route for that URI")
        if segments[1] != self.account_id:
            return _failure(403, 10000, "Authentication error")
        rest = segments[2:]
        if rest == ["tokens", "verify"]:
            if token.owner != "account":
                return _failure(401, 1000, "Invalid API Token")
            return _success({"id": token.id, "status": token.status})
        if rest == ["access", "organizations", "revoke_user"] and method == "POST":
            if REVOKE_PERMISSION not in token.permissions:
                return _failure(403, 10000, "Authentication error")
            email = str(body["email"])
            self.revoke_bodies.append(dict(body))
            self.revocations[email] = self.revocations.get(email, 0) + 1
            had_sessions = email in self.active_sessions
            self.active_sessions.discard(email)
            return _success(had_sessions)
        if rest == ["gateway", "rules"] and method == "GET":
            if GATEWAY_READ_PERMISSION not in token.permissions:
                return _failure(403, 10000, "Authentication error")
            payload = _success([dict(rule) for rule in self.rules])[1]
            payload["result_info"] = {
                "page": 1,
                "per_page": len(self.rules),
                "count": len(self.rules),
                "total_count": len(self.rules),
            }
            return 200, payload
        return _failure(501, 7000, f"the fake Cloudflare API does not implement {method} {path}")


def _success(result: Any) -> Answer:
    return 200, {"success": True, "errors": [], "messages": [], "result": result}


def _failure(status: int, code: int, message: str) -> Answer:
    return status, {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
