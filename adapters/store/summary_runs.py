"""`SummaryRuns`: the once-per-day record of the daily summary (table ``summary_runs``).

Exactly once across replicas: a replica *claims* a day by inserting its row; the primary key
(the local day, "YYYY-MM-DD") lets one insert win on SQLite and PostgreSQL alike, and every
other replica sees the row and stays quiet.

A replica that crashes after claiming (or whose chat post failed) leaves a claimed row with no
``posted_at``. Decision: such a claim is *stale* after `stale_after` (10 minutes, far longer than
building and posting a summary takes) and may then be taken over, with a compare-and-swap on
(claimed_by, claimed_at) so only one replica takes it over. Each surface (Slack, Teams) is
recorded in ``details.posted`` as soon as its post succeeded, so the taker-over posts only the
surfaces still missing. The one window left for a duplicate is a crash between the chat
platform accepting a post and this row recording it (milliseconds; chat APIs have no
idempotency key to close it). The caller only claims within the late window, so a stale claim
is retried at most until the window closes, then the day is given up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.mapping import grant_from_row, request_from_row
from adapters.store.tables import GrantRow, RequestRow, SummaryRunRow
from workflows.model import LIVE_GRANT_STATES, AccessRequest, Grant, RequestState

runs_t = SummaryRunRow.__table__  # type: ignore[attr-defined]
grants_t = GrantRow.__table__  # type: ignore[attr-defined]
requests_t = RequestRow.__table__  # type: ignore[attr-defined]

DEFAULT_STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class SummaryRun:
    """One day's summary run as stored."""

    day: str
    scheduled_for: datetime
    claimed_by: str
    claimed_at: datetime
    posted_at: datetime | None
    late: bool
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def posted_surfaces(self) -> frozenset[str]:
        """Surfaces whose post succeeded (a taker-over skips them)."""
        return frozenset(self.details.get("posted", []))

    @property
    def done(self) -> bool:
        return self.posted_at is not None


def _run(row: Any) -> SummaryRun:
    return SummaryRun(
        day=row["day"],
        scheduled_for=row["scheduled_for"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        posted_at=row["posted_at"],
        late=bool(row["late"]),
        details=json.loads(row["details"] or "{}"),
    )


class SummaryRuns:
    """Claims and records daily summary runs on the bot's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._stale_after = stale_after

    async def get(self, day: str) -> SummaryRun | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(runs_t).where(runs_t.c.day == day))).mappings().first()
        return _run(row) if row else None

    async def recent(self, limit: int = 30) -> list[SummaryRun]:
        """The newest runs first (for operators and tests)."""
        stmt = select(runs_t).order_by(runs_t.c.day.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return [_run(row) for row in (await conn.execute(stmt)).mappings()]

    async def claim(
        self, day: str, scheduled_for: datetime, owner: str, now: datetime, *, late: bool
    ) -> SummaryRun | None:
        """Take the day's summary for `owner`; None if it is posted, or another claim is still fresh."""
        values = {
            "day": day,
            "scheduled_for": scheduled_for,
            "claimed_by": owner,
            "claimed_at": now,
            "posted_at": None,
            "late": late,
            "details": "{}",
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(runs_t).values(**values))
            return _run(values)
        except IntegrityError:
            pass  # the day is claimed already: posted, in progress, or stale
        existing = await self.get(day)
        if existing is None or existing.done or now - existing.claimed_at < self._stale_after:
            return None
        # Take over a stale claim; the compare-and-swap lets one replica win if several try at once.
        stmt = (
            update(runs_t)
            .where(
                runs_t.c.day == day,
                runs_t.c.claimed_by == existing.claimed_by,
                runs_t.c.claimed_at == existing.claimed_at,
                runs_t.c.posted_at.is_(None),
            )
            .values(claimed_by=owner, claimed_at=now, late=late)
        )
        async with self._engine.begin() as conn:
            if (await conn.execute(stmt)).rowcount != 1:
                return None
        taken_over = [*existing.details.get("taken_over_from", []), existing.claimed_by]
        await self._merge_details(day, owner, {"taken_over_from": taken_over})
        return SummaryRun(day, existing.scheduled_for, owner, now, None, late, existing.details)

    async def mark_posted(self, day: str, owner: str, surface: str) -> None:
        """Record that `surface` got the summary (before the next surface is tried)."""
        await self._merge_details(day, owner, {}, add_posted=surface)

    async def record_errors(self, day: str, owner: str, errors: dict[str, str]) -> None:
        """Keep why a surface failed (the run stays unfinished and is retried once stale)."""
        await self._merge_details(day, owner, {"errors": errors})

    async def finish(self, day: str, owner: str, now: datetime, details: dict[str, Any] | None = None) -> bool:
        """Mark the day posted. False if `owner` no longer holds the claim (it was taken over)."""
        async with self._engine.begin() as conn:
            row = await self._locked(conn, day, owner)
            if row is None:
                return False
            merged = json.loads(row["details"] or "{}") | (details or {})
            merged.pop("errors", None)
            stmt = (
                update(runs_t)
                .where(runs_t.c.day == day, runs_t.c.claimed_by == owner, runs_t.c.posted_at.is_(None))
                .values(posted_at=now, details=json.dumps(merged, sort_keys=True))
            )
            return (await conn.execute(stmt)).rowcount == 1

    async def _locked(self, conn: Any, day: str, owner: str) -> Any:
        stmt = select(runs_t).where(runs_t.c.day == day, runs_t.c.claimed_by == owner, runs_t.c.posted_at.is_(None))
        if self._postgres:
            stmt = stmt.with_for_update()
        return (await conn.execute(stmt)).mappings().first()

    async def _merge_details(self, day: str, owner: str, extra: dict[str, Any], add_posted: str | None = None) -> None:
        async with self._engine.begin() as conn:
            row = await self._locked(conn, day, owner)
            if row is None:
                return
            details = json.loads(row["details"] or "{}") | extra
            if add_posted is not None:
                details["posted"] = sorted({*details.get("posted", []), add_posted})
            await conn.execute(
                update(runs_t)
                .where(runs_t.c.day == day, runs_t.c.claimed_by == owner)
                .values(details=json.dumps(details, sort_keys=True))
            )


class SummaryReads:
    """The reads a summary needs, bounded by time so a years-long history is not loaded each day."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def grants_since(self, since: datetime) -> list[Grant]:
        """Grants not ended yet, or ended at or after `since` (everything a period may show)."""
        stmt = (
            select(grants_t)
            .where(or_(grants_t.c.state.in_([s.value for s in LIVE_GRANT_STATES]), grants_t.c.ended_at >= since))
            .order_by(grants_t.c.id)
        )
        async with self._engine.connect() as conn:
            return [grant_from_row(row) for row in (await conn.execute(stmt)).mappings()]

    async def requests_open_at(self, at: datetime) -> list[AccessRequest]:
        """Requests pending now, or created by `at` and decided after it (pending at `at`)."""
        stmt = (
            select(requests_t)
            .where(
                or_(
                    requests_t.c.state == RequestState.PENDING.value,
                    and_(requests_t.c.created_at <= at, requests_t.c.decided_at > at),
                )
            )
            .order_by(requests_t.c.id)
        )
        async with self._engine.connect() as conn:
            return [request_from_row(row) for row in (await conn.execute(stmt)).mappings()]
