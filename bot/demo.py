"""`accessbot demo`: the whole lifecycle in the sandbox, on a temporary database, with a clock
that runs 900 times faster than real time (an hour passes in four seconds)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from adapters.clock import ScaledClock
from bot.config import parse_config
from bot.notifiers import describe
from bot.runtime import build_runtime
from bot.settings import Settings
from workflows.audit_chain import verify_chain
from workflows.events import Event
from workflows.model import GrantState, Person, Surface

SPEED = 900.0

DEMO_CONFIG = """
[bot]
timezone = "UTC"

[defaults]
min_duration = "15m"
max_duration = "8h"
pending_timeout = "2h"

[customers.customer-x]
display_name = "Customer X"
aliases = ["cx"]
group_id = "00000000-0000-0000-0000-00000000c0de"
approvers = ["alice@contoso.example", "bob@contoso.example"]
approval_channel = { slack = "C0APPROVALS" }
max_duration = "4h"

[customers.customer-y]
display_name = "Customer Y"
group_id = "00000000-0000-0000-0000-00000000beef"
approvers = ["bob@contoso.example"]
"""


class DemoPrinter:
    """Prints every workflow event with the (compressed) time it happened."""

    def __init__(self, console: Console, clock: ScaledClock) -> None:
        self._console = console
        self._clock = clock

    def say(self, text: str, style: str = "") -> None:
        stamp = self._clock.now().strftime("%H:%M:%S")
        self._console.print(f"[dim]{stamp}[/dim]  {text}", style=style, highlight=False, soft_wrap=True)

    async def publish(self, event: Event) -> None:
        self.say(f"[cyan]event[/cyan]  {escape(describe(event))}")


async def _wait_for(check: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the demo did not reach the expected state in time")


async def run_demo(console: Console | None = None) -> int:
    console = console or Console()
    started = time.monotonic()
    clock = ScaledClock(SPEED, start=datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))
    printer = DemoPrinter(console, clock)
    with tempfile.TemporaryDirectory(prefix="accessbot-demo-") as tmp:
        # a short poll: the compressed clock makes a real second worth 15 minutes
        settings = Settings.load(env_file=None).model_copy(update={"accessbot_scheduler_poll_seconds": 0.02})
        config = parse_config(DEMO_CONFIG, source="demo")
        runtime = await build_runtime(
            settings, config, sandbox=True, clock=clock, database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        )
        runtime.notifier.subscribe(printer)
        stop = asyncio.Event()
        loop = asyncio.create_task(runtime.scheduler.run_forever(stop))
        try:
            await _script(runtime, printer)
        finally:
            stop.set()
            await loop
            await runtime.close()
    console.print(f"[green]demo finished in {time.monotonic() - started:.1f} s of real time[/green]")
    return 0


async def _script(runtime, printer: DemoPrinter) -> None:  # type: ignore[no-untyped-def]
    service, store = runtime.service, runtime.store
    directory = runtime.directory
    people: dict[str, Person] = {
        name: await directory.add_user(f"{name}@contoso.example", display_name=name.title())
        for name in ("eve", "alice", "bob", "mallory", "frank")
    }

    def person(name: str) -> Person:
        return people[name]

    printer.say("[bold]eve[/bold]: /access customer-x 1h patching the core firewall")
    eve = await service.request_access(person("eve"), "customer-x", "1h", "patching the core firewall",
                                       surface=Surface.CLI)  # fmt: skip
    printer.say("[bold]alice[/bold] clicks Approve")
    await service.approve(eve.request.id, person("alice"), surface=Surface.CLI)

    printer.say("[bold]mallory[/bold]: /access customer-y 30m just looking")
    mallory = await service.request_access(person("mallory"), "customer-y", "30m", "just looking",
                                           surface=Surface.CLI)  # fmt: skip
    printer.say("[bold]bob[/bold] clicks Deny: not on call this week")
    await service.deny(mallory.request.id, person("bob"), surface=Surface.CLI, note="not on call this week")

    printer.say("[bold]frank[/bold]: /access cx 2h reboot the edge router")
    frank = await service.request_access(person("frank"), "cx", "2h", "reboot the edge router", surface=Surface.CLI)
    printer.say("[bold]bob[/bold] clicks Approve")
    await service.approve(frank.request.id, person("bob"), surface=Surface.CLI)

    async def active(grant_id: int) -> bool:
        grant = await store.get_grant(grant_id)
        return grant is not None and grant.state is GrantState.ACTIVE

    await _wait_for(lambda: active(frank.request.id), 5)
    await asyncio.sleep(600 / SPEED)  # ten (compressed) minutes of work
    printer.say("[bold]frank[/bold]: /access revoke " + str(frank.request.id) + " (done early)")
    await service.revoke(frank.request.id, person("frank").as_actor(), surface=Surface.CLI, reason="done")

    async def ended(grant_id: int, state: GrantState) -> bool:
        grant = await store.get_grant(grant_id)
        return grant is not None and grant.state is state

    await _wait_for(lambda: ended(frank.request.id, GrantState.REVOKED), 5)
    printer.say("waiting for eve's hour to run out (reminder 15 minutes before the end) ...")
    await _wait_for(lambda: ended(eve.request.id, GrantState.EXPIRED), 8)

    calls = await directory.calls()
    printer.say(f"sandbox saw {len(calls)} directory/network calls:")
    names = {p.id: p.upn for p in people.values()}
    for call in calls:
        subject = names.get(str(call["subject"]), str(call["subject"]))
        group = f"group {str(call['target'])[-4:]}" if call["target"] else ""
        printer.say(f"    {call['op']:<24} {group:<11} {subject}")
    events = [e async for e in store.audit_events()]
    broken = verify_chain(events)
    printer.say(f"audit trail: {len(events)} events, hash chain {'intact' if broken is None else 'BROKEN'}")
    if broken is not None:
        raise RuntimeError(f"audit chain broken at {broken.seq}: {broken.problem}")
