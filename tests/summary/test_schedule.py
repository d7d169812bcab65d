"""When summaries are due (pure): local time in the configured zone, DST days, the late window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.summary.helpers import PRAGUE, local
from workflows.summary_schedule import (
    LATE_WINDOW,
    SummarySlot,
    due_slot,
    next_slot,
    period_for_slot,
    slot_for_day,
)


@pytest.mark.parametrize(
    ("day", "at", "expected_utc", "why"),
    [
        (date(2026, 3, 2), time(8, 0), datetime(2026, 3, 2, 7, 0, tzinfo=UTC), "winter: CET, UTC+1"),
        (date(2026, 7, 1), time(8, 0), datetime(2026, 7, 1, 6, 0, tzinfo=UTC), "summer: CEST, UTC+2"),
        (date(2026, 3, 29), time(8, 0), datetime(2026, 3, 29, 6, 0, tzinfo=UTC), "spring-forward day, after"),
        (date(2026, 10, 25), time(8, 0), datetime(2026, 10, 25, 7, 0, tzinfo=UTC), "fall-back day, after"),
        (date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "in the gap: 03:30 CEST"),
        (date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "repeated hour: the first"),
    ],
)
def test_slot_is_the_local_time_of_the_local_day(day: date, at: time, expected_utc: datetime, why: str) -> None:
    assert slot_for_day(day, at, PRAGUE) == SummarySlot(day, expected_utc), why


def first_due_times(start: datetime, end: datetime, at: time, step: timedelta) -> dict[str, datetime]:
    """Walk a clock from start to end; the first instant each day's slot was due."""
    seen: dict[str, datetime] = {}
    now = start
    while now < end:
        slot = due_slot(now, at, PRAGUE)
        if slot is not None:
            seen.setdefault(slot.key, now)
        now += step
    return seen


@pytest.mark.parametrize(
    ("days", "at"),
    [
        ((date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)), time(8, 0)),
        ((date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)), time(2, 30)),
        ((date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)), time(8, 0)),
        ((date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)), time(2, 30)),
        ((date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)), time(23, 30)),
    ],
)
def test_around_dst_changes_every_day_is_due_once_at_its_local_time(days: tuple[date, ...], at: time) -> None:
    start = local(days[0].year, days[0].month, days[0].day)
    end = local(days[-1].year, days[-1].month, days[-1].day) + timedelta(days=1)
    seen = first_due_times(start, end, at, timedelta(minutes=1))
    seen.pop((days[0] - timedelta(days=1)).isoformat(), None)  # the eve's 23:30 slot is still due after midnight
    assert sorted(seen) == [d.isoformat() for d in days]
    for day in days:
        expected = slot_for_day(day, at, PRAGUE).scheduled_for
        assert seen[day.isoformat()] == expected
        wall = expected.astimezone(PRAGUE)
        # the wall clock shows the configured time, except in the spring gap (shifted by the gap)
        assert (wall.hour, wall.minute) in {(at.hour, at.minute), (at.hour + 1, at.minute)}


def test_dst_days_have_23_and_25_hour_periods_that_meet_exactly() -> None:
    at = time(8, 0)
    lengths = {}
    previous_end = None
    for offset in range(-1, 240):
        day = date(2026, 3, 1) + timedelta(days=offset)
        period = period_for_slot(slot_for_day(day, at, PRAGUE), at, PRAGUE)
        if previous_end is not None:
            assert period.start == previous_end  # no gap, no overlap: each event in one summary
        previous_end = period.end
        lengths[day] = period.length
    assert lengths[date(2026, 3, 29)] == timedelta(hours=23)
    assert lengths[date(2026, 10, 25)] == timedelta(hours=25)
    assert {v for k, v in lengths.items() if k not in (date(2026, 3, 29), date(2026, 10, 25))} == {timedelta(hours=24)}


@pytest.mark.parametrize(
    ("now", "expected_day", "late"),
    [
        (local(2026, 3, 2, 7, 59), None, False),  # not yet
        (local(2026, 3, 2, 8, 0), date(2026, 3, 2), False),  # on time
        (local(2026, 3, 2, 8, 5), date(2026, 3, 2), False),  # within the grace
        (local(2026, 3, 2, 8, 6), date(2026, 3, 2), True),
        (local(2026, 3, 2, 13, 59), date(2026, 3, 2), True),  # missed by 5h59: still posted, late
        (local(2026, 3, 2, 14, 0), None, False),  # missed by 6h: given up
    ],
)
def test_late_window(now: datetime, expected_day: date | None, late: bool) -> None:
    slot = due_slot(now, time(8, 0), PRAGUE)
    assert (slot.day if slot else None) == expected_day
    if slot is not None:
        assert slot.is_late(now) is late


def test_a_late_evening_slot_stays_due_after_midnight() -> None:
    slot = due_slot(local(2026, 3, 3, 1, 0), time(22, 0), PRAGUE)
    assert slot is not None and slot.day == date(2026, 3, 2) and slot.is_late(local(2026, 3, 3, 1, 0))
    assert due_slot(local(2026, 3, 3, 4, 0), time(22, 0), PRAGUE) is None
    assert timedelta(hours=6) == LATE_WINDOW  # the window


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 3, 28, 9, 0), slot_for_day(date(2026, 3, 29), time(8, 0), PRAGUE)),
        (local(2026, 3, 29, 7, 59), slot_for_day(date(2026, 3, 29), time(8, 0), PRAGUE)),
        (local(2026, 3, 29, 8, 0), slot_for_day(date(2026, 3, 30), time(8, 0), PRAGUE)),
    ],
)
def test_next_slot_is_strictly_after_now(now: datetime, expected: SummarySlot) -> None:
    assert next_slot(now, time(8, 0), PRAGUE) == expected
