"""Shared pieces of the summary tests: a recording poster, a busy day, and a job on a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.repository import SqlStore
from adapters.store.summary_runs import SummaryRuns
from bot.summary.job import ChartRenderer, SummaryJob, SummarySchedule
from tests.support import World, customer
from workflows.model import Actor, Surface
from workflows.ports import Clock, SummaryPoster, SummarySection

PRAGUE = ZoneInfo("Europe/Prague")
CUSTOMERS = [customer("customer-x"), customer("customer-y", max_duration=timedelta(days=2))]
NAMES = {c.key: c.display_name for c in CUSTOMERS}


@dataclass(frozen=True)
class Post:
    channel: str
    title: str
    sections: tuple[SummarySection, ...]
    chart_png: bytes | None


@dataclass
class RecordingPoster:
    """A SummaryPoster that keeps what it was asked to post.

    `fail_times` makes the next N posts raise (a chat outage); `fail_with_chart` makes every post
    that carries a chart raise, as a poster whose upload broke would if it did not handle it.
    """

    surface: str = "slack"
    posts: list[Post] = field(default_factory=list)
    fail_times: int = 0
    fail_with_chart: bool = False
    clock: Clock | None = None
    posted_at: list[datetime] = field(default_factory=list)

    async def post_summary(
        self, channel: str, title: str, sections: Sequence[SummarySection], chart_png: bytes | None
    ) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("chat service unavailable")
        if self.fail_with_chart and chart_png is not None:
            raise RuntimeError("files.upload failed")
        self.posts.append(Post(channel, title, tuple(sections), chart_png))
        if self.clock is not None:
            self.posted_at.append(self.clock.now())


def fake_chart(timeline: object) -> bytes:
    """Stands in for matplotlib where the chart is not what a test is about (fast)."""
    return b"\x89PNG fake"


def make_job(
    engine: AsyncEngine,
    clock: Clock,
    posters: Mapping[str, SummaryPoster],
    *,
    at: time = time(8, 0),
    zone: ZoneInfo = PRAGUE,
    channels: Mapping[str, str] | None = None,
    owner: str = "replica-a",
    render_chart: ChartRenderer | None = fake_chart,
    stale_after: timedelta = timedelta(minutes=10),
) -> SummaryJob:
    return SummaryJob(
        engine=engine,
        store=SqlStore(engine),
        clock=clock,
        schedule=SummarySchedule(zone=zone, at=at, channels=channels or {"slack": "C0SUMMARY"}),
        posters=posters,
        customer_names=NAMES,
        owner=owner,
        runs=SummaryRuns(engine, stale_after=stale_after),
        render_chart=render_chart,
    )


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0) -> datetime:
    """A Prague wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=PRAGUE, fold=fold).astimezone(UTC)


@dataclass
class BusyDay:
    """Request/grant numbers of the scenario, by person."""

    ids: dict[str, int]


async def busy_day(world: World) -> BusyDay:
    """Every kind of event between Mon 2 Mar 2026 08:00 and Tue 3 Mar 08:00 Prague (07:00 UTC):

    eve expired, frank ended early, gina granted + extended (still active), hank denied, ivan timed
    out, luke cancelled, kate's revocation failing, judy still waiting; mike's denial is before it.
    """
    service, clock = world.service, world.clock
    alice, bob = await world.person("alice"), await world.person("bob")
    names = ("eve", "frank", "gina", "hank", "ivan", "luke", "kate", "judy", "mike")
    people = {n: await world.person(n) for n in names}
    ids: dict[str, int] = {}

    async def ask(name: str, where: str, duration: str) -> int:
        outcome = await service.request_access(people[name], where, duration, "work", surface=Surface.SLACK)
        assert outcome.request.id is not None
        ids[name] = outcome.request.id
        return outcome.request.id

    clock.set(datetime(2026, 3, 2, 6, 30, tzinfo=UTC))  # 07:30 Prague: before the period
    await service.deny(await ask("mike", "customer-x", "1h"), alice, surface=Surface.SLACK)

    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    await service.approve(await ask("eve", "customer-x", "1h"), alice, surface=Surface.SLACK)
    await service.approve(await ask("frank", "customer-x", "2h"), bob, surface=Surface.SLACK)
    await service.approve(await ask("gina", "customer-y", "20h"), alice, surface=Surface.TEAMS)
    await service.deny(await ask("hank", "customer-x", "1h"), alice, surface=Surface.SLACK, note="not today")
    await ask("ivan", "customer-y", "1h")
    await service.cancel(await ask("luke", "customer-x", "1h"), people["luke"], surface=Surface.SLACK)
    await world.run_due()

    clock.set(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    await service.revoke(ids["frank"], Actor.operator("ops"), surface=Surface.CLI, reason="done early")
    await world.run_due()

    for hour in (10, 11):  # eve's hour runs out; ivan's request times out
        clock.set(datetime(2026, 3, 2, hour, 0, tzinfo=UTC))
        await world.run_due()

    clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    extension = await service.extend(ids["gina"], people["gina"], "4h", "more", surface=Surface.TEAMS)
    assert extension.request.id is not None
    await service.approve(extension.request.id, bob, surface=Surface.TEAMS)

    clock.set(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    await service.approve(await ask("kate", "customer-y", "1h"), alice, surface=Surface.SLACK)
    await world.run_due()
    world.directory._faults.failures["remove_member"] = 1_000_000  # Entra refuses the removal
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    for _ in range(6):  # the revocation fails, is retried with backoff, and is declared failed
        await world.run_due()
        clock.advance(timedelta(minutes=3))

    clock.set(datetime(2026, 3, 3, 6, 0, tzinfo=UTC))
    await ask("judy", "customer-x", "1h")
    return BusyDay(ids)
