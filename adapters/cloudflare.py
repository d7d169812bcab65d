"""`CloudflareSessions`: the `NetworkSessions` port on the Cloudflare API v4 (Zero Trust).

Revoking ends the user's Access sessions and, as configured, forces WARP re-authentication
(`warp_session_reauth`) and revokes device sessions (`devices`). Without SCIM, Gateway only
sees a group change when the user re-authenticates, so forcing that re-auth is what makes a
removed membership bite at once; it is on by default.

Why httpx directly and not the official `cloudflare` SDK: we call three endpoints. The SDK
would bring a second retry loop (its own `max_retries`, which ignores our budget), reads
`CLOUDFLARE_*` variables from the environment behind our back, and has renamed these very
methods between major versions (4.x -> 5.x). With httpx the one retry policy of
`adapters.http_retry.RetryPolicy` applies (429 `Retry-After`, 5xx, timeouts; bounded budget),
we read Cloudflare's `{success, errors, messages, result}` envelope ourselves (keeping the
error codes and the `cf-ray` id for the operator), and `SSL_CERT_FILE` is honoured because
the client is created on first use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from adapters.http_retry import (
    RETRY_STATUSES,
    RetryableError,
    RetryPolicy,
    parse_retry_after,
    request,
    retry_attempts,
)
from workflows.errors import ConfigError, SessionRevocationError

log = logging.getLogger(__name__)

DEFAULT_CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"


class CloudflareError(Exception):
    """A Cloudflare API call failed (after retries, if it was worth retrying)."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass(frozen=True, slots=True)
class GatewayRule:
    """A Zero Trust Gateway rule, as far as the online check needs it."""

    id: str
    name: str
    action: str
    enabled: bool
    filters: tuple[str, ...]
    traffic: str
    identity: str
    precedence: int | None


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """Outcome of verifying the API token: `ok` when Cloudflare calls it active."""

    ok: bool
    owner: str | None  # "account" or "user": which verify endpoint accepted it
    status: str  # "active", "disabled", "expired", or "invalid"
    detail: str


