"""What every use case needs: the ports, the policy catalog, tunables, and the transaction helper."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from workflows.errors import StaleState
from workflows.events import Event
from workflows.model import AccessRequest, Actor, AuditRecord, Grant, Surface
from workflows.policy import Catalog
from workflows.ports import Clock, Directory, NetworkSessions, Notifier, Store, StoreTransaction

log = logging.getLogger("accessbot.workflow")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Tunables:
    """Timings of the lifecycle. Defaults suit production; tests and the demo shorten them."""

    reminder_before_end: timedelta = timedelta(minutes=15)
    approver_reminder_first: timedelta = timedelta(minutes=15)
    retry_base: timedelta = timedelta(seconds=10)
    retry_cap: timedelta = timedelta(minutes=5)
    attempts_before_failed: int = 5
    failed_retry_interval: timedelta = timedelta(minutes=15)
    concurrency: int = 8  # parallel directory calls when a batch is not possible


@dataclass(slots=True)
class Deps:
    """The ports and policy, wired once by the composition root."""

    catalog: Catalog
    store: Store
    directory: Directory
    network: NetworkSessions
    notifier: Notifier
    clock: Clock
    tunables: Tunables = field(default_factory=Tunables)
    wake: Callable[[], None] = lambda: None  # nudges the scheduler when new work is due now
    # While the scheduler loop runs, its events go through this queue to one delivery task, so a
    # slow chat API (a long Slack Retry-After) never holds up expiries; order is kept.
    background: asyncio.Queue[Event] | None = None

    async def atomically(self, work: Callable[[StoreTransaction], Awaitable[T]]) -> T:
        """Run `work` in a transaction; on a lost compare-and-swap, re-read and run it again.

        `work` must only touch the store: anything else it decides goes in its return value,
        so a retried attempt never repeats a side effect.
        """
        for attempt in range(6):
            try:
                async with self.store.transaction() as tx:
                    return await work(tx)
            except StaleState:
                if attempt == 5:
                    raise
                await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)
        raise AssertionError("unreachable")

    async def publish_soon(self, events: Sequence[Event]) -> None:
        """Publish without waiting for the front ends when a delivery task runs; else as `publish`."""
        if self.background is None:
            await self.publish(events)
            return
        for event in events:
            self.background.put_nowait(event)

    async def deliver_background(self, queue: asyncio.Queue[Event]) -> None:
        """The delivery task: hands queued events to the notifier one at a time, in order."""
        while True:
            event = await queue.get()
            try:
                await self.publish([event])
            finally:
                queue.task_done()

    async def publish(self, events: Sequence[Event]) -> None:
        """Hand committed events to the front ends. A notifier failure is logged, never raised."""
        for event in events:
            try:
                await self.notifier.publish(event)
            except Exception:  # a chat outage must not undo or block the workflow
                log.exception("notifier failed for %s", type(event).__name__)


def audit(
    tx: StoreTransaction,
    deps: Deps,
    *,
    actor: Actor,
    surface: Surface,
    action: str,
    request: AccessRequest | None = None,
    grant: Grant | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    **details: Any,
) -> None:
    """Queue one audit event in `tx` (it commits with the change it describes)."""
    customer = request.customer if request is not None else grant.customer if grant is not None else None
    subject = request.requester if request is not None else grant.person if grant is not None else None
    if subject is not None:
        details.setdefault("subject", subject.upn)
        details.setdefault("subject_id", subject.id)
    tx.audit(
        AuditRecord(
            at=deps.clock.now(),
            actor=actor,
            surface=surface,
            action=action,
            customer=customer,
            request_id=request.id if request is not None else grant.id if grant is not None else None,
            grant_id=grant.id if grant is not None else (request.grant_id if request is not None else None),
            from_state=from_state,
            to_state=to_state,
            details=details,
        )
    )
