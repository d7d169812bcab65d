"""The audit trail's hash chain: each event's hash covers its content and the previous hash,
so editing or deleting any stored event breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflows.model import AuditRecord, StoredAuditEvent

GENESIS = "0" * 64


def canonical_fields(seq: int, record: AuditRecord, prev_hash: str) -> dict[str, Any]:
    """The exact fields the hash covers, in a JSON-ready form (also what an export writes)."""
    return {
        "seq": seq,
        "at": record.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_kind": str(record.actor.kind),
        "actor_id": record.actor.id,
        "actor_name": record.actor.name,
        "surface": str(record.surface),
        "action": record.action,
        "customer": record.customer,
        "request_id": record.request_id,
        "grant_id": record.grant_id,
        "from_state": None if record.from_state is None else str(record.from_state),
        "to_state": None if record.to_state is None else str(record.to_state),
        "details": dict(record.details),
        "prev_hash": prev_hash,
    }


def event_hash(seq: int, record: AuditRecord, prev_hash: str) -> str:
    """SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8)."""
    encoded = json.dumps(
        canonical_fields(seq, record, prev_hash), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place the chain does not hold, and why."""

    seq: int
    problem: str


def verify_chain(events: Iterable[StoredAuditEvent], start_hash: str = GENESIS) -> ChainBreak | None:
    """Walk the events in order; None if every link holds, else the first broken one."""
    expected_prev, expected_seq = start_hash, None
    for event in events:
        if expected_seq is not None and event.seq != expected_seq:
            return ChainBreak(expected_seq, f"event {expected_seq} is missing (next stored is {event.seq})")
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, "its prev_hash does not match the previous event's hash")
        if event_hash(event.seq, event.record, event.prev_hash) != event.hash:
            return ChainBreak(event.seq, "its content does not match its hash (edited)")
        expected_prev, expected_seq = event.hash, event.seq + 1
    return None


def parse_time(text: str) -> datetime:
    """Read back an `at` field written by `canonical_fields`."""
    return datetime.fromisoformat(text).astimezone(UTC)
