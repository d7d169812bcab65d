"""`accessbot summary` (--print, --post, --date, --chart) and the loop `serve` runs (bot.summary.routes)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.summary_runs import SummaryRuns
from bot.config import AppConfig
from bot.server import create_app
from bot.settings import Settings
from bot.summary import routes
from bot.summary.terminal import BadDate, parse_day, run_summary_command
from tests.fakes.clock import ManualClock
from tests.summary.helpers import CUSTOMERS, PRAGUE, RecordingPoster, busy_day, local
from tests.support import build_world
from workflows.policy import Catalog


def config(**channels: str) -> AppConfig:
    return AppConfig(catalog=Catalog(CUSTOMERS), timezone=PRAGUE, summary_channels=dict(channels))


def settings_for(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}")  # the sqlite_engine file


@pytest.fixture
async def busy_db(sqlite_engine: AsyncEngine) -> AsyncEngine:
    await busy_day(build_world(sqlite_engine, CUSTOMERS))
    return sqlite_engine


async def summary_cli(tmp_path: Path, **options: object) -> tuple[int, str, dict[str, RecordingPoster]]:
    posters = {"slack": RecordingPoster()}
    console = Console(record=True, width=200)
    values: dict[str, object] = {"day": None, "print_": False, "post": False, "chart": None} | options
    code = await run_summary_command(
        settings_for(tmp_path), config(slack="C0SUMMARY"), console=console, clock=ManualClock(local(2026, 3, 3, 9, 0)),
        posters=posters, **values,  # type: ignore[arg-type]
    )  # fmt: skip
    return code, console.export_text(), posters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("2026-03-29", date(2026, 3, 29)),
        ("today", date(2026, 3, 3)),
        ("Yesterday", date(2026, 3, 2)),
    ],
)
def test_parse_day(text: str | None, expected: date | None) -> None:
    assert parse_day(text, date(2026, 3, 3)) == expected


def test_parse_day_refuses_what_is_not_a_day() -> None:
    with pytest.raises(BadDate, match="is not a day"):
        parse_day("3/3/26", date(2026, 3, 3))


async def test_print_for_a_date_renders_every_part(busy_db: AsyncEngine, tmp_path: Path) -> None:
    code, text, posters = await summary_cli(tmp_path, day="2026-03-03", print_=True)
    assert code == 0 and posters["slack"].posts == []
    assert "Access summary — Tue 3 Mar 2026 (Mon 08:00 to Tue 08:00 Europe/Prague, 24 h)" in text
    assert text.index("FAILURES") < text.index("Active now") < text.index("In this period")
    for expected in ("kate@contoso.example", "ended by ops", "not today", "Still waiting", "judy@contoso.example",
                     "Totals per customer", "audit chain head: event #"):  # fmt: skip
        assert expected in text


async def test_a_day_before_anything_happened_prints_one_line(busy_db: AsyncEngine, tmp_path: Path) -> None:
    code, text, _ = await summary_cli(tmp_path, day="2026-02-20")
    assert code == 0
    assert "No access was requested, granted or active in this period." in text
    assert "Totals per customer" not in text


async def test_post_posts_now_and_chart_writes_the_png(busy_db: AsyncEngine, tmp_path: Path) -> None:
    chart = tmp_path / "summary.png"
    code, text, posters = await summary_cli(tmp_path, day="2026-03-03", post=True, chart=chart)
    assert code == 0
    [post] = posters["slack"].posts
    assert post.channel == "C0SUMMARY" and post.title.startswith("Access summary — Tue 3 Mar 2026")
    assert post.sections[0].alert and post.chart_png == chart.read_bytes()
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "posted to slack: C0SUMMARY" in text and "2 customer row(s)" in text
    # a hand-made post is not the scheduled one: the day's run stays free for the loop
    assert await SummaryRuns(busy_db).get("2026-03-03") is None


async def test_a_bad_date_exits_2(busy_db: AsyncEngine, tmp_path: Path) -> None:
    code, text, _ = await summary_cli(tmp_path, day="someday", print_=True)
    assert code == 2 and "is not a day" in text


async def test_serve_installs_a_loop_that_posts_the_due_summary(busy_db: AsyncEngine, tmp_path: Path) -> None:
    from bot.runtime import build_runtime

    clock = ManualClock(local(2026, 3, 3, 8, 0))
    runtime = await build_runtime(
        settings_for(tmp_path), config(slack="C0SUMMARY"), sandbox=True, clock=clock, migrate=False
    )
    poster = RecordingPoster()
    runtime.summary_posters["slack"] = poster  # what the Slack front end's install() does
    runner = web.AppRunner(create_app(runtime, [routes.install], scheduler=False))
    try:
        await runner.setup()  # starts the app's background contexts, as `serve` does
        for _ in range(400):  # wait for the loop's first check (no timing is asserted)
            if poster.posts:
                break
            await asyncio.sleep(0.025)
    finally:
        await runner.cleanup()
        await runtime.close()
    assert len(poster.posts) == 1 and poster.posts[0].chart_png is not None
    run = await SummaryRuns(busy_db).get("2026-03-03")
    assert run is not None and run.done and run.claimed_by == runtime.scheduler.owner


async def test_without_a_summary_channel_serve_runs_no_summary_loop(busy_db: AsyncEngine, tmp_path: Path) -> None:
    from bot.runtime import build_runtime

    runtime = await build_runtime(settings_for(tmp_path), config(), sandbox=True, migrate=False)
    try:
        app = create_app(runtime, [routes.install], scheduler=False)
        assert routes.SUMMARY_JOB not in app and len(app.cleanup_ctx) == 0
    finally:
        await runtime.close()
