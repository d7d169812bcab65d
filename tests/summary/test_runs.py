"""`SummaryRuns` on SQLite and PostgreSQL: one claim per day, stale claims taken over once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.summary_runs import SummaryRuns
from tests.support import clone_engine

DAY = "2026-03-02"
DUE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


async def test_the_first_claim_wins_and_the_rest_see_it(engine: AsyncEngine) -> None:
    other = await clone_engine(engine)
    try:
        replicas = [SummaryRuns(engine), SummaryRuns(other)] * 3
        claims = await asyncio.gather(
            *(runs.claim(DAY, DUE, f"replica-{i}", DUE, late=False) for i, runs in enumerate(replicas))
        )
        winners = [c for c in claims if c is not None]
        assert len(winners) == 1
        stored = await SummaryRuns(engine).get(DAY)
        assert stored is not None and stored.claimed_by == winners[0].claimed_by and not stored.done
    finally:
        await other.dispose()


async def test_finish_and_progress_belong_to_the_claimer(engine: AsyncEngine) -> None:
    runs = SummaryRuns(engine)
    assert await runs.claim(DAY, DUE, "a", DUE, late=True) is not None
    await runs.mark_posted(DAY, "someone-else", "slack")  # ignored: not the claimer
    await runs.mark_posted(DAY, "a", "teams")
    assert not await runs.finish(DAY, "someone-else", DUE)
    assert await runs.finish(DAY, "a", DUE + timedelta(seconds=3), {"chart": True})
    run = await runs.get(DAY)
    assert run is not None and run.done and run.late and run.posted_at == DUE + timedelta(seconds=3)
    assert run.posted_surfaces == {"teams"} and run.details["chart"] is True
    assert not await runs.finish(DAY, "a", DUE)  # finished once
    assert await runs.claim(DAY, DUE, "b", DUE + timedelta(hours=1), late=True) is None  # posted: never again


async def test_a_stale_claim_is_taken_over_by_exactly_one_replica(engine: AsyncEngine) -> None:
    other = await clone_engine(engine)
    try:
        first = SummaryRuns(engine, stale_after=timedelta(minutes=10))
        assert await first.claim(DAY, DUE, "crashed", DUE, late=False) is not None
        await first.mark_posted(DAY, "crashed", "slack")
        assert await first.claim(DAY, DUE, "b", DUE + timedelta(minutes=9), late=False) is None  # still fresh
        later = DUE + timedelta(minutes=10)
        replicas = [first, SummaryRuns(other, stale_after=timedelta(minutes=10))] * 2
        claims = await asyncio.gather(
            *(runs.claim(DAY, DUE, f"taker-{i}", later, late=True) for i, runs in enumerate(replicas))
        )
        winners = [c for c in claims if c is not None]
        assert len(winners) == 1
        assert winners[0].posted_surfaces == {"slack"}  # it posts only what is missing
        run = await first.get(DAY)
        assert run is not None and run.claimed_by == winners[0].claimed_by and run.late
        assert run.details["taken_over_from"] == ["crashed"]
    finally:
        await other.dispose()
