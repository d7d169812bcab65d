"""The aiohttp server of `serve`: health, readiness, metrics, the chat endpoints, and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from adapters.store.migrate import is_current
from bot.runtime import Runtime

log = logging.getLogger("accessbot.server")

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)

# Front ends (Slack, Teams) register their routes through these hooks, from the composition root.
RouteInstaller = Callable[[web.Application, Runtime], None]


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers. (Readiness is /readyz.)"""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers and its schema is at the newest migration."""
    runtime = request.app[RUNTIME]
    try:
        await runtime.store.ping()
        current = await is_current(runtime.engine)
    except Exception as error:  # report, never crash the probe
        log.warning("readiness: database unreachable: %s", type(error).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    if not current:
        return web.json_response({"status": "unavailable", "database": "migrations pending"}, status=503)
    return web.json_response({"status": "ready", "sandbox": runtime.sandbox})


async def metrics(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    body = await runtime.metrics.render(runtime.store, runtime.clock)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(
    runtime: Runtime, installers: list[RouteInstaller] | None = None, *, scheduler: bool = True
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    for install in installers or []:
        install(app, runtime)
    if scheduler:
        app.cleanup_ctx.append(_scheduler_context)
    return app


async def _scheduler_context(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.scheduler.run_forever(stop), name="scheduler")
    yield
    stop.set()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(task, timeout=10)


async def serve(app: web.Application, host: str, port: int) -> None:
    """Run until SIGINT/SIGTERM, then stop gracefully (the scheduler finishes its batch)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    # Leave the objects loaded at start (SQLAlchemy, bolt, botbuilder, pydantic ...) out of garbage
    # collections: a full collection walking them all stalled bursts of chat requests for 150-250 ms
    # on 2 cores (bench/RESULTS.md), and Slack allows 3 s for an answer.
    gc.collect()
    gc.freeze()
    log.info("listening on http://%s:%d", host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await runner.cleanup()
