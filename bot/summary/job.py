"""Build one daily summary from the database, and post it through the registered chat posters,
exactly once per local day across replicas (see `adapters.store.summary_runs`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.chart import render_png
from adapters.store.repository import SqlStore
from adapters.store.summary_runs import SummaryReads, SummaryRuns
from workflows.ports import Clock, SummaryPoster
from workflows.summary import AuditAnchor, DailySummary, Timeline, build_summary
from workflows.summary_schedule import (
    LATE_WINDOW,
    ON_TIME_GRACE,
    SummaryPeriod,
    due_slot,
    next_slot,
    period_for_slot,
)

log = logging.getLogger("accessbot.summary")

ChartRenderer = Callable[[Timeline], bytes]


@dataclass(frozen=True, slots=True)
class SummarySchedule:
    """When and where: ``bot.summary_time`` in ``bot.timezone`` to ``bot.summary_channel``."""

    zone: tzinfo
    at: time
    channels: Mapping[str, str]  # surface -> channel
    window: timedelta = LATE_WINDOW
    grace: timedelta = ON_TIME_GRACE
    poll_seconds: float = 60.0
    anchor: bool = True  # publish the audit chain head in each summary


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one posting attempt did."""

    day: str | None
    posted: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    late: bool = False
    chart: bool = False

    @property
    def complete(self) -> bool:
        return not self.errors


