"""The due-work loop that runs inside `serve`: claims due grants and requests from the store
and hands them to the lifecycle, a batch at a time, with leases so several replicas share it.

Due times live in the database, never only in memory: a bot that was down simply finds
everything overdue on start and catches up at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workflows.context import Deps
from workflows.events import Event
from workflows.lifecycle import Lifecycle
from workflows.model import AccessRequest, Grant

log = logging.getLogger("accessbot.scheduler")


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    """How the loop claims work. The lease must outlast one batch's directory calls."""

    lease_seconds: float = 120.0
    batch_size: int = 200
    poll_seconds: float = 2.0


class Scheduler:
    """Claims due work and processes it; `wake()` makes it look again at once."""

    def __init__(self, deps: Deps, settings: SchedulerSettings | None = None, owner: str | None = None) -> None:
        self._deps = deps
        self._lifecycle = Lifecycle(deps)
        self._settings = settings or SchedulerSettings()
        self.owner = owner or f"scheduler-{uuid.uuid4().hex[:12]}"
        self._wakeup = asyncio.Event()
        self.cycles = 0

    @property
    def lifecycle(self) -> Lifecycle:
        return self._lifecycle

    def wake(self) -> None:
        """Ask the loop to look for due work now (called after a use case queued some)."""
        self._wakeup.set()

    async def run_once(self) -> int:
        """Claim and process one batch of due work; returns how many items were claimed."""
        store, settings = self._deps.store, self._settings
        now = self._deps.clock.now()
        grants = await store.claim_due_grants(now, self.owner, settings.lease_seconds, settings.batch_size)
        requests = await store.claim_due_requests(now, self.owner, settings.lease_seconds, settings.batch_size)
        heartbeat = asyncio.create_task(self._heartbeat(grants, requests), name="lease-heartbeat")
        try:
            if grants:
                await self._lifecycle.process_grants(grants)
            if requests:
                await self._lifecycle.process_requests(requests)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            for grant in grants:
                await store.release("grant", grant.id, self.owner)
            for request in requests:
                assert request.id is not None
                await store.release("request", request.id, self.owner)
        self.cycles += 1
        return len(grants) + len(requests)

    async def _heartbeat(self, grants: Sequence[Grant], requests: Sequence[AccessRequest]) -> None:
        """Keep our leases while a batch takes long (throttled directory calls): nobody else may start
        on these items while we are still on them; if we die, the leases simply run out."""
        store, lease = self._deps.store, self._settings.lease_seconds
        grant_ids = [g.id for g in grants]
        request_ids = [r.id for r in requests if r.id is not None]
        if not grant_ids and not request_ids:
            return
        while True:
            await asyncio.sleep(lease / 3)
            try:
                await store.extend_leases("grant", grant_ids, self.owner, lease)
                await store.extend_leases("request", request_ids, self.owner, lease)
            except Exception:  # the database may blip; the next beat tries again
                log.warning("could not extend leases", exc_info=True)

    async def process_now(
        self, grant_ids: Sequence[int], on_progress: Callable[[int], None] = lambda n: None, chunk: int = 20
    ) -> list[int]:
        """Claim these grants now and do their due work in chunks (an operator's emergency revoke).

        Returns the ids it could not claim: another process (a running bot) holds them and will finish them.
        """
        store, settings = self._deps.store, self._settings
        claimed = await store.claim_due_grants(
            self._deps.clock.now(), self.owner, settings.lease_seconds, len(grant_ids) or 1, only_ids=grant_ids
        )
        heartbeat = asyncio.create_task(self._heartbeat(claimed, []), name="lease-heartbeat")
        try:
            for start in range(0, len(claimed), chunk):
                part = claimed[start : start + chunk]
                await self._lifecycle.process_grants(part)
                on_progress(len(part))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            for grant in claimed:
                await store.release("grant", grant.id, self.owner)
        taken = {g.id for g in claimed}
        return [i for i in grant_ids if i not in taken]

    async def run_until_idle(self, max_rounds: int = 100) -> int:
        """Process batches until nothing is due (tests, the demo, and catch-up on start)."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.run_once()
            total += claimed
            if claimed == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The loop: process what is due, then sleep until the next due time, the poll interval or a wake-up.

        Its events are delivered by a task of their own, so chat front ends never slow down expiries."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._deps.background = queue
        delivery = asyncio.create_task(self._deps.deliver_background(queue), name="event-delivery")
        try:
            await self._loop(stop)
        finally:
            self._deps.background = None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(queue.join(), timeout=10)  # let what was decided be told
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery

    async def _loop(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            self._wakeup.clear()  # a wake() from here on (even during this cycle) ends the sleep below
            try:
                claimed = await self.run_once()
                failures = 0
            except Exception:  # the database may be briefly unreachable: keep the loop alive
                failures += 1
                log.exception("scheduler cycle failed (%d in a row)", failures)
                claimed = 0
            if claimed >= self._settings.batch_size:
                continue  # more is due right now
            delay = self._settings.poll_seconds * min(2**failures, 16)
            try:
                next_due = await self._deps.store.next_due()
            except Exception:
                next_due = None
            if next_due is not None:
                until = (next_due - self._deps.clock.now()).total_seconds()
                if until > 0:  # overdue but unclaimed means another replica holds it: poll as usual
                    delay = min(delay, until)
            wait_stop = asyncio.ensure_future(stop.wait())
            wait_wake = asyncio.ensure_future(self._wakeup.wait())
            try:
                await asyncio.wait({wait_stop, wait_wake}, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            finally:
                wait_stop.cancel()
                wait_wake.cancel()
