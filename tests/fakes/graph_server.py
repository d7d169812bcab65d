"""A fake Microsoft Graph v1.0 for users, groups, memberships and sign-in session revocation.

It behaves like the service where our adapter depends on it:

* error bodies `{"error": {"code", "message", "innerError": {"request-id", ...}}}` and a
  `request-id` header on every answer;
* "already a member" is a 400 `Request_BadRequest` mentioning 'members'; removing a
  non-member is a 404 `Request_ResourceNotFound`;
* JSON `$batch`: at most 20 requests, unique ids, per-item status, items answered in any
  order (here: reversed), 424 for an item whose `dependsOn` failed, per-item 429;
* throttling and outages from a programmable fault queue (`faults` for whole HTTP requests,
  `batch_item_faults` for single operations inside a batch);
* Authorization: only bearer tokens issued by the fake token server for this audience;
  application permissions (`roles`) are enforced for reads and writes.

Every request (and every batch item) is checked against Microsoft's OpenAPI description
(`reference/graph/msgraph_v1.0_openapi_trimmed.json`) plus the few documented endpoints the
trimmed extract lacks (listed in `SUPPLEMENT`). A request the real service would reject
is answered like Graph would and recorded in `violations`; the `graph_server` fixture
fails the test if any were recorded.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
from aiohttp import web

from tests.fakes.base import FakeServer, FaultQueue, RecordedRequest
from tests.fakes.openapi import GRAPH_SPEC, OpenAPIIndex, schema_properties
from tests.fakes.token_server import FakeTokenServer

# Documented Graph v1.0 endpoints that the trimmed OpenAPI extract does not contain.
SUPPLEMENT: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("GET", "/users", (), "https://learn.microsoft.com/graph/api/user-list"),
    ("GET", "/groups/{group-id}", (), "https://learn.microsoft.com/graph/api/group-get"),
    (
        "POST",
        "/users/{user-id}/checkMemberGroups",
        ("groupIds",),
        "https://learn.microsoft.com/graph/api/user-checkmembergroups",
    ),
    (
        "POST",
        "/directoryObjects/{directoryObject-id}/checkMemberGroups",
        ("groupIds",),
        "https://learn.microsoft.com/graph/api/directoryobject-checkmembergroups",
    ),
    ("POST", "/$batch", ("requests",), "https://learn.microsoft.com/graph/json-batching"),
)

USER_READ_ROLES = frozenset(
    {"User.Read.All", "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
GROUP_READ_ROLES = frozenset(
    {
        "GroupMember.Read.All",
        "Group.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
MEMBER_WRITE_ROLES = frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
REVOKE_ROLES = frozenset({"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"})
DEFAULT_APP_ROLES = ("User.Read.All", "GroupMember.ReadWrite.All", "User.RevokeSessions.All")

MAX_BATCH = 20
_NOT_FOUND = "Resource '{}' does not exist or one of its queried reference-property objects are not present."
_ALREADY_MEMBER = "One or more added object references already exist for the following modified properties: 'members'."


@dataclass
class GraphUser:
    id: str
    upn: str
    mail: str | None
    display_name: str
    user_type: str = "Member"
    revocations: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.user",
            "id": self.id,
            "userPrincipalName": self.upn,
            "mail": self.mail,
            "displayName": self.display_name,
            "userType": self.user_type,
            "accountEnabled": True,
        }


@dataclass
class GraphGroup:
    id: str
    display_name: str
    members: set[str] = field(default_factory=set)
    dynamic: bool = False
    security_enabled: bool = True
    role_assignable: bool = False
    writes: int = 0  # membership changes that changed something

    def as_json(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.group",
            "id": self.id,
            "displayName": self.display_name,
            "groupTypes": ["DynamicMembership"] if self.dynamic else [],
            "membershipRule": '(user.department -eq "Sales")' if self.dynamic else None,
            "securityEnabled": self.security_enabled,
            "mailEnabled": False,
            "isAssignableToRole": self.role_assignable,
        }


Answer = tuple[int, dict[str, str], Any]  # status, headers, JSON body (None: empty)


@dataclass
class FakeGraphServer(FakeServer):
    """The fake Graph. `graph_url` is what GRAPH_API_URL would be set to."""

    token_server: FakeTokenServer | None = None
    users: dict[str, GraphUser] = field(default_factory=dict)
    groups: dict[str, GraphGroup] = field(default_factory=dict)
    operations: list[RecordedRequest] = field(default_factory=list)  # every operation, batch items included
    batch_item_faults: FaultQueue = field(default_factory=FaultQueue)
    batches: list[int] = field(default_factory=list)  # size of each $batch received

    def __post_init__(self) -> None:
        self.spec = OpenAPIIndex.load(GRAPH_SPEC, action_prefix="microsoft.graph.")
        for method, template, required, source in SUPPLEMENT:
            self.spec.add(method, template, required_body=required, source=source)
        self.user_properties = schema_properties(GRAPH_SPEC, "microsoft.graph.user")
        self.group_properties = schema_properties(GRAPH_SPEC, "microsoft.graph.group")

    @property
    def graph_url(self) -> str:
        return f"{self.origin}/v1.0"

    # -- back door for tests -------------------------------------------------------------

    def add_user(self, upn: str, mail: str | None = None, *, guest: bool = False, display_name: str = "") -> str:
        user_id = str(uuid.uuid4())
        self.users[user_id] = GraphUser(
            user_id, upn, mail, display_name or upn.split("@")[0], "Guest" if guest else "Member"
        )
        return user_id

    def add_group(
        self, name: str, *, dynamic: bool = False, security_enabled: bool = True, role_assignable: bool = False
    ) -> str:
        group_id = str(uuid.uuid4())
        self.groups[group_id] = GraphGroup(
            group_id, name, dynamic=dynamic, security_enabled=security_enabled, role_assignable=role_assignable
        )
        return group_id

    def nest(self, parent: str, child: str) -> None:
        self.groups[parent].members.add(child)

    def members(self, group_id: str) -> set[str]:
        return set(self.groups[group_id].members)

    def is_transitive_member(self, object_id: str, group_id: str, _seen: frozenset[str] = frozenset()) -> bool:
        group = self.groups.get(group_id)
        if group is None or group_id in _seen:
            return False
        if object_id in group.members:
            return True
        return any(
            self.is_transitive_member(object_id, child, _seen | {group_id})
            for child in group.members
            if child in self.groups
        )

    def operation_count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """Operations (single requests and batch items) that matched."""
        return sum(
            1
            for r in self.operations
            if (method is None or r.method == method) and (path_contains is None or path_contains in r.path)
        )

    # -- HTTP ----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v1.0/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        request_id = str(uuid.uuid4())
        path = "/" + request.match_info["tail"]
        query = dict(request.query)
        raw = await request.read()
        answer: Answer
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self.violation(f"{request.method} {path}: body is not JSON")
                answer = _error(400, "BadRequest", "Unable to read JSON request payload.", request_id)
                return self._respond(request.method, path, answer, request_id)
            if not request.content_type.startswith("application/json"):
                self.violation(f"{request.method} {path}: body sent as {request.content_type!r}")
        claims = self._authenticate(request.method, path, request.headers.get("Authorization"))
        if isinstance(claims, tuple):
            return self._respond(request.method, path, claims, request_id)
        self.check_throttle(request.method, path)
        fault = self.faults.take(request.method, path)
        if fault is not None:
            if fault.status == 429:
                self.throttle(None, fault.retry_after)
            answer = _fault_answer(fault.status, fault.retry_after, request_id)
        elif path == "/$batch" and request.method == "POST":
            self._check_spec(request.method, path, query, body)
            answer = self._batch(body, claims, request_id)
        else:
            answer = self._operation(request.method, path, query, body, claims, request_id)
        return self._respond(request.method, path, answer, request_id)

    def _respond(self, method: str, path: str, answer: Answer, request_id: str) -> web.Response:
        status, headers, payload = answer
        self.requests.append(RecordedRequest(method, path, status))
        headers = {
            **headers,
            "request-id": request_id,
            "client-request-id": request_id,
            "x-ms-ags-diagnostic": json.dumps({"ServerInfo": {"DataCenter": "Fake", "Slice": "E"}}),
        }
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    def _authenticate(self, method: str, path: str, header: str | None) -> dict[str, Any] | Answer:
        rid = str(uuid.uuid4())
        if not header or not header.startswith("Bearer "):
            self.violation(f"{method} {path}: no bearer token")
            return _error(401, "InvalidAuthenticationToken", "Access token is empty.", rid)
        if self.token_server is None:
            return {"roles": sorted(MEMBER_WRITE_ROLES | USER_READ_ROLES | REVOKE_ROLES)}
        try:
            return self.token_server.validate(header.removeprefix("Bearer "), audience=self.origin)
        except jwt.InvalidTokenError as exc:
            self.violation(f"{method} {path}: invalid token ({exc})")
            return _error(401, "InvalidAuthenticationToken", f"Access token validation failure. {exc}", rid)

    def _check_spec(self, method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
        problems = self.spec.check(method, path, query, body)
        for problem in problems:
            self.violation(problem)
        return problems

    # -- operations ----------------------------------------------------------------------

    def _operation(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        claims: dict[str, Any],
        request_id: str,
    ) -> Answer:
        problems = self._check_spec(method, path, query, body)
        if problems:
            op, path_exists = self.spec.match(method, path)
            if op is None and path_exists:
                return _error(
                    405, "Request_BadRequest", "Specified HTTP method is not allowed for the request uri.", request_id
                )
            if op is None:
                segment = path.rstrip("/").rsplit("/", 1)[-1]
                return _error(400, "BadRequest", f"Resource not found for the segment '{segment}'.", request_id)
            return _error(400, "BadRequest", problems[0], request_id)
        answer = self._route(method, path, query, body, set(claims.get("roles", [])), request_id)
        self.operations.append(RecordedRequest(method, path, answer[0]))
        return answer

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, roles: set[str], rid: str) -> Answer:
        segments = path.strip("/").split("/")
        action = _action_name(segments[-1])
        if segments[0] == "users" and len(segments) == 1 and method == "GET":
            return self._list_users(query, roles, rid)
        if segments[0] == "users" and len(segments) == 2 and method == "GET":
            return self._get_user(segments[1], query, roles, rid)
        if segments[0] in ("users", "directoryObjects") and len(segments) == 3 and action == "checkMemberGroups":
            return self._check_member_groups(segments[1], body, roles, rid)
        if segments[0] == "users" and len(segments) == 3 and action == "revokeSignInSessions":
            return self._revoke(segments[1], roles, rid)
        if segments[0] == "groups" and len(segments) == 2 and method == "GET":
            return self._get_group(segments[1], query, roles, rid)
        if segments[0] == "groups" and segments[2:] == ["members"] and method == "GET":
            return self._list_members(segments[1], roles, rid)
        if segments[0] == "groups" and segments[2:] == ["members", "$ref"] and method == "POST":
            return self._add_member(segments[1], body, roles, rid)
        if segments[0] == "groups" and segments[2:] == ["members", "$ref"] and method == "DELETE":
            target = query.get("@id") or query.get("$id") or ""
            return self._remove_member(segments[1], target.rstrip("/").rsplit("/", 1)[-1], roles, rid)
        if segments[0] == "groups" and len(segments) == 5 and segments[2] == "members" and segments[4] == "$ref":
            return self._remove_member(segments[1], segments[3], roles, rid)
        return _error(501, "NotImplemented", f"the fake Graph does not implement {method} {path}", rid)

    def _find_user(self, key: str) -> GraphUser | None:
        user = self.users.get(key)
        if user is not None:
            return user
        folded = key.casefold()
        return next((u for u in self.users.values() if u.upn.casefold() == folded), None)

    def _select(
        self, obj: dict[str, Any], query: dict[str, str], allowed: frozenset[str], type_name: str, rid: str
    ) -> dict[str, Any] | Answer:
        if "$select" not in query:
            return obj
        fields = [f.strip() for f in query["$select"].split(",") if f.strip()]
        unknown = [f for f in fields if f not in allowed]
        if unknown:
            self.violation(f"$select of unknown property {unknown[0]!r} on {type_name}")
            return _error(
                400, "Request_BadRequest", f"Could not find a property named '{unknown[0]}' on type '{type_name}'.", rid
            )
        return {k: v for k, v in obj.items() if k in fields or k.startswith("@odata")}

    def _list_users(self, query: dict[str, str], roles: set[str], rid: str) -> Answer:
        if not roles & USER_READ_ROLES:
            return _forbidden(rid)
        matches: Iterable[GraphUser] = self.users.values()
        if "$filter" in query:
            terms = _parse_filter(query["$filter"])
            if terms is None:
                self.violation(f"$filter not understood by the fake: {query['$filter']!r}")
                return _error(400, "Request_UnsupportedQuery", "Unsupported Query.", rid)
            matches = [u for u in matches if any(_user_field(u, prop) == value.casefold() for prop, value in terms)]
        values = []
        for user in matches:
            selected = self._select(user.as_json(), query, self.user_properties, "microsoft.graph.user", rid)
            if isinstance(selected, tuple):
                return selected
            values.append(selected)
        return 200, {}, {"@odata.context": f"{self.graph_url}/$metadata#users", "value": values}

    def _get_user(self, key: str, query: dict[str, str], roles: set[str], rid: str) -> Answer:
        if not roles & USER_READ_ROLES:
            return _forbidden(rid)
        user = self._find_user(key)
        if user is None:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        selected = self._select(user.as_json(), query, self.user_properties, "microsoft.graph.user", rid)
        return selected if isinstance(selected, tuple) else (200, {}, selected)

    def _get_group(self, key: str, query: dict[str, str], roles: set[str], rid: str) -> Answer:
        if not roles & GROUP_READ_ROLES:
            return _forbidden(rid)
        group = self.groups.get(key)
        if group is None:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        selected = self._select(group.as_json(), query, self.group_properties, "microsoft.graph.group", rid)
        return selected if isinstance(selected, tuple) else (200, {}, selected)

    def _list_members(self, key: str, roles: set[str], rid: str) -> Answer:
        if not roles & GROUP_READ_ROLES:
            return _forbidden(rid)
        group = self.groups.get(key)
        if group is None:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        values = [self.users[m].as_json() if m in self.users else self.groups[m].as_json() for m in group.members]
        return 200, {}, {"value": values}

    def _check_member_groups(self, key: str, body: Any, roles: set[str], rid: str) -> Answer:
        if not (roles & USER_READ_ROLES and roles & GROUP_READ_ROLES) and "Directory.Read.All" not in roles:
            return _forbidden(rid)
        group_ids = body.get("groupIds") if isinstance(body, dict) else None
        if not isinstance(group_ids, list) or not all(isinstance(g, str) for g in group_ids):
            self.violation("checkMemberGroups without a list of groupIds")
            return _error(400, "Request_BadRequest", "Invalid value for 'groupIds'.", rid)
        if len(group_ids) > 20:
            self.violation(f"checkMemberGroups with {len(group_ids)} groups (max 20)")
            return _error(400, "Request_BadRequest", "Too many groups; at most 20 per request.", rid)
        user = self._find_user(key)
        if user is None and key not in self.groups:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        object_id = user.id if user is not None else key
        value = [g for g in group_ids if self.is_transitive_member(object_id, g)]
        return 200, {}, {"@odata.context": f"{self.graph_url}/$metadata#Collection(Edm.String)", "value": value}

    def _revoke(self, key: str, roles: set[str], rid: str) -> Answer:
        if not roles & REVOKE_ROLES:
            return _forbidden(rid)
        user = self._find_user(key)
        if user is None:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        user.revocations += 1
        return 200, {}, {"@odata.context": f"{self.graph_url}/$metadata#Edm.Boolean", "value": True}

    def _add_member(self, key: str, body: Any, roles: set[str], rid: str) -> Answer:
        reference = body.get("@odata.id") if isinstance(body, dict) else None
        if not isinstance(reference, str):
            self.violation("POST members/$ref without '@odata.id'")
            return _error(400, "Request_BadRequest", "Missing '@odata.id' in the request body.", rid)
        match = re.fullmatch(re.escape(self.graph_url) + r"/(?:directoryObjects|users|groups)/([^/]+)", reference)
        if match is None:
            self.violation(f"POST members/$ref with '@odata.id' {reference!r}")
            return _error(400, "Request_BadRequest", f"Invalid URL format specified in @odata.id: {reference}", rid)
        if not roles & MEMBER_WRITE_ROLES:
            return _forbidden(rid)
        group = self.groups.get(key)
        member_id = match.group(1)
        if group is None:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        if member_id not in self.users and member_id not in self.groups:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(member_id), rid)
        if group.dynamic:
            return _error(
                400,
                "Request_BadRequest",
                "Insufficient privileges to complete the operation: members of "
                "a group with dynamic membership cannot be changed.",
                rid,
            )
        if member_id in group.members:
            return _error(400, "Request_BadRequest", _ALREADY_MEMBER, rid)
        group.members.add(member_id)
        group.writes += 1
        return 204, {}, None

    def _remove_member(self, key: str, member_id: str, roles: set[str], rid: str) -> Answer:
        if not roles & MEMBER_WRITE_ROLES:
            return _forbidden(rid)
        group = self.groups.get(key)
        if group is None:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(key), rid)
        if group.dynamic:
            return _error(
                400,
                "Request_BadRequest",
                "Insufficient privileges to complete the operation: members of "
                "a group with dynamic membership cannot be changed.",
                rid,
            )
        if member_id not in group.members:
            return _error(404, "Request_ResourceNotFound", _NOT_FOUND.format(member_id), rid)
        group.members.discard(member_id)
        group.writes += 1
        return 204, {}, None

    # -- $batch --------------------------------------------------------------------------

    def _batch(self, body: Any, claims: dict[str, Any], rid: str) -> Answer:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            self.violation("$batch without requests")
            return _error(400, "BadRequest", "Invalid batch payload format.", rid)
        self.batches.append(len(requests))
        if len(requests) > MAX_BATCH:
            self.violation(f"$batch with {len(requests)} requests (max {MAX_BATCH})")
            return _error(400, "BadRequest", f"Number of batch requests exceeds the limit of {MAX_BATCH}.", rid)
        ids = [item.get("id") if isinstance(item, dict) else None for item in requests]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            self.violation(f"$batch with missing or duplicate ids {ids}")
            return _error(400, "BadRequest", "Batch request ids must be unique non-empty strings.", rid)
        statuses: dict[str, int] = {}
        responses = []
        for item in requests:
            item_id = item["id"]
            status, headers, payload = self._batch_item(item, statuses, claims)
            statuses[item_id] = status
            response: dict[str, Any] = {"id": item_id, "status": status, "headers": headers}
            if payload is not None:
                response["body"] = payload
            responses.append(response)
        responses.reverse()  # Graph answers in any order: clients must match on id
        return 200, {}, {"responses": responses}

    def _batch_item(self, item: dict[str, Any], statuses: dict[str, int], claims: dict[str, Any]) -> Answer:
        rid = str(uuid.uuid4())
        method, url = item.get("method"), item.get("url")
        if not isinstance(method, str) or not isinstance(url, str):
            self.violation(f"$batch item {item.get('id')} without method or url")
            return _error(400, "BadRequest", "Batch item needs 'method' and 'url'.", rid)
        if url.startswith(("http://", "https://")):
            self.violation(f"$batch item {item['id']} with absolute url {url!r}")
            return _error(400, "BadRequest", "Batch item url must be relative to the version root.", rid)
        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
        if "body" in item and "content-type" not in headers:
            self.violation(f"$batch item {item['id']} has a body but no Content-Type header")
            return _error(400, "BadRequest", "Content-Type header must be specified for requests with a body.", rid)
        for dependency in item.get("dependsOn") or []:
            if dependency not in statuses:
                self.violation(f"$batch item {item['id']} depends on unknown or later item {dependency!r}")
                return _error(400, "BadRequest", "dependsOn must name an earlier request id.", rid)
            if statuses[dependency] >= 400:
                return _error(424, "FailedDependency", "Dependent request failed.", rid)
        parts = urlsplit(url)
        path = "/" + unquote(parts.path).lstrip("/")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.check_throttle(method.upper(), path, key=(method.upper(), path))
        fault = self.batch_item_faults.take(method.upper(), path)
        if fault is not None:
            if fault.status == 429:
                self.throttle((method.upper(), path), fault.retry_after)
            self.operations.append(RecordedRequest(method.upper(), path, fault.status))
            return _fault_answer(fault.status, fault.retry_after, rid)
        return self._operation(method.upper(), path, query, item.get("body"), claims, rid)


def _action_name(segment: str) -> str:
    bare = segment.removeprefix("microsoft.graph.")
    return bare[:-2] if bare.endswith("()") else bare


_FILTER_TERM = re.compile(r"\s*(mail|userPrincipalName|id)\s+eq\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)


def _parse_filter(text: str) -> list[tuple[str, str]] | None:
    """`prop eq 'literal'` terms joined by `or` (OData doubles a quote inside a literal)."""
    terms = []
    for part in re.split(r"\s+or\s+(?=(?:[^']*'[^']*')*[^']*$)", text):
        match = _FILTER_TERM.fullmatch(part)
        if match is None:
            return None
        terms.append((match.group(1).lower(), match.group(2).replace("''", "'")))
    return terms


def _user_field(user: GraphUser, prop: str) -> str | None:
    value = {"mail": user.mail, "userprincipalname": user.upn, "id": user.id}[prop]
    return value.casefold() if value else None


def _error(status: int, code: str, message: str, request_id: str) -> Answer:
    inner = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        "request-id": request_id,
        "client-request-id": request_id,
    }
    return status, {}, {"error": {"code": code, "message": message, "innerError": inner}}


def _forbidden(request_id: str) -> Answer:
    return _error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", request_id)


def _fault_answer(status: int, retry_after: float | None, request_id: str) -> Answer:
    if status == 429:
        code, message = "TooManyRequests", "Too many requests, please try again later."
    elif status == 503:
        code, message = "serviceNotAvailable", "Service Unavailable"
    else:
        code, message = "UnknownError", "An injected failure."
    status_, headers, body = _error(status, code, message, request_id)
    if retry_after is not None:
        headers = {"Retry-After": str(int(retry_after) if float(retry_after).is_integer() else retry_after)}
    return status_, headers, body