class SummaryJob:
    """Builds summaries and posts the due one. `tick()` is one check; `run_forever()` the loop."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        store: SqlStore,
        clock: Clock,
        schedule: SummarySchedule,
        posters: Mapping[str, SummaryPoster],
        customer_names: Mapping[str, str],
        owner: str,
        runs: SummaryRuns | None = None,
        render_chart: ChartRenderer | None = render_png,
    ) -> None:
        self._store = store
        self._reads = SummaryReads(engine)
        self._runs = runs or SummaryRuns(engine)
        self._clock = clock
        self.schedule = schedule
        # the live dict of the runtime: front ends may register their posters after we are built
        self._posters = posters
        self._names = dict(customer_names)
        self.owner = owner
        self._render_chart = render_chart
        self._warned: set[str] = set()

    @property
    def runs(self) -> SummaryRuns:
        return self._runs

    # ---- building ---------------------------------------------------------------------

    async def build(self, period: SummaryPeriod, *, as_of: datetime, late: bool = False) -> DailySummary:
        """The summary of `period`, with "active now" and "still waiting" as of `as_of`."""
        events = [event async for event in self._store.audit_events(since=period.start, until=period.end)]
        grants = await self._reads.grants_since(period.start)
        requests = await self._reads.requests_open_at(as_of)
        anchor = None
        if self.schedule.anchor:
            seq, digest = await self._store.audit_head()
            anchor = AuditAnchor(seq, digest)
        return build_summary(
            period=period, as_of=as_of, zone=self.schedule.zone, events=events, grants=grants, requests=requests,
            customer_names=self._names, anchor=anchor, late=late,
        )  # fmt: skip

    async def chart(self, summary: DailySummary) -> bytes | None:
        """The timeline PNG, or None if it cannot be drawn (the text goes out regardless)."""
        if self._render_chart is None:
            return None
        try:
            # matplotlib is CPU-bound: keep the event loop (chat webhooks, scheduler) responsive
            return await asyncio.to_thread(self._render_chart, summary.timeline)
        except Exception:
            log.exception("summary chart could not be rendered; posting the text only")
            return None

    # ---- posting ----------------------------------------------------------------------

    def targets(self) -> dict[str, tuple[str, SummaryPoster]]:
        """Configured channels that have a poster in this process (surface -> (channel, poster))."""
        found: dict[str, tuple[str, SummaryPoster]] = {}
        for surface, channel in self.schedule.channels.items():
            poster = self._posters.get(surface)
            if poster is None:
                if surface not in self._warned:
                    self._warned.add(surface)
                    log.warning("summary_channel.%s is set but the %s front end is not running", surface, surface)
                continue
            found[surface] = (channel, poster)
        return found

    async def deliver(
        self,
        summary: DailySummary,
        targets: Mapping[str, tuple[str, SummaryPoster]],
        *,
        chart_png: bytes | None,
        skip: frozenset[str] = frozenset(),
        text_only: frozenset[str] = frozenset(),
        on_posted: Callable[[str], Awaitable[object]] | None = None,
    ) -> tuple[list[str], dict[str, str]]:
        """Post to each target not in `skip` (without the chart to those in `text_only`).

        Returns (posted surfaces, errors by surface). A poster that raises is not retried here:
        a poster handles a failed chart upload itself and still posts the text (the port's
        contract), so an exception may come after the text went out, and an immediate second
        try could post the summary twice. The run is retried later, text-only (see `tick`).
        """
        sections = summary.sections()
        posted: list[str] = []
        errors: dict[str, str] = {}
        for surface, (channel, poster) in sorted(targets.items()):
            if surface in skip:
                continue
            try:
                png = None if surface in text_only else chart_png
                await poster.post_summary(channel, summary.title, sections, png)
            except Exception as error:
                log.exception("summary: posting to %s failed", surface)
                errors[surface] = f"{type(error).__name__}: {error}"[:500]
                continue
            posted.append(surface)
            if on_posted is not None:
                await on_posted(surface)
        return posted, errors

    async def tick(self) -> Delivery | None:
        """Post the due summary if this replica wins it; None when there is nothing to do."""
        schedule = self.schedule
        now = self._clock.now()
        slot = due_slot(now, schedule.at, schedule.zone, schedule.window)
        if slot is None:
            return None
        existing = await self._runs.get(slot.key)
        if existing is not None and existing.done:
            return None  # the common case after posting: no insert attempt, no constraint error logged
        targets = self.targets()
        if not targets:
            return None  # leave the day to a replica that can post it
        late = slot.is_late(now, schedule.grace)
        claim = await self._runs.claim(slot.key, slot.scheduled_for, self.owner, now, late=late)
        if claim is None:
            return None
        summary = await self.build(period_for_slot(slot, schedule.at, schedule.zone), as_of=now, late=late)
        png = await self.chart(summary)

        async def remember(surface: str) -> None:
            await self._runs.mark_posted(slot.key, self.owner, surface)

        # A surface that failed before is retried without the chart: whatever broke, the text
        # must get through, and a chart problem must not block the summary a second time.
        failed_before = frozenset(claim.details.get("errors", {}))
        posted, errors = await self.deliver(
            summary, targets, chart_png=png, skip=claim.posted_surfaces, text_only=failed_before, on_posted=remember
        )
        missing = sorted(set(schedule.channels) - set(targets))
        if errors:
            # The claim stays unfinished: once stale, a replica (maybe this one) retries what is missing.
            await self._runs.record_errors(slot.key, self.owner, errors)
        else:
            await self._runs.finish(
                slot.key, self.owner, self._clock.now(),
                {"late": late, "chart": png is not None, "no_poster": missing, "empty": summary.empty,
                 "anchor": [summary.anchor.seq, summary.anchor.hash] if summary.anchor else None},
            )  # fmt: skip
            log.log(
                logging.WARNING if late else logging.INFO, "daily summary %s posted%s to %s",
                slot.key, " LATE" if late else "", ", ".join(sorted({*posted, *claim.posted_surfaces})),
            )  # fmt: skip
        return Delivery(slot.key, tuple(posted), errors, late, png is not None)

    def seconds_until_next_check(self) -> float:
        """Poll interval, shortened so a check lands right at the next slot."""
        now = self._clock.now()
        until = (next_slot(now, self.schedule.at, self.schedule.zone).scheduled_for - now).total_seconds()
        return max(0.5, min(self.schedule.poll_seconds, until))

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Check, sleep, repeat until `stop`. A failing check (database down) never ends the loop."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("daily summary check failed; trying again shortly")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.seconds_until_next_check())
