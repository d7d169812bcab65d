"""Notifiers the composition root combines: fan-out to subscribers, and a one-line log of each event."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from workflows.events import Event
from workflows.ports import Notifier

log = logging.getLogger("accessbot.events")


class FanoutNotifier:
    """Hands every event to each subscriber in turn; one failing subscriber does not starve the others."""

    def __init__(self, subscribers: Sequence[Notifier] = ()) -> None:
        self._subscribers = list(subscribers)

    def subscribe(self, notifier: Notifier) -> None:
        self._subscribers.append(notifier)

    async def publish(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber.publish(event)
            except Exception:
                log.exception("subscriber %s failed on %s", type(subscriber).__name__, type(event).__name__)


def describe(event: Event) -> str:
    """A short, human line for an event (logs, the demo)."""
    request = getattr(event, "request", None)
    grant = getattr(event, "grant", None)
    name = type(event).__name__
    if grant is not None:
        ends = grant.ends_at.strftime("%H:%M:%S") if grant.ends_at else "-"
        return f"{name}: access #{grant.id} {grant.person.upn} -> {grant.customer} [{grant.state.value}, ends {ends}]"
    if request is not None:
        return (
            f"{name}: request #{request.id} {request.requester.upn} -> {request.customer} "
            f"[{request.state.value}, {request.kind.value}]"
        )
    return name


class LoggingNotifier:
    """Logs each event as one line (who, which customer, which state): the operator's running record."""

    async def publish(self, event: Event) -> None:
        log.info(describe(event), extra={"event": type(event).__name__})
