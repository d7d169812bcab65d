"""What every fake server shares: an HTTPS aiohttp site on 127.0.0.1, request counting,
spec violations, and a programmable fault queue (429 with Retry-After, 5xx outages)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.tls import FakeTLS


@dataclass
class Fault:
    """An injected failure: `times` answers, or every answer for `seconds` once the first is served."""

    status: int
    retry_after: float | None = None
    times: int | None = 1
    seconds: float | None = None
    match: Callable[[str, str], bool] | None = None  # (method, path) -> applies?
    started: float | None = None

    def expired(self, now: float) -> bool:
        if self.seconds is not None:
            return self.started is not None and now - self.started >= self.seconds
        return self.times is not None and self.times <= 0


class FaultQueue:
    """Faults served in order; each applies until used up (count) or over (duration)."""

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self.served: list[Fault] = []

    def push(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        times: int | None = 1,
        seconds: float | None = None,
        match: Callable[[str, str], bool] | None = None,
    ) -> None:
        """Queue a fault. With `seconds`, it answers every matching request for that long."""
        self._queue.append(Fault(status, retry_after, None if seconds is not None else times, seconds, match))

    def clear(self) -> None:
        self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault to answer this request with, if any (consumes one use)."""
        now = time.monotonic()
        while self._queue and self._queue[0].expired(now):
            self._queue.pop(0)
        if not self._queue:
            return None
        fault = self._queue[0]
        if fault.match is not None and not fault.match(method, path):
            return None
        if fault.seconds is not None and fault.started is None:
            fault.started = now
        if fault.times is not None:
            fault.times -= 1
        self.served.append(fault)
        return fault


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request a fake received (batch items are recorded separately by the Graph fake)."""

    method: str
    path: str
    status: int


@dataclass
class FakeServer:
    """An aiohttp application served over HTTPS on a random local port."""

    tls: FakeTLS
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: FaultQueue = field(default_factory=FaultQueue)
    _runner: web.AppRunner | None = None
    port: int = 0
    # Retry-After promises: key (None: the whole API, else an operation) -> monotonic deadline
    _throttled_until: dict[object, float] = field(default_factory=dict)

    def build_app(self) -> web.Application:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls.server_context())
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def violation(self, message: str) -> None:
        """Record a request the real service would reject; the fixture fails the test on it."""
        self.violations.append(message)

    def throttle(self, key: object, seconds: float | None) -> None:
        """Remember that we answered 429 with `Retry-After: seconds` (for `key`, or None: everything)."""
        if seconds is not None:
            self._throttled_until[key] = time.monotonic() + seconds

    def check_throttle(self, method: str, path: str, key: object = None) -> None:
        """A request before the Retry-After we gave has passed is a violation: the real service
        counts it against the quota and throttles longer."""
        until = self._throttled_until.get(key)
        if until is not None and time.monotonic() < until - 0.05:
            self.violation(f"{method} {path}: sent {until - time.monotonic():.2f}s before Retry-After expired")

    def take_violations(self) -> list[str]:
        """Return and forget the recorded violations (for tests of the checker itself)."""
        found, self.violations = self.violations, []
        return found

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many HTTP requests matched (method and/or a path fragment)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and (path_contains is None or path_contains in r.path)
        )
