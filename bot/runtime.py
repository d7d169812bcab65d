"""The composition root: settings + configuration -> adapters -> the workflow. Nothing else wires.

`build_runtime` is the one place that decides which Directory, NetworkSessions, Store and
Clock the core runs on (Graph and Cloudflare in production, the sandbox with --sandbox).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import SystemClock
from adapters.sandbox import SandboxDirectory, SandboxFaults, SandboxNetworkSessions
from adapters.store.engine import create_engine
from adapters.store.migrate import upgrade
from adapters.store.repository import SqlStore
from bot.config import AppConfig
from bot.metrics import Metrics
from bot.notifiers import FanoutNotifier, LoggingNotifier
from bot.settings import Settings
from workflows.context import Deps, Tunables
from workflows.ports import Clock, Directory, NetworkSessions, SummaryPoster
from workflows.scheduler import Scheduler, SchedulerSettings
from workflows.service import AccessService

log = logging.getLogger("accessbot")

SANDBOX_BANNER = (
    "SANDBOX MODE: Entra ID and Cloudflare are SIMULATED in-process (state in the bot's own database). "
    "No real group membership or session is changed. Never use this mode for real access."
)


@dataclass
class Runtime:
    """Everything `serve` and the operator commands run on, built once."""

    settings: Settings
    config: AppConfig
    engine: AsyncEngine
    store: SqlStore
    directory: Directory
    network: NetworkSessions
    notifier: FanoutNotifier
    metrics: Metrics
    clock: Clock
    deps: Deps
    service: AccessService
    scheduler: Scheduler
    sandbox: bool
    closers: list[Any] = field(default_factory=list)
    # Filled by the chat front ends' install(): surface ("slack"/"teams") -> poster of the daily summary.
    summary_posters: dict[str, SummaryPoster] = field(default_factory=dict)

    async def close(self) -> None:
        for closer in reversed(self.closers):
            await closer()
        await self.engine.dispose()


def build_directory(settings: Settings) -> Directory:
    """Microsoft Graph, app-only, from the AZURE_* settings."""
    from adapters.graph import GraphDirectory  # only production needs msal/httpx set up

    secret = settings.azure_client_secret.get_secret_value() if settings.azure_client_secret else None
    return GraphDirectory(
        tenant_id=settings.azure_tenant_id or "",
        client_id=settings.azure_client_id or "",
        client_secret=secret,
        client_certificate_path=settings.azure_client_certificate_path,
        authority_host=settings.azure_authority_host,
        graph_url=settings.graph_api_url,
    )


def build_network(settings: Settings, config: AppConfig) -> NetworkSessions:
    from adapters.cloudflare import CloudflareSessions

    token = settings.cloudflare_api_token.get_secret_value() if settings.cloudflare_api_token else None
    return CloudflareSessions(
        api_token=token,
        account_id=settings.cloudflare_account_id or "",
        base_url=settings.cloudflare_api_url,
        devices=config.cloudflare_devices,
        warp_session_reauth=config.cloudflare_warp_session_reauth,
    )


async def build_runtime(
    settings: Settings,
    config: AppConfig,
    *,
    sandbox: bool,
    clock: Clock | None = None,
    migrate: bool = True,
    tunables: Tunables | None = None,
    database_url: str | None = None,
) -> Runtime:
    """Wire the bot. With `migrate`, pending migrations are applied first (what `serve` does)."""
    engine = create_engine(database_url or settings.database_url)
    if migrate:
        before, after = await upgrade(engine)
        if before != after:
            log.info("database migrated from %s to %s", before or "empty", after)
    store = SqlStore(engine)
    directory: Directory
    network: NetworkSessions
    if sandbox:
        log.warning(SANDBOX_BANNER)
        faults = SandboxFaults.parse(settings.accessbot_sandbox_faults)
        directory = SandboxDirectory(engine, auto_enroll=True, faults=faults)
        network = SandboxNetworkSessions(engine, faults=faults)
    else:
        directory = build_directory(settings)
        network = build_network(settings, config)
    clock = clock or SystemClock()
    metrics = Metrics()
    notifier = FanoutNotifier([LoggingNotifier(), metrics])
    tunables = tunables or Tunables(
        reminder_before_end=config.reminder_before_end, approver_reminder_first=config.approver_reminder_first
    )
    deps = Deps(
        catalog=config.catalog,
        store=store,
        directory=directory,
        network=network,
        notifier=notifier,
        clock=clock,
        tunables=tunables,
    )
    scheduler = Scheduler(
        deps,
        SchedulerSettings(
            lease_seconds=settings.accessbot_scheduler_lease_seconds,
            poll_seconds=settings.accessbot_scheduler_poll_seconds,
        ),
        owner=f"{socket.gethostname()}-{os.getpid()}",
    )
    deps.wake = scheduler.wake
    runtime = Runtime(
        settings, config, engine, store, directory, network, notifier, metrics, clock, deps,
        AccessService(deps), scheduler, sandbox,
    )  # fmt: skip
    for adapter in (directory, network):
        aclose = getattr(adapter, "aclose", None)
        if aclose is not None:
            runtime.closers.append(aclose)
    return runtime
