"""Retrying HTTP calls to the vendors (Graph, Cloudflare): one policy, one set of rules.

429 is retried after its `Retry-After` (never sooner); 5xx, timeouts and dropped connections
with capped exponential backoff and jitter (stamina); every call has a bounded time budget,
so a caller is never blocked for long. A TLS verification failure is configuration, not an
outage: it is never retried.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})



@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How an adapter retries one call: a total time budget and the backoff between attempts.

    A server's `Retry-After` is always honoured as given (never shortened); a wait that
    would not fit in what is left of the budget ends the retries at once instead. Tests
    can shrink `wait_initial`/`wait_max` to stay fast while keeping real `Retry-After`.
    """

    budget: float = 60.0  # seconds for all attempts of one call (may overrun by at most one wait_max)
    attempts: int = 20
    wait_initial: float = 0.5
    wait_max: float = 8.0
    wait_jitter: float = 0.5


class RetryableError(Exception):
    """A failure worth another attempt: throttling, a 5xx, a timeout, a dropped connection."""

    def __init__(self, message: str, *, retry_after: float | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.request_id = request_id


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def retry_attempts(policy: RetryPolicy, deadline: float) -> AsyncIterator[stamina.Attempt]:
    """stamina attempts that retry `RetryableError` until `deadline` (a `time.monotonic()` value)."""

    def backoff(exc: Exception) -> bool | float:
        if not isinstance(exc, RetryableError):
            return False
        remaining = deadline - time.monotonic()
        if exc.retry_after is not None:
            # The server said how long; waiting less only burns quota, waiting past the budget
            # only blocks the caller.
            return exc.retry_after if exc.retry_after <= remaining else False
        return remaining > 0

    remaining = max(deadline - time.monotonic(), 0.001)
    return stamina.retry_context(
        on=backoff,
        attempts=policy.attempts,
        timeout=remaining,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
    )


def tls_verification_failed(exc: BaseException) -> bool:
    """A certificate the trust store rejects: configuration, not an outage, so no retries."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    label: str,
    setting: str,
    base: str,
    fatal: Callable[[str], Exception],
    **kwargs: Any,
) -> httpx.Response:
    """One HTTP call. Timeouts and dropped connections become `RetryableError`; a certificate the
    trust store rejects becomes `fatal(message)` (naming `setting`), since retrying cannot fix it."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise RetryableError(f"{label} timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        if tls_verification_failed(exc):
            raise fatal(
                f"TLS verification of {setting} {base} failed (behind a TLS-inspecting proxy, "
                f"point SSL_CERT_FILE at its CA): {exc}"
            ) from exc
        raise RetryableError(f"{label}: connection to {base} failed: {exc}") from exc
