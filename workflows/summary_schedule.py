"""When the daily summary is due: local wall-clock time in the configured zone, DST-safe.

A summary is identified by its *local day* ("2026-03-29" in Europe/Prague), never by a UTC
instant, so a daylight-saving change can neither skip nor double one: every local day has
exactly one slot. Its instant is the configured local time on that day:

- on the spring-forward day a time inside the gap (02:30 in Prague) does not exist; it is read
  with the offset in force before the change (``fold=0``), i.e. it lands one hour later on the
  wall clock (03:30 CEST) — the summary is late by the gap, not skipped;
- on the fall-back day a time inside the repeated hour (02:30) exists twice; the first one
  (``fold=0``) is the slot, and the second occurrence is the same day, so it is not a new slot.

A slot missed by less than `LATE_WINDOW` (the bot was down, or every replica failed) is still
posted, marked late; after that it is given up, and its period's events are in no posted summary
(`accessbot summary --date` still shows them; the audit trail has them all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

LATE_WINDOW = timedelta(hours=6)
# Posting within this much of the scheduled time is "on time": the loop polls once a minute,
# and a replica restarting a few seconds after 08:00 should not label the summary late.
ON_TIME_GRACE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SummarySlot:
    """One day's summary: its local day (the once-per-day key) and its UTC instant."""

    day: date
    scheduled_for: datetime  # aware, UTC

    @property
    def key(self) -> str:
        """The day as stored in ``summary_runs.day``: YYYY-MM-DD in the configured zone."""
        return self.day.isoformat()

    def is_late(self, now: datetime, grace: timedelta = ON_TIME_GRACE) -> bool:
        """Posted (at `now`) more than `grace` after its time."""
        return now - self.scheduled_for > grace


@dataclass(frozen=True, slots=True)
class SummaryPeriod:
    """The time a summary reports on: [start, end). ``slot`` is None for an ad-hoc "last 24 hours"."""

    start: datetime
    end: datetime
    slot: SummarySlot | None = None

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def slot_for_day(day: date, at: time, zone: tzinfo) -> SummarySlot:
    """The slot of local `day` at local time `at` (see the module docstring for DST gaps and folds)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    # A round trip through UTC normalizes a time in the spring gap forward (02:30 -> 03:30 CEST).
    return SummarySlot(day, local.astimezone(UTC))


def local_day(instant: datetime, zone: tzinfo) -> date:
    """The calendar day of `instant` on the wall clocks of `zone`."""
    return instant.astimezone(zone).date()


def due_slot(now: datetime, at: time, zone: tzinfo, window: timedelta = LATE_WINDOW) -> SummarySlot | None:
    """The slot to post at `now`: the latest one whose time has come and is less than `window` ago.

    Looks at today and yesterday (local), because with a late time of day (22:00) a slot missed
    yesterday can still be within its window after midnight.
    """
    today = local_day(now, zone)
    for day in (today, today - timedelta(days=1)):
        slot = slot_for_day(day, at, zone)
        if slot.scheduled_for <= now < slot.scheduled_for + window:
            return slot
    return None


def next_slot(now: datetime, at: time, zone: tzinfo) -> SummarySlot:
    """The first slot strictly after `now` (for sleeping until it)."""
    day = local_day(now, zone) - timedelta(days=1)
    while True:
        slot = slot_for_day(day, at, zone)
        if slot.scheduled_for > now:
            return slot
        day += timedelta(days=1)


def period_for_slot(slot: SummarySlot, at: time, zone: tzinfo) -> SummaryPeriod:
    """From the previous day's slot to this one: 24 hours, or 23/25 across a DST change.

    Consecutive periods meet exactly, so every event is in exactly one daily summary.
    """
    previous = slot_for_day(slot.day - timedelta(days=1), at, zone)
    return SummaryPeriod(previous.scheduled_for, slot.scheduled_for, slot)


def period_ending(now: datetime, length: timedelta = timedelta(hours=24)) -> SummaryPeriod:
    """An ad-hoc period: the `length` up to `now` (an operator's "what happened lately")."""
    return SummaryPeriod(now - length, now)
