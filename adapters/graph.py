"""`GraphDirectory`: the `Directory` port on Microsoft Graph v1.0 (app-only, client credentials).

Design notes (the why; the what is in the docstrings):

* Tokens come from one long-lived `msal.ConfidentialClientApplication` per directory: msal
  caches the app token and renews it five minutes before expiry. Building the msal app
  performs OpenID discovery over the network, so it is built on first need, never in
  `__init__`, and msal's blocking calls run in a worker thread (`asyncio.to_thread`).
* Graph calls go through one `httpx.AsyncClient` (created on first use, so `SSL_CERT_FILE`
  is read then). 429 answers are retried after their `Retry-After`; 5xx, timeouts and
  connection errors with capped exponential backoff plus jitter (stamina). Every call has a
  bounded budget (`RetryPolicy.budget`) so a caller is never blocked for long; when it runs
  out the call raises `DirectoryError(transient=True)` and the core retries later.
* Writes are idempotent: "already a member" on add and "not a member" on remove are success.
  A member is removed only through `.../members/{id}/$ref`: without `/$ref` Graph deletes
  the directory object itself when the app also holds User.ReadWrite.All.
* Bulk removals and revocations use JSON `$batch` (20 per batch); only the items that failed
  with 429/5xx are sent again, after the longest `Retry-After` among them.
* Errors keep Graph's `request-id`, the handle Microsoft support asks for.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import msal
import requests

from adapters.http_retry import (
    RETRY_STATUSES,
    RetryableError,
    RetryPolicy,
    parse_retry_after,
    request,
    retry_attempts,
)
from workflows.errors import ConfigError, DirectoryError
from workflows.model import Person
from workflows.ports import BulkResult, MembershipChange

log = logging.getLogger(__name__)

DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
BATCH_LIMIT = 20  # Graph JSON batching accepts at most 20 requests per batch

# Application permissions that allow adding and removing user members of a security group.
MEMBER_WRITE_ROLES = frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
REVOKE_ROLES = frozenset({"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"})
USER_READ_ROLES = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})

_USER_SELECT = "id,userPrincipalName,mail,displayName,userType"
_GROUP_SELECT = "id,displayName,groupTypes,securityEnabled,mailEnabled,isAssignableToRole,membershipRule"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# --------------------------------------------------------------------------------------
# Value types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """What the online check needs to know about a group."""

    id: str
    display_name: str
    dynamic: bool  # membership computed from a rule: the bot cannot add or remove members
    security_enabled: bool
    role_assignable: bool  # changing members also needs RoleManagement.ReadWrite.Directory


@dataclass(frozen=True, slots=True)
class _BatchOp:
    method: str
    url: str  # relative to the version root, as $batch wants it
    body: Mapping[str, Any] | None
    succeeded: Callable[[int, Any], bool]


# --------------------------------------------------------------------------------------
# The adapter
# --------------------------------------------------------------------------------------


class GraphDirectory:
    """Microsoft Entra ID through Microsoft Graph, implementing `workflows.ports.Directory`.

    Needs the application permissions User.Read.All, GroupMember.ReadWrite.All and
    User.RevokeSessions.All (admin-consented). Exactly one of `client_secret` and
    `client_certificate_path` (a PEM file with the private key and its certificate) is required.
    Call `aclose()` (or use `async with`) when done.
    """

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str | None = None,
        client_certificate_path: str | Path | None = None,
        client_certificate_password: str | None = None,
        authority_host: str = DEFAULT_AUTHORITY_HOST,
        graph_url: str = DEFAULT_GRAPH_URL,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not tenant_id:
            raise ConfigError("AZURE_TENANT_ID is required for Microsoft Graph")
        if not client_id:
            raise ConfigError("AZURE_CLIENT_ID is required for Microsoft Graph")
        if bool(client_secret) == bool(client_certificate_path):
            raise ConfigError("set exactly one of AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH")
        for name, url in (("AZURE_AUTHORITY_HOST", authority_host), ("GRAPH_API_URL", graph_url)):
            if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
                raise ConfigError(f"{name} must be an https:// URL, got {url!r}")
        self._tenant_id = tenant_id
        self._client_id = client_id
        self._client_secret = client_secret
        self._certificate_path = Path(client_certificate_path) if client_certificate_path else None
        self._certificate_password = client_certificate_password
        self._authority_host = authority_host.rstrip("/")
        self._graph_url = graph_url.rstrip("/")
        parts = urlsplit(self._graph_url)
        # Sovereign clouds need the scope of their own Graph host, never graph.microsoft.com's.
        self._scope = f"{parts.scheme}://{parts.netloc}/.default"
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._client = http_client
        self._owns_client = http_client is None
        self._app: msal.ConfidentialClientApplication | None = None
        self._app_lock = asyncio.Lock()

    def __repr__(self) -> str:  # never show the credential
        return (
            f"GraphDirectory(tenant_id={self._tenant_id!r}, client_id={self._client_id!r}, "
            f"graph_url={self._graph_url!r})"
        )

    @property
    def graph_url(self) -> str:
        return self._graph_url

    async def __aenter__(self) -> GraphDirectory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this directory created it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    # -- Directory port ------------------------------------------------------------------

    async def resolve_user(self, identifier: str) -> Person | None:
        """Find a user by object id, UPN or e-mail; None if there is no such user."""
        identifier = identifier.strip()
        if not identifier:
            return None
        if _GUID.fullmatch(identifier):
            response = await self._call("GET", f"/users/{identifier}", params={"$select": _USER_SELECT})
            if response.status_code == 404:
                return None
            self._raise_unless_ok(response, f"read user {identifier}")
            return _person(response.json())
        # One query finds the user by either address. OData string literals escape ' as ''.
        literal = identifier.replace("'", "''")
        response = await self._call(
            "GET",
            "/users",
            params={"$filter": f"mail eq '{literal}' or userPrincipalName eq '{literal}'", "$select": _USER_SELECT},
        )
        self._raise_unless_ok(response, f"look up user {identifier}")
        users = response.json().get("value", [])
        folded = identifier.casefold()
        # A UPN is unique; prefer it over a mail match in the (misconfigured) case of both.
        for user in sorted(users, key=lambda u: (u.get("userPrincipalName") or "").casefold() != folded):
            return _person(user)
        return None

    async def is_member(self, user_id: str, group_id: str) -> bool:
        """Transitive membership check.

        `POST /users/{id}/checkMemberGroups` rather than `/groups/{g}/transitiveMembers/{u}`:
        it answers "no" with an empty list instead of a 404 that could also mean "no such
        group" or "not replicated yet", and it costs fewer resource units (4 vs 5).
        """
        response = await self._call(
            "POST", f"/users/{_segment(user_id)}/checkMemberGroups", json={"groupIds": [group_id]}
        )
        if response.status_code == 404:  # no such user: not a member of anything
            return False
        self._raise_unless_ok(response, f"check membership of {user_id} in group {group_id}")
        return group_id.casefold() in {g.casefold() for g in response.json().get("value", [])}

    async def add_member(self, group_id: str, user_id: str) -> None:
        """Add the user to the group; "already a member" is success."""
        response = await self._call(
            "POST",
            f"/groups/{_segment(group_id)}/members/$ref",
            json={"@odata.id": f"{self._graph_url}/directoryObjects/{user_id}"},
        )
        if response.is_success or _already_member(response.status_code, _json(response)):
            return
        raise self._error(response, f"add user {user_id} to group {group_id}")

    async def remove_member(self, group_id: str, user_id: str) -> None:
        """Remove the user from the group; "not a member" is success."""
        response = await self._call("DELETE", _remove_url(group_id, user_id))
        if response.is_success or _not_a_member(response.status_code, _json(response)):
            return
        raise self._error(response, f"remove user {user_id} from group {group_id}")

    async def revoke_sign_in_sessions(self, user_id: str) -> None:
        """Invalidate the user's refresh tokens and browser session cookies."""
        response = await self._call("POST", _revoke_url(user_id))
        self._raise_unless_ok(response, f"revoke sign-in sessions of user {user_id}")

    async def remove_members(self, changes: Sequence[MembershipChange]) -> BulkResult:
        """Remove many memberships through `$batch`; keys of `failed` are "group:user"."""
        ops = {
            f"{c.group_id}:{c.user_id}": _BatchOp(
                "DELETE",
                _remove_url(c.group_id, c.user_id),
                None,
                lambda status, body: 200 <= status < 300 or _not_a_member(status, body),
            )
            for c in changes
        }
        return await self._bulk(ops, "remove membership")

    async def revoke_sign_in_sessions_many(self, user_ids: Sequence[str]) -> BulkResult:
        """Revoke many users' sessions through `$batch`; keys of `failed` are user ids."""
        ops = {
            user_id: _BatchOp("POST", _revoke_url(user_id), None, lambda status, body: 200 <= status < 300)
            for user_id in user_ids
        }
        return await self._bulk(ops, "revoke sign-in sessions")

    # -- extra reads for `accessbot check --online` --------------------------------------

    async def get_group(self, group_id: str) -> GroupInfo | None:
        """The group's kind, or None if it does not exist."""
        response = await self._call("GET", f"/groups/{_segment(group_id)}", params={"$select": _GROUP_SELECT})
        if response.status_code == 404:
            return None
        self._raise_unless_ok(response, f"read group {group_id}")
        body = response.json()
        return GroupInfo(
            id=body.get("id", group_id),
            display_name=body.get("displayName") or "",
            dynamic="DynamicMembership" in (body.get("groupTypes") or []),
            security_enabled=bool(body.get("securityEnabled")),
            role_assignable=bool(body.get("isAssignableToRole")),
        )

    async def app_roles(self) -> frozenset[str] | None:
        """The application permissions in the app's current token (None if unreadable).

        Microsoft calls access tokens opaque to clients; reading our own token's `roles`
        claim is a best-effort diagnostic, never an authorization decision.
        """
        token = await self._access_token_with_retries()
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError, binascii.Error):
            return None
        roles = claims.get("roles") if isinstance(claims, dict) else None
        return frozenset(roles) if isinstance(roles, list) else frozenset()

    # -- bulk ----------------------------------------------------------------------------

    async def _bulk(self, ops: dict[str, _BatchOp], what: str) -> BulkResult:
        if not ops:
            return BulkResult(failed={})
        deadline = time.monotonic() + self._retry.budget
        pending = dict(ops)
        failed: dict[str, str] = {}
        last_problem: dict[str, str] = {}
        try:
            async for attempt in retry_attempts(self._retry, deadline):
                with attempt:
                    retry_after = await self._batch_round(pending, failed, last_problem, deadline, what)
                    if pending:
                        raise RetryableError(
                            f"{len(pending)} {what} item(s) throttled or failing", retry_after=retry_after
                        )
        except RetryableError as exc:
            for key in pending:
                failed[key] = last_problem.get(key, str(exc))
        except DirectoryError as exc:
            if not exc.transient:
                raise  # a broken setup (credentials, permissions) is not a per-item outcome
            for key in pending:
                failed[key] = str(exc)
        if failed:
            log.warning("graph: %s failed for %d of %d item(s)", what, len(failed), len(ops))
        return BulkResult(failed=failed)

    async def _batch_round(
        self,
        pending: dict[str, _BatchOp],
        failed: dict[str, str],
        last_problem: dict[str, str],
        deadline: float,
        what: str,
    ) -> float | None:
        """Send every pending op once (20 per batch); drop the finished ones from `pending`.

        Returns the longest Retry-After among throttled items, if any.
        """
        retry_after: float | None = None
        keys = list(pending)
        for start in range(0, len(keys), BATCH_LIMIT):
            chunk = keys[start : start + BATCH_LIMIT]
            requests_ = []
            for number, key in enumerate(chunk, 1):
                op = pending[key]
                item: dict[str, Any] = {"id": str(number), "method": op.method, "url": op.url}
                if op.body is not None:
                    item["body"] = op.body
                    item["headers"] = {"Content-Type": "application/json"}
                requests_.append(item)
            response = await self._call("POST", "/$batch", json={"requests": requests_}, deadline=deadline)
            self._raise_unless_ok(response, f"{what} ($batch)")
            answers = {str(a.get("id")): a for a in response.json().get("responses", [])}
            for number, key in enumerate(chunk, 1):
                answer = answers.get(str(number))
                if answer is None:
                    last_problem[key] = f"{what}: no answer in the $batch response"
                    continue
                status = int(answer.get("status", 0))
                body = answer.get("body")
                headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
                if pending[key].succeeded(status, body):
                    del pending[key]
                elif status in RETRY_STATUSES or status == 424:
                    last_problem[key] = _describe(status, body, headers.get("request-id"), what)
                    wait = parse_retry_after(headers.get("retry-after"))
                    if wait is not None:
                        retry_after = max(retry_after or 0.0, wait)
                else:
                    failed[key] = _describe(status, body, headers.get("request-id"), what)
                    del pending[key]
        return retry_after

    # -- HTTP ----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """One Graph request with retries; returns the first non-retryable response."""
        deadline = deadline if deadline is not None else time.monotonic() + self._retry.budget
        try:
            async for attempt in retry_attempts(self._retry, deadline):
                with attempt:
                    return await self._send(method, path, params=params, json=json)
        except RetryableError as exc:
            raise DirectoryError(
                f"Microsoft Graph {method} {path} kept failing, gave up after the retry budget "
                f"({self._retry.budget:g} s): {exc}",
                transient=True,
                request_id=exc.request_id,
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, path: str, *, params: Mapping[str, str] | None, json: Any) -> httpx.Response:
        token = await self._access_token()
        client = self._http()
        response = await request(
            client, method, self._graph_url + path, label=f"{method} {path}", setting="GRAPH_API_URL",
            base=self._graph_url, fatal=lambda message: DirectoryError(message, transient=False), params=params,
            json=json, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )  # fmt: skip
        if response.status_code in RETRY_STATUSES:
            raise RetryableError(
                _describe(response.status_code, _json(response), _request_id(response), f"{method} {path}"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                request_id=_request_id(response),
            )
        return response

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Created on first use: httpx reads SSL_CERT_FILE when a client is created.
            self._client = httpx.AsyncClient(timeout=self._timeout, headers={"User-Agent": "accessbot"})
        return self._client

    def _raise_unless_ok(self, response: httpx.Response, action: str) -> None:
        if not response.is_success:
            raise self._error(response, action)

    def _error(self, response: httpx.Response, action: str) -> DirectoryError:
        status = response.status_code
        body = _json(response)
        request_id = _request_id(response)
        message = _describe(status, body, request_id, f"Microsoft Graph could not {action}")
        if status == 403:
            message += (
                " — the app registration lacks an application permission for this (needs User.Read.All, "
                "GroupMember.ReadWrite.All and User.RevokeSessions.All, admin-consented)"
            )
        elif status == 401:
            message += " — Graph rejected the access token (check GRAPH_API_URL matches the token audience)"
        return DirectoryError(message, transient=status in (408, 409, 423) or status >= 500, request_id=request_id)

    # -- tokens --------------------------------------------------------------------------

    async def _access_token_with_retries(self) -> str:
        deadline = time.monotonic() + self._retry.budget
        try:
            async for attempt in retry_attempts(self._retry, deadline):
                with attempt:
                    return await self._access_token()
        except RetryableError as exc:
            raise DirectoryError(str(exc), transient=True) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _access_token(self) -> str:
        app = await self._application()
        try:
            result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[self._scope])
        except requests.RequestException as exc:
            raise RetryableError(f"token endpoint at {self._authority_host} unreachable: {exc}") from exc
        if not isinstance(result, dict):
            raise DirectoryError("msal returned no token result", transient=True)
        token = result.get("access_token")
        if isinstance(token, str) and token:
            return token
        if result.get("error") in ("temporarily_unavailable", "server_error"):
            raise RetryableError(f"Entra ID token endpoint: {result.get('error')}: {_first_line(result)}")
        raise DirectoryError(self._token_refusal(result), transient=False)

    async def _application(self) -> msal.ConfidentialClientApplication:
        async with self._app_lock:
            if self._app is None:
                credential = await asyncio.to_thread(self._credential)
                try:
                    self._app = await asyncio.to_thread(self._build_application, credential)
                except requests.exceptions.SSLError as exc:
                    raise DirectoryError(
                        f"TLS verification of AZURE_AUTHORITY_HOST {self._authority_host} failed (behind a "
                        f"TLS-inspecting proxy, point REQUESTS_CA_BUNDLE at its CA): {exc}",
                        transient=False,
                    ) from exc
                except requests.RequestException as exc:
                    raise RetryableError(
                        f"AZURE_AUTHORITY_HOST {self._authority_host} unreachable for OpenID discovery: {exc}"
                    ) from exc
                except ValueError as exc:
                    # msal: OpenID discovery refused (unknown tenant, wrong host) or an unusable
                    # credential; the original answer from Entra is in the chained exception.
                    cause = exc.__context__ or exc
                    raise DirectoryError(
                        f"cannot set up Entra ID sign-in for AZURE_TENANT_ID={self._tenant_id!r} at "
                        f"AZURE_AUTHORITY_HOST={self._authority_host}: {_shorten(str(cause))}",
                        transient=False,
                    ) from exc
            return self._app

    def _build_application(self, credential: str | dict[str, str]) -> msal.ConfidentialClientApplication:
        extra: dict[str, Any] = {}
        if urlsplit(self._authority_host).hostname != "login.microsoftonline.com":
            # Otherwise msal asks login.microsoftonline.com to vouch for the host first,
            # which fails for sovereign clouds behind proxies and for test servers.
            extra["instance_discovery"] = False
        timeout = (self._timeout.read or 30.0) if isinstance(self._timeout, httpx.Timeout) else self._timeout
        return msal.ConfidentialClientApplication(
            self._client_id,
            client_credential=credential,
            authority=f"{self._authority_host}/{self._tenant_id}",
            timeout=timeout,
            **extra,
        )

    def _credential(self) -> str | dict[str, str]:
        if self._client_secret:
            return self._client_secret
        assert self._certificate_path is not None
        return load_certificate_credential(self._certificate_path, self._certificate_password)

    def _token_refusal(self, result: Mapping[str, Any]) -> str:
        codes = {int(c) for c in result.get("error_codes") or [] if str(c).isdigit()}
        credential_setting = "AZURE_CLIENT_SECRET" if self._client_secret else "AZURE_CLIENT_CERTIFICATE_PATH"
        if codes & {7000215, 7000222, 7000216}:
            setting = "AZURE_CLIENT_SECRET (wrong or expired secret value)"
        elif codes & {700027, 700021, 700024, 7000274}:
            setting = "AZURE_CLIENT_CERTIFICATE_PATH (certificate not registered for the app, or bad assertion)"
        elif codes & {700016, 7000218}:
            setting = f"AZURE_CLIENT_ID (no such app in tenant {self._tenant_id}) or {credential_setting}"
        elif codes & {90002, 900023, 90023}:
            setting = "AZURE_TENANT_ID"
        elif codes & {1002012, 70011, 500011}:
            setting = f"GRAPH_API_URL (scope {self._scope} refused)"
        else:
            setting = f"AZURE_CLIENT_ID / {credential_setting}"
        return (
            f"Entra ID refused the Graph token for client {self._client_id}; check {setting}. "
            f"Entra said: {result.get('error')}: {_first_line(result)}"
        )


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def load_certificate_credential(path: Path, password: str | None = None) -> dict[str, str]:
    """An msal certificate credential from a PEM file holding the private key and its certificate.

    The SHA-1 thumbprint is the one the Azure portal shows for the uploaded certificate; it
    works with every msal version this project allows.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise DirectoryError(
            f"AZURE_CLIENT_CERTIFICATE_PATH {path} cannot be read: {exc.strerror}", transient=False
        ) from exc
    try:
        serialization.load_pem_private_key(pem, password.encode() if password else None)
        certificate = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError) as exc:
        raise DirectoryError(
            f"AZURE_CLIENT_CERTIFICATE_PATH {path} must be a PEM file with the private key and its certificate: {exc}",
            transient=False,
        ) from exc
    der = certificate.public_bytes(serialization.Encoding.DER)
    credential = {
        "private_key": pem.decode(),
        "thumbprint": hashlib.sha1(der, usedforsecurity=False).hexdigest().upper(),
    }
    if password:
        credential["passphrase"] = password
    return credential


def _person(user: Mapping[str, Any]) -> Person:
    upn = user.get("userPrincipalName") or ""
    return Person(
        id=user["id"],
        upn=upn,
        # Cloudflare identifies people by e-mail; accounts without a mailbox sign in with their UPN.
        email=user.get("mail") or upn,
        display_name=user.get("displayName") or "",
        is_guest=(user.get("userType") or "").casefold() == "guest",
    )


def _segment(value: str) -> str:
    # B2B UPNs contain '#', which must travel as %23; '@' may stay.
    return quote(value, safe="@")


def _remove_url(group_id: str, user_id: str) -> str:
    # Always `/$ref`: without it Graph deletes the user object (if the app may).
    return f"/groups/{_segment(group_id)}/members/{_segment(user_id)}/$ref"


def _revoke_url(user_id: str) -> str:
    return f"/users/{_segment(user_id)}/revokeSignInSessions"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _graph_error(body: Any) -> tuple[str, str, str | None]:
    """(code, message, request-id) from a Graph error body."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", None
    inner = error.get("innerError") or error.get("innererror") or {}
    request_id = inner.get("request-id") if isinstance(inner, dict) else None
    return str(error.get("code") or ""), str(error.get("message") or ""), request_id


