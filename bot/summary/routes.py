"""Hooks the daily summary into `accessbot serve`: a background loop started with the app.

`bot.cli` calls `install(app, runtime)` after the chat front ends, which have registered their
summary posters in ``runtime.summary_posters`` by then (the loop reads that dict at each check,
so a poster registered later still counts). Nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.runtime import Runtime
from bot.summary.job import SummaryJob, SummarySchedule

log = logging.getLogger("accessbot.summary")

SUMMARY_JOB: web.AppKey[SummaryJob] = web.AppKey("summary_job", SummaryJob)


def build_job(runtime: Runtime) -> SummaryJob:
    """The summary job on the runtime's database, clock, configuration and posters."""
    config = runtime.config
    return SummaryJob(
        engine=runtime.engine,
        store=runtime.store,
        clock=runtime.clock,
        schedule=SummarySchedule(zone=config.timezone, at=config.summary_time, channels=dict(config.summary_channels)),
        posters=runtime.summary_posters,
        customer_names={c.key: c.display_name for c in config.catalog},
        owner=runtime.scheduler.owner,
    )


def install(app: web.Application, runtime: Runtime) -> None:
    """Register the daily summary loop on `app` (runs while the app runs)."""
    if not runtime.config.summary_channels:
        log.info("no bot.summary_channel configured: the daily summary is off")
        return
    job = build_job(runtime)
    app[SUMMARY_JOB] = job
    app.cleanup_ctx.append(_summary_context)


async def _summary_context(app: web.Application) -> AsyncIterator[None]:
    job = app[SUMMARY_JOB]
    stop = asyncio.Event()
    task = asyncio.create_task(job.run_forever(stop), name="daily-summary")
    schedule = job.schedule
    log.info(
        "daily summary at %s %s to %s", schedule.at.strftime("%H:%M"), getattr(schedule.zone, "key", schedule.zone),
        ", ".join(f"{s}:{c}" for s, c in sorted(schedule.channels.items())),
    )  # fmt: skip
    yield
    stop.set()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(task, timeout=10)
