"""What the daily summary says, for a day with every kind of event and for an empty day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.summary.helpers import CUSTOMERS, PRAGUE, RecordingPoster, busy_day, make_job
from tests.support import World, build_world
from workflows.summary import EMPTY_LINE, DailySummary, Happening, Outcome
from workflows.summary_schedule import period_for_slot, slot_for_day

SLOT = slot_for_day(date(2026, 3, 3), time(8, 0), PRAGUE)
PERIOD = period_for_slot(SLOT, time(8, 0), PRAGUE)


@pytest.fixture
def busy_world(sqlite_engine: AsyncEngine) -> World:
    return build_world(sqlite_engine, CUSTOMERS)


async def summary_of_busy_day(world: World) -> tuple[DailySummary, dict[str, int]]:
    scenario = await busy_day(world)
    world.clock.set(SLOT.scheduled_for)
    job = make_job(world.engine, world.clock, {"slack": RecordingPoster()})
    return await job.build(PERIOD, as_of=world.clock.now()), scenario.ids


def whos(summary: DailySummary, kind: Happening) -> list[str]:
    return [item.who.split("@")[0] for item in summary.of(kind)]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Happening.FAILED_REVOCATION, ["kate"]),
        (Happening.FAILED_GRANT, []),
        (Happening.GRANTED, ["eve", "frank", "gina", "kate"]),
        (Happening.EXTENDED, ["gina"]),
        (Happening.ENDED_EARLY, ["frank"]),
        (Happening.EXPIRED, ["eve"]),
        (Happening.DENIED, ["hank"]),  # mike's denial was before the period
        (Happening.TIMED_OUT, ["ivan"]),
        (Happening.CANCELLED, ["luke"]),
    ],
)
async def test_each_kind_of_event_is_reported(busy_world: World, kind: Happening, expected: list[str]) -> None:
    summary, _ = await summary_of_busy_day(busy_world)
    assert whos(summary, kind) == expected


async def test_details_current_state_totals_and_order(busy_world: World) -> None:
    summary, ids = await summary_of_busy_day(busy_world)
    assert PERIOD.start == datetime(2026, 3, 2, 7, 0, tzinfo=UTC) and PERIOD.end == SLOT.scheduled_for

    granted = {item.who.split("@")[0]: item.detail for item in summary.of(Happening.GRANTED)}
    assert granted["eve"] == "approved by alice@contoso.example, 1h"
    assert granted["frank"] == "approved by bob@contoso.example, 2h"
    assert "by bob@contoso.example" in summary.of(Happening.EXTENDED)[0].detail
    assert "+4h" in summary.of(Happening.EXTENDED)[0].detail
    assert summary.of(Happening.ENDED_EARLY)[0].detail == "ended by ops"
    assert summary.of(Happening.DENIED)[0].detail == "by alice@contoso.example: not today"
    assert "remove_membership" in summary.of(Happening.FAILED_REVOCATION)[0].detail

    # current state: gina (20h + 4h from Mon 10:00) is active; judy waits; kate is failing, not "active"
    assert [(a.grant_id, a.who) for a in summary.active] == [(ids["gina"], "gina@contoso.example")]
    assert summary.active[0].until == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert [w.request_id for w in summary.waiting] == [ids["judy"]]

    assert summary.totals == {
        "Customer X": {"granted": 2, "ended early": 1, "expired": 1, "denied": 1, "cancelled": 1, "waiting": 1},
        "Customer Y": {"failed": 1, "active now": 1, "granted": 2, "extended": 1, "timed out": 1},
    }

    sections = summary.sections()
    assert sections[0].alert and sections[0].heading.startswith("FAILED REVOCATIONS")
    assert "kate@contoso.example" in sections[0].lines[0] and "still failing" in sections[0].lines[0]
    assert [s.alert for s in sections[1:]] == [False] * (len(sections) - 1)
    headings = [s.heading.split(" (")[0] for s in sections]
    assert headings[1:] == [
        "Active now", "Granted", "Extended", "Ended early", "Expired", "Denied", "Timed out", "Cancelled",
        "Still waiting", "Totals per customer", "Audit chain head",
    ]  # fmt: skip
    assert summary.title.startswith("Access summary — Tue 3 Mar 2026 (Mon 08:00 to Tue 08:00 Europe/Prague, 24 h)")
    assert "LATE" not in summary.title


async def test_the_audit_chain_head_is_anchored_in_the_summary(busy_world: World) -> None:
    summary, _ = await summary_of_busy_day(busy_world)
    seq, digest = await busy_world.store.audit_head()
    assert summary.anchor is not None and (summary.anchor.seq, summary.anchor.hash) == (seq, digest)
    assert summary.sections()[-1].lines == [f"event #{seq}, sha256 {digest}"]


async def test_the_timeline_has_a_bar_per_grant_on_its_customers_row(busy_world: World) -> None:
    summary, ids = await summary_of_busy_day(busy_world)
    timeline = summary.timeline
    assert timeline.rows == ("Customer X", "Customer Y")
    bars = {bar.grant_id: bar for bar in timeline.bars}
    assert {i: (bars[i].customer, bars[i].outcome) for i in bars} == {
        ids["eve"]: ("Customer X", Outcome.EXPIRED),
        ids["frank"]: ("Customer X", Outcome.REVOKED),
        ids["gina"]: ("Customer Y", Outcome.ACTIVE),
        ids["kate"]: ("Customer Y", Outcome.FAILED),
    }
    assert bars[ids["eve"]].start == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert bars[ids["eve"]].end == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert bars[ids["gina"]].end == PERIOD.end and bars[ids["gina"]].continues


async def test_a_day_before_anything_happened_is_one_line(busy_world: World) -> None:
    await busy_day(busy_world)
    job = make_job(busy_world.engine, busy_world.clock, {})
    job.schedule = type(job.schedule)(zone=PRAGUE, at=time(8, 0), channels={}, anchor=False)
    slot = slot_for_day(date(2026, 2, 20), time(8, 0), PRAGUE)
    summary = await job.build(period_for_slot(slot, time(8, 0), PRAGUE), as_of=slot.scheduled_for)
    assert summary.empty
    assert [(s.heading, list(s.lines)) for s in summary.sections()] == [("Nothing to report", [EMPTY_LINE])]
    assert summary.timeline.rows == () and summary.timeline.bars == ()


async def test_long_sections_are_capped_for_chat(busy_world: World) -> None:
    summary, _ = await summary_of_busy_day(busy_world)
    granted = next(s for s in summary.sections(max_lines=3) if s.heading.startswith("Granted"))
    assert len(granted.lines) == 3 and granted.lines[-1].startswith("… and 2 more")