def _already_member(status: int, body: Any) -> bool:
    # 400 Request_BadRequest "One or more added object references already exist for the
    # following modified properties: 'members'." The text may be localized; the property
    # name is not, so match on the code and 'members'.
    code, message, _ = _graph_error(body)
    return status == 400 and code == "Request_BadRequest" and ("'members'" in message or "already exist" in message)


def _not_a_member(status: int, body: Any) -> bool:
    # 404: not a member (or no such group/user: either way there is no membership left).
    # Some tenants answer 400 "One or more removed object references do not exist ... 'members'".
    if status == 404:
        return True
    code, message, _ = _graph_error(body)
    return status == 400 and code == "Request_BadRequest" and ("'members'" in message or "do not exist" in message)


def _request_id(response: httpx.Response) -> str | None:
    return response.headers.get("request-id") or _graph_error(_json(response))[2]


def _describe(status: int, body: Any, request_id: str | None, what: str) -> str:
    code, message, inner_id = _graph_error(body)
    request_id = request_id or inner_id
    text = f"{what}: HTTP {status}"
    if code or message:
        text += f" {code}: {message}".rstrip(": ")
    if request_id:
        text += f" (request-id {request_id})"
    return text


def _first_line(result: Mapping[str, Any]) -> str:
    description = str(result.get("error_description") or "")
    # Entra appends "Trace ID: ... Correlation ID: ... Timestamp: ..."; keep the ids, one line.
    return _shorten(description.replace("\r", " ").replace("\n", " "))


def _shorten(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
