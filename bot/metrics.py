"""Prometheus metrics on a registry of their own (built in the composition root, not at import)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from workflows.events import (
    Event,
    GrantEnded,
    GrantFailed,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestSubmitted,
    RequestTimedOut,
)
from workflows.model import GrantState
from workflows.ports import Clock, Store

_REQUEST_OUTCOMES: dict[type[Event], str] = {
    RequestSubmitted: "submitted",
    RequestApproved: "approved",
    RequestDenied: "denied",
    RequestCancelled: "cancelled",
    RequestTimedOut: "timed_out",
}


class Metrics:
    """Counters fed by workflow events; gauges refreshed from the database at each scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.active_grants = Gauge("accessbot_active_grants", "Grants currently active", registry=self.registry)
        self.grants_by_state = Gauge(
            "accessbot_grants", "Grants by state", ["state"], registry=self.registry
        )
        self.requests = Counter(
            "accessbot_requests", "Access requests by outcome", ["outcome"], registry=self.registry
        )
        self.revocations = Counter(
            "accessbot_revocations", "Ended grants by outcome (expired, revoked, failed)", ["outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.scheduler_lag = Gauge(
            "accessbot_scheduler_lag_seconds", "Now minus the oldest due item still waiting", registry=self.registry
        )

    async def publish(self, event: Event) -> None:
        """A Notifier: count outcomes as they happen."""
        outcome = _REQUEST_OUTCOMES.get(type(event))
        if outcome is not None:
            self.requests.labels(outcome).inc()
        elif isinstance(event, GrantEnded):
            self.revocations.labels(event.grant.state.value).inc()
        elif isinstance(event, GrantFailed):
            self.revocations.labels("failed").inc()

    async def render(self, store: Store, clock: Clock) -> bytes:
        """Refresh the gauges from the store and return the exposition text."""
        now = clock.now()
        counts = await store.count_grants()
        for state in GrantState:
            self.grants_by_state.labels(state.value).set(counts.get(state, 0))
        self.active_grants.set(counts.get(GrantState.ACTIVE, 0))
        oldest = await store.oldest_due(now)
        self.scheduler_lag.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        return generate_latest(self.registry)
