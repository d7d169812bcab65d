"""Clocks: the real one, and a faster one for the demo."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    """Wall-clock UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Time that runs `factor` times faster than real time, from `start` (the demo's compressed hours)."""

    def __init__(self, factor: float, start: datetime | None = None) -> None:
        self._factor = factor
        self._start = start or datetime.now(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self._factor)
