"""How long a wave of simultaneous expiries takes to revoke, on SQLite and on PostgreSQL.

N active grants all end at the same moment; one scheduler (or two, `--replicas 2`, sharing the
database) claims and revokes them through the sandbox directory. Reports the wall time until every
grant is `expired`, and the rate. The sandbox writes each call to its own table, so this measures
the bot's bookkeeping (claims, step records, audit chain) plus a cheap stand-in for Graph.

    .venv/bin/python bench/expiry_wave.py --grants 500 --database sqlite
    .venv/bin/python bench/expiry_wave.py --grants 500 --database postgres --replicas 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import build_world, clone_engine, migrated_engine, seed_active_grants
from workflows.model import GrantState
from workflows.scheduler import Scheduler, SchedulerSettings


async def wave(grants: int, database: str, replicas: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(database, Path(tmp)) as engine:
            world = build_world(engine)
            now = world.clock.now()
            people = [await world.directory.add_user(f"eng{i:05d}@contoso.example") for i in range(grants)]
            await seed_active_grants(world.store, people, ends_at=now)
            engines = [engine] + [await clone_engine(engine) for _ in range(replicas - 1)]
            settings = SchedulerSettings(lease_seconds=120, batch_size=200)
            schedulers = [
                Scheduler(build_world(e, clock=world.clock).deps, settings, f"replica-{n}")
                for n, e in enumerate(engines)
            ]
            started = time.perf_counter()
            await asyncio.gather(*(s.run_until_idle() for s in schedulers))
            elapsed = time.perf_counter() - started
            states = {g.state for g in await world.store.list_grants()}
            assert states == {GrantState.EXPIRED}, states
            for extra in engines[1:]:
                await extra.dispose()
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=500)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--replicas", type=int, default=1)
    args = parser.parse_args()
    elapsed = asyncio.run(wave(args.grants, args.database, args.replicas))
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average {load:.2f}"
    )
    print(
        f"{args.grants} expiries on {args.database} with {args.replicas} replica(s): {elapsed:.2f} s "
        f"({args.grants / elapsed:.0f} grants/s)"
    )


if __name__ == "__main__":
    main()