class CloudflareSessions:
    """Cloudflare Zero Trust session revocation, implementing `workflows.ports.NetworkSessions`.

    Disabled (every revocation a no-op, recorded as skipped by the core) when no API token is
    configured. The token needs "Access: Organizations Revoke" (or "Access: Organizations,
    Identity Providers, and Groups Write"); the online check also reads Gateway rules
    ("Zero Trust Read").
    """

    def __init__(
        self,
        *,
        api_token: str | None,
        account_id: str | None,
        base_url: str = DEFAULT_CLOUDFLARE_API_URL,
        devices: bool = False,
        warp_session_reauth: bool = True,
        http_client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if api_token and not account_id:
            raise ConfigError("CLOUDFLARE_ACCOUNT_ID is required when CLOUDFLARE_API_TOKEN is set")
        if urlsplit(base_url).scheme != "https" or not urlsplit(base_url).hostname:
            raise ConfigError(f"CLOUDFLARE_API_URL must be an https:// URL, got {base_url!r}")
        self._token = api_token or None
        self._account_id = account_id or ""
        self._base_url = base_url.rstrip("/")
        self._devices = devices
        self._warp_session_reauth = warp_session_reauth
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._client = http_client
        self._owns_client = http_client is None

    def __repr__(self) -> str:  # never show the token
        return f"CloudflareSessions(account_id={self._account_id!r}, enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        """False without an API token: revocation is then skipped (and the core records that)."""
        return self._token is not None

    async def __aenter__(self) -> CloudflareSessions:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    # -- NetworkSessions port ------------------------------------------------------------

    async def revoke_user(self, email: str) -> None:
        """Revoke the user's Access sessions; `result: false` (nothing to revoke) is success."""
        if not self.enabled:
            return
        body = {"email": email, "devices": self._devices, "warp_session_reauth": self._warp_session_reauth}
        try:
            result = await self._call("POST", f"/accounts/{self._account}/access/organizations/revoke_user", body)
        except CloudflareError as exc:
            raise SessionRevocationError(
                f"Cloudflare could not revoke the sessions of {email}: {exc}", transient=exc.transient
            ) from exc
        # result=false means Cloudflare found no session to end (never logged in, or already revoked).
        log.info("cloudflare: revoke_user %s -> %s", email, "revoked" if result else "no active session")

    # -- reads for `accessbot check --online` ----------------------------------------------

    async def verify_token(self) -> TokenStatus:
        """Is the token valid and active? Tries the account-token endpoint, then the user-token one."""
        if not self.enabled:
            return TokenStatus(False, None, "missing", "CLOUDFLARE_API_TOKEN is not set")
        problems = []
        # Account-owned tokens (recommended for automation) verify under the account; user
        # tokens only under /user. Each endpoint rejects the other kind as invalid.
        for owner, path in (("account", f"/accounts/{self._account}/tokens/verify"), ("user", "/user/tokens/verify")):
            try:
                result = await self._call("GET", path)
            except CloudflareError as exc:
                if exc.transient:
                    raise
                problems.append(f"{owner} token check: {exc}")
                continue
            status = str(result.get("status", "unknown")) if isinstance(result, dict) else "unknown"
            return TokenStatus(status == "active", owner, status, f"{owner}-owned token, status {status}")
        return TokenStatus(False, None, "invalid", "; ".join(problems))

    async def list_gateway_rules(self) -> list[GatewayRule]:
        """All Gateway rules of the account."""
        result = await self._call("GET", f"/accounts/{self._account}/gateway/rules")
        rules = []
        for raw in result if isinstance(result, list) else []:
            rules.append(
                GatewayRule(
                    id=str(raw.get("id", "")),
                    name=str(raw.get("name", "")),
                    action=str(raw.get("action", "")),
                    enabled=bool(raw.get("enabled")),
                    filters=tuple(raw.get("filters") or ()),
                    traffic=str(raw.get("traffic") or ""),
                    identity=str(raw.get("identity") or ""),
                    precedence=raw.get("precedence"),
                )
            )
        return rules

    # -- HTTP ----------------------------------------------------------------------------

    @property
    def _account(self) -> str:
        return quote(self._account_id, safe="")

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One API call with retries; returns the envelope's `result`."""
        deadline = time.monotonic() + self._retry.budget
        response: httpx.Response | None = None
        try:
            async for attempt in retry_attempts(self._retry, deadline):
                with attempt:
                    response = await self._send(method, path, body)
                    break
        except RetryableError as exc:
            raise CloudflareError(
                f"{method} {path} kept failing, gave up after the retry budget ({self._retry.budget:g} s): {exc}",
                transient=True,
            ) from exc
        assert response is not None
        envelope = _json(response)
        if response.is_success and isinstance(envelope, dict) and envelope.get("success", False):
            return envelope.get("result")
        raise CloudflareError(
            _describe(response, envelope, f"{method} {path}"),
            status=response.status_code,
            transient=response.status_code in (408, 409) or response.status_code >= 500,
        )

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None) -> httpx.Response:
        if self._client is None:
            # Created on first use: httpx reads SSL_CERT_FILE when a client is created.
            self._client = httpx.AsyncClient(timeout=self._timeout, headers={"User-Agent": "accessbot"})
        response = await request(
            self._client, method, self._base_url + path, label=f"{method} {path}", setting="CLOUDFLARE_API_URL",
            base=self._base_url, fatal=lambda message: CloudflareError(message, transient=False), json=body,
            headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
        )  # fmt: skip
        if response.status_code in RETRY_STATUSES:
            raise RetryableError(
                _describe(response, _json(response), f"{method} {path}"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _describe(response: httpx.Response, envelope: Any, what: str) -> str:
    errors = envelope.get("errors") if isinstance(envelope, dict) else None
    details = (
        "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors or [] if isinstance(e, dict))
        or response.reason_phrase
    )
    ray = response.headers.get("cf-ray")
    return f"{what}: HTTP {response.status_code} {details}" + (f" (cf-ray {ray})" if ray else "")
