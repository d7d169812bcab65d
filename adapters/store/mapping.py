"""Translation between table rows and the core's records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from workflows.model import (
    AccessRequest,
    Actor,
    ActorKind,
    AuditRecord,
    ChatAddress,
    EndReason,
    Grant,
    GrantState,
    Person,
    RequestKind,
    RequestState,
    RevocationStep,
    StoredAuditEvent,
    Surface,
)


def _origin(surface: str | None, user: str | None) -> ChatAddress | None:
    return ChatAddress(Surface(surface), user) if surface and user else None


def request_from_row(row: Mapping[Any, Any]) -> AccessRequest:
    return AccessRequest(
        id=row["id"],
        kind=RequestKind(row["kind"]),
        customer=row["customer"],
        requester=Person(
            id=row["requester_id"],
            upn=row["requester_upn"],
            email=row["requester_email"],
            display_name=row["requester_name"],
            is_guest=bool(row["requester_guest"]),
        ),
        duration=timedelta(seconds=row["duration_s"]),
        reason=row["reason"],
        state=RequestState(row["state"]),
        created_at=row["created_at"],
        timeout_at=row["timeout_at"],
        origin=_origin(row["origin_surface"], row["origin_user"]),
        grant_id=row["grant_id"],
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        decision_note=row["decision_note"],
        reminders_sent=row["reminders_sent"],
        next_reminder_at=row["next_reminder_at"],
        version=row["version"],
    )


def request_values(request: AccessRequest) -> dict[str, Any]:
    """Column values for a request (without id, version and lease columns)."""
    return {
        "kind": request.kind.value,
        "customer": request.customer,
        "requester_id": request.requester.id,
        "requester_upn": request.requester.upn,
        "requester_email": request.requester.email,
        "requester_name": request.requester.display_name,
        "requester_guest": request.requester.is_guest,
        "duration_s": int(request.duration.total_seconds()),
        "reason": request.reason,
        "state": request.state.value,
        "created_at": request.created_at,
        "timeout_at": request.timeout_at,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
        "decision_note": request.decision_note,
        "origin_surface": request.origin.surface.value if request.origin else None,
        "origin_user": request.origin.user_id if request.origin else None,
        "grant_id": request.grant_id,
        "reminders_sent": request.reminders_sent,
        "next_reminder_at": request.next_reminder_at,
        "next_due_at": request.next_due(),
    }


def grant_from_row(row: Mapping[Any, Any]) -> Grant:
    steps = frozenset(RevocationStep(s) for s in row["steps_done"].split(",") if s)
    return Grant(
        id=row["id"],
        customer=row["customer"],
        group_id=row["group_id"],
        person=Person(
            id=row["user_id"],
            upn=row["user_upn"],
            email=row["user_email"],
            display_name=row["user_name"],
            is_guest=bool(row["user_guest"]),
        ),
        duration=timedelta(seconds=row["duration_s"]),
        state=GrantState(row["state"]),
        created_at=row["created_at"],
        approved_by=tuple(json.loads(row["approved_by"] or "[]")),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        remind_at=row["remind_at"],
        reminded=bool(row["reminded"]),
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
        ended_by=row["ended_by"],
        ended_at=row["ended_at"],
        steps_done=steps,
        attempts=row["attempts"],
        retry_at=row["retry_at"],
        last_error=row["last_error"],
        origin=_origin(row["origin_surface"], row["origin_user"]),
        details=json.loads(row["details"] or "{}"),
        version=row["version"],
    )


def grant_values(grant: Grant) -> dict[str, Any]:
    """Column values for a grant (without id, version and lease columns)."""
    return {
        "customer": grant.customer,
        "group_id": grant.group_id,
        "user_id": grant.person.id,
        "user_upn": grant.person.upn,
        "user_email": grant.person.email,
        "user_name": grant.person.display_name,
        "user_guest": grant.person.is_guest,
        "duration_s": int(grant.duration.total_seconds()),
        "state": grant.state.value,
        "created_at": grant.created_at,
        "approved_by": json.dumps(list(grant.approved_by)),
        "starts_at": grant.starts_at,
        "ends_at": grant.ends_at,
        "remind_at": grant.remind_at,
        "reminded": grant.reminded,
        "end_reason": grant.end_reason.value if grant.end_reason else None,
        "ended_by": grant.ended_by,
        "ended_at": grant.ended_at,
        "steps_done": ",".join(s.value for s in sorted(grant.steps_done)),
        "attempts": grant.attempts,
        "retry_at": grant.retry_at,
        "last_error": grant.last_error,
        "origin_surface": grant.origin.surface.value if grant.origin else None,
        "origin_user": grant.origin.user_id if grant.origin else None,
        "details": json.dumps(grant.details, sort_keys=True),
        "next_due_at": grant.next_due(),
    }


def audit_from_row(row: Mapping[Any, Any]) -> StoredAuditEvent:
    record = AuditRecord(
        at=row["at"],
        actor=Actor(ActorKind(row["actor_kind"]), row["actor_id"], row["actor_name"]),
        surface=Surface(row["surface"]),
        action=row["action"],
        customer=row["customer"],
        request_id=row["request_id"],
        grant_id=row["grant_id"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        details=json.loads(row["details"]),
    )
    return StoredAuditEvent(seq=row["seq"], record=record, prev_hash=row["prev_hash"], hash=row["hash"])
