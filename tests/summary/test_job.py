"""Posting the daily summary: once per local day — across DST, several replicas, downtime and crashes."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.summary_runs import SummaryRuns
from tests.fakes.clock import ManualClock
from tests.summary.helpers import PRAGUE, RecordingPoster, local, make_job
from tests.support import clone_engine
from workflows.summary_schedule import slot_for_day


async def run_clock(jobs: list, clock: ManualClock, start: datetime, end: datetime, step: timedelta) -> None:  # type: ignore[type-arg]
    """Move the clock from start to end, letting every job check at each step (concurrently)."""
    clock.set(start)
    while clock.now() < end:
        await asyncio.gather(*(job.tick() for job in jobs))
        clock.advance(step)


@pytest.mark.parametrize(
    ("days", "at"),
    [
        ((date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)), time(8, 0)),  # spring forward
        ((date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)), time(2, 30)),  # ... at a time in the gap
        ((date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)), time(8, 0)),  # fall back
        ((date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)), time(2, 30)),  # ... in the repeated hour
    ],
)
async def test_dst_change_days_post_exactly_one_summary_each(
    sqlite_engine: AsyncEngine, days: tuple[date, ...], at: time
) -> None:
    clock = ManualClock()
    poster = RecordingPoster(clock=clock)
    job = make_job(sqlite_engine, clock, {"slack": poster}, at=at)
    first, last = days[0], days[-1]
    await run_clock(
        [job], clock, local(first.year, first.month, first.day), local(last.year, last.month, last.day, 23, 59),
        timedelta(minutes=5),
    )  # fmt: skip
    expected = [slot_for_day(day, at, PRAGUE).scheduled_for for day in days]
    assert poster.posted_at == expected
    assert [p.title.split(" (")[0] for p in poster.posts] == [
        f"Access summary — {d.strftime('%a')} {d.day} {d.strftime('%b %Y')}" for d in days
    ]
    runs = await SummaryRuns(sqlite_engine).recent()
    assert sorted(r.day for r in runs) == [d.isoformat() for d in days]
    assert all(r.done and not r.late for r in runs)


async def test_two_replicas_on_one_database_post_once(engine: AsyncEngine) -> None:
    other = await clone_engine(engine)
    try:
        clock = ManualClock()
        posters = [RecordingPoster(clock=clock), RecordingPoster(clock=clock)]
        jobs = [
            make_job(engine, clock, {"slack": posters[0]}, owner="replica-a"),
            make_job(other, clock, {"slack": posters[1]}, owner="replica-b"),
        ]
        # both check every minute around the summary time, twice over (a second day)
        for day in (2, 3):
            await run_clock(jobs, clock, local(2026, 3, day, 7, 58), local(2026, 3, day, 8, 20), timedelta(minutes=1))
        posts = [*posters[0].posted_at, *posters[1].posted_at]
        assert sorted(posts) == [local(2026, 3, 2, 8, 0), local(2026, 3, 3, 8, 0)]
        runs = await SummaryRuns(engine).recent()
        assert [(r.day, r.done) for r in runs] == [("2026-03-03", True), ("2026-03-02", True)]
        assert {r.claimed_by for r in runs} <= {"replica-a", "replica-b"}
    finally:
        await other.dispose()


@pytest.mark.parametrize(
    ("back_at", "posted", "late"),
    [
        (local(2026, 3, 2, 8, 3), True, False),  # a restart just after 08:00 is not "late"
        (local(2026, 3, 2, 11, 0), True, True),
        (local(2026, 3, 2, 13, 59), True, True),  # missed by 5h59: posted, marked late
        (local(2026, 3, 2, 14, 0), False, False),  # missed by 6h: not posted any more
        (local(2026, 3, 2, 20, 0), False, False),
    ],
)
async def test_a_bot_down_at_summary_time_posts_late_within_the_window_only(
    sqlite_engine: AsyncEngine, back_at: datetime, posted: bool, late: bool
) -> None:
    clock = ManualClock(back_at)
    poster = RecordingPoster(clock=clock)
    job = make_job(sqlite_engine, clock, {"slack": poster})
    # the bot comes back at `back_at` and runs until the next morning's summary has gone out
    await run_clock([job], clock, back_at, local(2026, 3, 3, 8, 30), timedelta(minutes=10))
    today = [p for p in poster.posts if "Mon 2 Mar 2026" in p.title]
    assert len(today) == (1 if posted else 0)
    if posted:
        assert ("LATE: due 08:00, posted" in today[0].title) is late
    run = await SummaryRuns(sqlite_engine).get("2026-03-02")
    if posted:
        assert run is not None and run.done and run.late is late
    else:
        assert run is None  # never claimed: nothing half-done is left behind
    # the next day is unaffected: on time, once
    assert [p.title.split(" (")[0] for p in poster.posts if "Tue 3 Mar" in p.title] == [
        "Access summary — Tue 3 Mar 2026"
    ]


async def test_a_crashed_claim_is_taken_over_and_posts_only_what_is_missing(sqlite_engine: AsyncEngine) -> None:
    clock = ManualClock(local(2026, 3, 2, 8, 0))
    runs = SummaryRuns(sqlite_engine)
    slot = slot_for_day(date(2026, 3, 2), time(8, 0), PRAGUE)
    # replica "dead" claimed the day, got the summary to Slack, then died before Teams
    assert await runs.claim(slot.key, slot.scheduled_for, "dead", clock.now(), late=False) is not None
    await runs.mark_posted(slot.key, "dead", "slack")
    slack, teams = RecordingPoster("slack", clock=clock), RecordingPoster("teams", clock=clock)
    job = make_job(
        sqlite_engine, clock, {"slack": slack, "teams": teams}, channels={"slack": "C0SUMMARY", "teams": "19:abc"}
    )
    await run_clock([job], clock, local(2026, 3, 2, 8, 1), local(2026, 3, 2, 8, 30), timedelta(minutes=1))
    assert slack.posts == []  # already posted by the dead replica: never twice
    assert teams.posted_at == [local(2026, 3, 2, 8, 10)]  # after the claim went stale (10 minutes)
    assert "LATE" in teams.posts[0].title
    run = await runs.get(slot.key)
    assert run is not None and run.done and run.claimed_by == "replica-a"
    assert run.posted_surfaces == {"slack", "teams"} and run.details["taken_over_from"] == ["dead"]


async def test_a_chat_outage_is_retried_text_only_and_posts_once(sqlite_engine: AsyncEngine) -> None:
    clock = ManualClock()
    poster = RecordingPoster(clock=clock, fail_times=1)
    job = make_job(sqlite_engine, clock, {"slack": poster})
    await run_clock([job], clock, local(2026, 3, 2, 8, 0), local(2026, 3, 2, 9, 0), timedelta(minutes=1))
    assert poster.posted_at == [local(2026, 3, 2, 8, 10)]  # once the failed claim went stale
    assert poster.posts[0].chart_png is None and "LATE" in poster.posts[0].title
    run = await SummaryRuns(sqlite_engine).get("2026-03-02")
    assert run is not None and run.done and "errors" not in run.details


async def test_a_poster_that_breaks_on_the_chart_still_gets_the_text_out_once(sqlite_engine: AsyncEngine) -> None:
    clock = ManualClock()
    poster = RecordingPoster(clock=clock, fail_with_chart=True)  # raises instead of handling its upload
    job = make_job(sqlite_engine, clock, {"slack": poster})
    await run_clock([job], clock, local(2026, 3, 2, 8, 0), local(2026, 3, 2, 9, 0), timedelta(minutes=1))
    assert len(poster.posts) == 1 and poster.posts[0].chart_png is None
    assert poster.posts[0].sections[0].lines  # the text summary itself


async def test_a_broken_chart_renderer_does_not_stop_the_text(sqlite_engine: AsyncEngine) -> None:
    def broken(timeline: object) -> bytes:
        raise ValueError("matplotlib exploded")

    clock = ManualClock()
    poster = RecordingPoster(clock=clock)
    job = make_job(sqlite_engine, clock, {"slack": poster}, render_chart=broken)
    await run_clock([job], clock, local(2026, 3, 2, 8, 0), local(2026, 3, 2, 8, 2), timedelta(minutes=1))
    assert [p.chart_png for p in poster.posts] == [None]


async def test_a_replica_without_the_configured_poster_leaves_the_day_to_others(sqlite_engine: AsyncEngine) -> None:
    clock = ManualClock(local(2026, 3, 2, 8, 0))
    job = make_job(sqlite_engine, clock, {}, channels={"teams": "19:abc"})
    assert await job.tick() is None
    assert await SummaryRuns(sqlite_engine).get("2026-03-02") is None


async def test_the_loop_sleeps_until_the_next_slot_at_most_a_poll_interval(sqlite_engine: AsyncEngine) -> None:
    clock = ManualClock(local(2026, 3, 2, 7, 59) + timedelta(seconds=30))
    job = make_job(sqlite_engine, clock, {})
    assert job.seconds_until_next_check() == 30
    clock.set(local(2026, 3, 2, 9, 0))
    assert job.seconds_until_next_check() == 60
