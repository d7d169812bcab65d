"""The hash chain catches an edited event, a deleted event and a reordered one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from workflows.audit_chain import GENESIS, event_hash, verify_chain
from workflows.model import Actor, AuditRecord, StoredAuditEvent, Surface


def chain(n: int) -> list[StoredAuditEvent]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        record = AuditRecord(
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seq), Actor.system(), Surface.SCHEDULER,
            "grant.step_done", customer="customer-x", grant_id=seq, details={"step": "remove_membership"},
        )  # fmt: skip
        digest = event_hash(seq, record, prev)
        events.append(StoredAuditEvent(seq, record, prev, digest))
        prev = digest
    return events


def test_untouched_chain_verifies() -> None:
    assert verify_chain(chain(5)) is None
    assert verify_chain([]) is None


def test_edited_details_break_that_event() -> None:
    events = chain(5)
    edited = dataclasses.replace(events[2].record, details={"step": "nothing happened"})
    events[2] = dataclasses.replace(events[2], record=edited)
    broken = verify_chain(events)
    assert broken is not None and broken.seq == 3 and "edited" in broken.problem


def test_deleted_event_is_named() -> None:
    events = chain(5)
    del events[1]
    broken = verify_chain(events)
    assert broken is not None and broken.seq == 2 and "missing" in broken.problem


def test_recomputed_hash_still_breaks_the_next_link() -> None:
    events = chain(5)
    edited = dataclasses.replace(events[1].record, action="grant.forged")
    events[1] = dataclasses.replace(events[1], record=edited, hash=event_hash(2, edited, events[1].prev_hash))
    broken = verify_chain(events)
    assert broken is not None and broken.seq == 3 and "prev_hash" in broken.problem
