"""Operator tools on the audit trail: verify the hash chain, export events with their chain fields."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TextIO

from adapters.store.repository import SqlStore
from workflows.audit_chain import ChainBreak, canonical_fields, verify_chain


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@dataclass(frozen=True, slots=True)
class TrailCheck:
    """The outcome of walking the chain: how many events, the head, and the first break if any."""

    events: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_trail(store: SqlStore) -> TrailCheck:
    """Walk every event in order; also compare with the stored head, so deleting the newest events shows."""
    events = [event async for event in store.audit_events()]
    broken = verify_chain(events)
    head_seq, head_hash = await store.audit_head()
    if broken is None and events and (events[-1].seq != head_seq or events[-1].hash != head_hash):
        broken = ChainBreak(events[-1].seq + 1, f"the chain head says event {head_seq} is the newest; it is missing")
    if broken is None and not events and head_seq:
        broken = ChainBreak(1, f"the chain head says {head_seq} events were written; none are stored")
    return TrailCheck(len(events), head_seq, head_hash, broken)


async def export_trail(
    store: SqlStore,
    stream: TextIO,
    export_format: ExportFormat,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    customer: str | None = None,
    user: str | None = None,
) -> int:
    """Write matching events (with seq, prev_hash and hash) to `stream`; returns how many."""
    count = 0
    writer: csv.DictWriter[str] | None = None
    async for event in store.audit_events(since=since, until=until, customer=customer, user=user):
        row = canonical_fields(event.seq, event.record, event.prev_hash) | {"hash": event.hash}
        if export_format is ExportFormat.jsonl:
            stream.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
        else:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row | {"details": json.dumps(row["details"], sort_keys=True, ensure_ascii=False)})
        count += 1
    return count
