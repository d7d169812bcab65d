"""`accessbot summary`: the daily summary in the terminal (rich tables), posted by hand, or its chart.

`run_summary_command` is what the typer command in `bot.cli` calls:

- ``--print`` renders the summary (every line: the chat version caps long sections);
- ``--post`` posts it now through the chat front ends' summary posters. An operator's deliberate
  post: it is not recorded in ``summary_runs`` and does not stop or replace the scheduled one;
- ``--date YYYY-MM-DD`` (or ``today`` / ``yesterday``) picks the day whose scheduled summary to
  build: the period from the previous day's summary time to that day's, "active" and "waiting" as
  of the end of that period. Without it: the last 24 hours up to now;
- ``--chart FILE`` writes the timeline PNG.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from adapters.clock import SystemClock
from adapters.store.engine import create_engine
from adapters.store.repository import SqlStore
from bot.config import AppConfig
from bot.settings import Settings
from bot.summary.job import SummaryJob, SummarySchedule
from workflows.durations import format_duration
from workflows.ports import Clock, SummaryPoster
from workflows.summary import DailySummary, Happening
from workflows.summary_schedule import SummaryPeriod, local_day, period_ending, period_for_slot, slot_for_day

log = logging.getLogger("accessbot.summary")

# The chat front ends whose install() registers a summary poster (the summary's own loop is not one).
CHAT_FRONT_ENDS = ("bot.slack.routes", "bot.teams.routes")


class BadDate(ValueError):
    """--date is not a date."""


def parse_day(text: str | None, today: date) -> date | None:
    """``YYYY-MM-DD``, ``today`` or ``yesterday``; None when not given."""
    if text is None:
        return None
    words = {"today": today, "yesterday": today - timedelta(days=1)}
    if text.strip().lower() in words:
        return words[text.strip().lower()]
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadDate(f"--date: {text!r} is not a day; use e.g. 2026-12-03, today or yesterday") from None


def period_for(day: date | None, now: datetime, schedule: SummarySchedule) -> tuple[SummaryPeriod, datetime]:
    """The period `accessbot summary` reports on, and the "as of" time for active/waiting."""
    if day is None:
        return period_ending(now), now
    period = period_for_slot(slot_for_day(day, schedule.at, schedule.zone), schedule.at, schedule.zone)
    return period, min(now, period.end)


# ---- rendering --------------------------------------------------------------------------


def render(summary: DailySummary, console: Console) -> None:
    """The whole summary as rich tables: failures first (red), then every other part."""
    console.print(f"[bold]{summary.title}[/bold]", highlight=False)
    if summary.empty:
        console.print(summary.sections()[0].lines[0], highlight=False)
    failures = [i for i in summary.items if i.kind in (Happening.FAILED_REVOCATION, Happening.FAILED_GRANT)]
    if failures:
        table = _table("what", "since", "#", "who", "customer", "detail", title="FAILURES", style="red")
        for item in failures:
            table.add_row(item.kind.value, summary.when(item.at), _ref(item.ref), item.who, item.customer, item.detail)
        console.print(Panel(table, border_style="red", title="[bold red]access may still be open[/]"))
    if summary.active:
        table = _table("#", "who", "customer", "since", "until", "", title=f"Active now ({len(summary.active)})")
        for access in summary.active:
            table.add_row(
                str(access.grant_id), access.who, access.customer, summary.when(access.since),
                summary.when(access.until), "being revoked" if access.ending else "",
            )  # fmt: skip
        console.print(table)
    others = [i for i in summary.items if i not in failures]
    if others:
        table = _table("what", "when", "#", "who", "customer", "detail", title="In this period")
        for item in others:
            table.add_row(item.kind.value, summary.when(item.at), _ref(item.ref), item.who, item.customer, item.detail)
        console.print(table)
    if summary.waiting:
        title = f"Still waiting ({len(summary.waiting)})"
        table = _table("#", "who", "customer", "asks for", "waiting since", title=title)
        for waiting in summary.waiting:
            asks = ("extension " if waiting.extension else "") + _duration(waiting.duration)
            table.add_row(str(waiting.request_id), waiting.who, waiting.customer, asks, summary.when(waiting.since))
        console.print(table)
    if summary.totals:
        console.print(totals_table(summary.totals, summary.columns))
    if summary.anchor is not None:
        console.print(f"audit chain head: event #{summary.anchor.seq}, sha256 {summary.anchor.hash}", highlight=False)


def totals_table(totals: Mapping[str, Mapping[str, int]], columns: tuple[str, ...]) -> Table:
    """Customers down, outcomes across; only the columns with something in them."""
    used = [c for c in columns if any(counts.get(c) for counts in totals.values())]
    table = _table("customer", *used, title="Totals per customer")
    for customer, counts in totals.items():
        table.add_row(customer, *(str(counts.get(c, 0) or "") for c in used))
    return table


def _table(*columns: str, title: str, style: str = "") -> Table:
    table = Table(title=title, title_justify="left", title_style=f"bold {style}".strip())
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _ref(ref: int | None) -> str:
    return "" if ref is None else str(ref)


def _duration(value: timedelta) -> str:
    return format_duration(value)


# ---- the command ------------------------------------------------------------------------


async def post_now(job: SummaryJob, summary: DailySummary) -> tuple[list[str], dict[str, str]]:
    """Post `summary` to every configured channel that has a poster. Returns (posted, errors)."""
    targets = job.targets()
    missing = {s: "no poster (is that front end configured?)" for s in job.schedule.channels if s not in targets}
    posted, errors = await job.deliver(summary, targets, chart_png=await job.chart(summary))
    return posted, errors | missing


def install_chat_posters(app: Any, runtime: Any) -> None:
    """Let the chat front ends register their summary posters, without serving anything."""
    for module_name in CHAT_FRONT_ENDS:
        try:
            module = __import__(module_name, fromlist=["install"])
        except ModuleNotFoundError:
            continue
        module.install(app, runtime)


async def run_summary_command(
    settings: Settings,
    config: AppConfig,
    *,
    day: str | None,
    print_: bool,
    post: bool,
    chart: Path | None,
    console: Console,
    sandbox: bool = False,
    clock: Clock | None = None,
    posters: Mapping[str, SummaryPoster] | None = None,
) -> int:
    """`accessbot summary [--print] [--post] [--date D] [--chart FILE]`; returns the exit code.

    With none of --print/--post/--chart it prints. --post needs the chat settings (and, like every
    command that builds the runtime, the Graph settings or --sandbox). `posters` replaces the chat
    front ends' posters (tests).
    """
    clock = clock or SystemClock()
    schedule = SummarySchedule(zone=config.timezone, at=config.summary_time, channels=dict(config.summary_channels))
    try:
        wanted = parse_day(day, local_day(clock.now(), config.timezone))
    except BadDate as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        return 2
    if not (print_ or post or chart):
        print_ = True

    runtime = None
    if post and posters is None:
        from aiohttp import web

        from bot.runtime import build_runtime

        runtime = await build_runtime(settings, config, sandbox=sandbox, clock=clock, migrate=False)
        install_chat_posters(web.Application(), runtime)
        posters = runtime.summary_posters
        engine = runtime.engine
    else:
        engine = create_engine(settings.database_url)
    try:
        job = SummaryJob(
            engine=engine, store=SqlStore(engine), clock=clock, schedule=schedule, posters=posters or {},
            customer_names={c.key: c.display_name for c in config.catalog}, owner="cli",
        )  # fmt: skip
        period, as_of = period_for(wanted, clock.now(), schedule)
        summary = await job.build(period, as_of=as_of)
        code = 0
        if print_:
            render(summary, console)
        if chart is not None:
            png = await job.chart(summary)
            if png is None:
                console.print("[red]error:[/red] the chart could not be rendered (see the log)")
                code = 1
            else:
                await asyncio.to_thread(chart.write_bytes, png)
                console.print(f"chart written to {chart} ({len(summary.timeline.rows)} customer row(s))")
        if post:
            if not schedule.channels:
                console.print("[red]error:[/red] no bot.summary_channel is configured")
                return 2
            posted, errors = await post_now(job, summary)
            for surface in posted:
                console.print(f"posted to {surface}: {schedule.channels[surface]}", highlight=False)
            for surface, problem in sorted(errors.items()):
                console.print(f"[red]not posted to {surface}:[/red] {problem}", highlight=False)
            code = code or (1 if errors else 0)
        return code
    finally:
        if runtime is not None:
            await runtime.close()
        else:
            await engine.dispose()
