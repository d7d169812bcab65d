"""Tampering with the audit trail directly in the database is caught, on SQLite and PostgreSQL;
an export carries the chain fields and verifies on its own."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.audit_tools import ExportFormat, export_trail, verify_trail
from tests.support import World, build_world
from workflows.audit_chain import parse_time, verify_chain
from workflows.model import Actor, ActorKind, AuditRecord, StoredAuditEvent, Surface


async def _some_history(world: World) -> None:
    eve, alice = await world.person("eve"), await world.person("alice")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "audit me", surface=Surface.SLACK)
    await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    await world.run_due()
    world.clock.advance(timedelta(hours=2))
    await world.run_due()


async def test_untouched_chain_verifies(engine: AsyncEngine) -> None:
    world = build_world(engine)
    await _some_history(world)
    result = await verify_trail(world.store)
    assert result.ok and result.events == result.head_seq >= 10


async def test_edited_row_is_named(engine: AsyncEngine) -> None:
    world = build_world(engine)
    await _some_history(world)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE audit_events SET details = '{\"reason\": \"nothing to see\"}' WHERE seq = 3"))
    result = await verify_trail(world.store)
    assert result.broken is not None and result.broken.seq == 3 and "edited" in result.broken.problem


async def test_deleted_row_is_named(engine: AsyncEngine) -> None:
    world = build_world(engine)
    await _some_history(world)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    result = await verify_trail(world.store)
    assert result.broken is not None and result.broken.seq == 5 and "missing" in result.broken.problem


async def test_deleting_the_newest_rows_is_caught_by_the_head(engine: AsyncEngine) -> None:
    world = build_world(engine)
    await _some_history(world)
    async with engine.begin() as conn:
        newest = (await conn.execute(text("SELECT max(seq) FROM audit_events"))).scalar_one()
        await conn.execute(text(f"DELETE FROM audit_events WHERE seq >= {newest - 1}"))
    result = await verify_trail(world.store)
    assert result.broken is not None and result.broken.seq == newest - 1


def _events_from_jsonl(text_: str) -> list[StoredAuditEvent]:
    events = []
    for line in text_.splitlines():
        row = json.loads(line)
        record = AuditRecord(
            at=parse_time(row["at"]), actor=Actor(ActorKind(row["actor_kind"]), row["actor_id"], row["actor_name"]),
            surface=Surface(row["surface"]), action=row["action"], customer=row["customer"],
            request_id=row["request_id"], grant_id=row["grant_id"], from_state=row["from_state"],
            to_state=row["to_state"], details=row["details"],
        )  # fmt: skip
        events.append(StoredAuditEvent(row["seq"], record, row["prev_hash"], row["hash"]))
    return events


async def test_export_verifies_on_its_own_and_filters(world: World) -> None:
    await _some_history(world)
    buffer = io.StringIO()
    count = await export_trail(world.store, buffer, ExportFormat.jsonl)
    events = _events_from_jsonl(buffer.getvalue())
    assert count == len(events) >= 10
    assert verify_chain(events) is None  # the export alone proves the chain
    tampered = buffer.getvalue().replace("audit me", "nothing here")
    assert verify_chain(_events_from_jsonl(tampered)) is not None

    buffer = io.StringIO()
    await export_trail(world.store, buffer, ExportFormat.csv, user="alice@contoso.example")
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert {r["action"] for r in rows} == {"request.approval_recorded", "request.approved", "grant.created"}
    assert all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in rows)
    buffer = io.StringIO()
    assert await export_trail(world.store, buffer, ExportFormat.csv, customer="customer-y") == 0
