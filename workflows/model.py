"""The request and grant records and their state machines (one explicit transition table each)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from workflows.errors import InvalidTransition


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class RequestCommand(StrEnum):
    APPROVE = "approve"  # the final approval (the one that reaches approvals_required)
    DENY = "deny"
    CANCEL = "cancel"
    TIME_OUT = "time_out"


class GrantState(StrEnum):
    GRANTING = "granting"
    ACTIVE = "active"
    REVOKING = "revoking"
    EXPIRED = "expired"
    REVOKED = "revoked"
    FAILED = "failed"


class GrantCommand(StrEnum):
    ACTIVATE = "activate"  # the membership add succeeded
    END = "end"  # start ending: expiry reached, or revoked early
    COMPLETE_EXPIRY = "complete_expiry"  # every revocation step done, the grant ran out
    COMPLETE_REVOCATION = "complete_revocation"  # every revocation step done, it was ended early
    FAIL = "fail"  # a grant or a revocation could not be applied after its retries


REQUEST_TRANSITIONS: Mapping[tuple[RequestState, RequestCommand], RequestState] = {
    (RequestState.PENDING, RequestCommand.APPROVE): RequestState.APPROVED,
    (RequestState.PENDING, RequestCommand.DENY): RequestState.DENIED,
    (RequestState.PENDING, RequestCommand.CANCEL): RequestState.CANCELLED,
    (RequestState.PENDING, RequestCommand.TIME_OUT): RequestState.TIMED_OUT,
}

GRANT_TRANSITIONS: Mapping[tuple[GrantState, GrantCommand], GrantState] = {
    (GrantState.GRANTING, GrantCommand.ACTIVATE): GrantState.ACTIVE,
    (GrantState.GRANTING, GrantCommand.END): GrantState.REVOKING,
    (GrantState.GRANTING, GrantCommand.FAIL): GrantState.FAILED,
    (GrantState.ACTIVE, GrantCommand.END): GrantState.REVOKING,
    (GrantState.REVOKING, GrantCommand.COMPLETE_EXPIRY): GrantState.EXPIRED,
    (GrantState.REVOKING, GrantCommand.COMPLETE_REVOCATION): GrantState.REVOKED,
    (GrantState.REVOKING, GrantCommand.FAIL): GrantState.FAILED,
    # A failed grant stays visible and keeps being retried: its retry may succeed,
    # or it may be ended (a failed add still gets its idempotent removal).
    (GrantState.FAILED, GrantCommand.ACTIVATE): GrantState.ACTIVE,
    (GrantState.FAILED, GrantCommand.END): GrantState.REVOKING,
    (GrantState.FAILED, GrantCommand.COMPLETE_EXPIRY): GrantState.EXPIRED,
    (GrantState.FAILED, GrantCommand.COMPLETE_REVOCATION): GrantState.REVOKED,
}

TERMINAL_REQUEST_STATES = frozenset(
    {RequestState.APPROVED, RequestState.DENIED, RequestState.CANCELLED, RequestState.TIMED_OUT}
)
TERMINAL_GRANT_STATES = frozenset({GrantState.EXPIRED, GrantState.REVOKED})
LIVE_GRANT_STATES = frozenset({GrantState.GRANTING, GrantState.ACTIVE, GrantState.REVOKING, GrantState.FAILED})


def next_request_state(state: RequestState, command: RequestCommand) -> RequestState:
    """The state `command` leads to from `state`; `InvalidTransition` if the table has no such edge."""
    try:
        return REQUEST_TRANSITIONS[(state, command)]
    except KeyError:
        raise InvalidTransition(f"a {state.value} request cannot {command.value}") from None


def next_grant_state(state: GrantState, command: GrantCommand) -> GrantState:
    """The state `command` leads to from `state`; `InvalidTransition` if the table has no such edge."""
    try:
        return GRANT_TRANSITIONS[(state, command)]
    except KeyError:
        raise InvalidTransition(f"a {state.value} grant cannot {command.value}") from None


class Surface(StrEnum):
    """Where a command came from, for the audit trail."""

    SLACK = "slack"
    TEAMS = "teams"
    CLI = "cli"
    SCHEDULER = "scheduler"


class ActorKind(StrEnum):
    USER = "user"  # a person acting through chat, identified by their Entra object id
    OPERATOR = "operator"  # someone at the CLI with access to the bot's database
    SYSTEM = "system"  # the scheduler


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something. For users, ``id`` is the Entra object id and ``name`` the UPN."""

    kind: ActorKind
    id: str
    name: str

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM, "scheduler", "accessbot")

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls(ActorKind.OPERATOR, name, name)


@dataclass(frozen=True, slots=True)
class Person:
    """A directory user as the workflow needs them: identity for Graph, e-mail for Cloudflare."""

    id: str  # Entra object id
    upn: str
    email: str
    display_name: str = ""
    is_guest: bool = False  # B2B guests: revokeSignInSessions does not apply to them

    def as_actor(self) -> Actor:
        return Actor(ActorKind.USER, self.id, self.upn)

    @property
    def label(self) -> str:
        return self.display_name or self.upn


@dataclass(frozen=True, slots=True)
class ChatAddress:
    """Where to reach a person back: the surface and that surface's own id for them."""

    surface: Surface
    user_id: str


class RequestKind(StrEnum):
    ACCESS = "access"  # new access: approval creates a grant
    EXTENSION = "extension"  # more time on a live grant


@dataclass(slots=True)
class AccessRequest:
    """A request for access (or for more time), from submission to its decision."""

    id: int | None
    kind: RequestKind
    customer: str
    requester: Person
    duration: timedelta
    reason: str
    state: RequestState
    created_at: datetime
    timeout_at: datetime  # pending_timeout after creation
    origin: ChatAddress | None = None
    grant_id: int | None = None  # for an extension: the grant; for access: the grant it created
    decided_at: datetime | None = None
    decided_by: str | None = None  # UPN of the decider, or "accessbot" for a timeout
    decision_note: str = ""  # deny reason, or why the system cancelled it
    reminders_sent: int = 0  # approver reminders so far
    next_reminder_at: datetime | None = None
    version: int = 0

    def transition(self, command: RequestCommand) -> RequestState:
        """Move along the transition table; returns the previous state."""
        previous = self.state
        self.state = next_request_state(self.state, command)
        return previous

    def next_due(self) -> datetime | None:
        """When the scheduler must next look at this request (None: never again)."""
        if self.state is not RequestState.PENDING:
            return None
        if self.next_reminder_at is not None and self.next_reminder_at < self.timeout_at:
            return self.next_reminder_at
        return self.timeout_at


class EndReason(StrEnum):
    EXPIRED = "expired"
    REVOKED = "revoked"


class RevocationStep(StrEnum):
    """The recorded sequence that ends a grant, in order. Each is idempotent."""

    REMOVE_MEMBERSHIP = "remove_membership"
    REVOKE_ENTRA_SESSIONS = "revoke_entra_sessions"
    REVOKE_NETWORK_SESSIONS = "revoke_network_sessions"


REVOCATION_SEQUENCE: tuple[RevocationStep, ...] = tuple(RevocationStep)


@dataclass(slots=True)
class Grant:
    """Membership of one person in one customer's group, for a bounded time.

    Its id is the id of the request that created it, so users see one number.
    """

    id: int
    customer: str
    group_id: str
    person: Person
    duration: timedelta
    state: GrantState
    created_at: datetime
    approved_by: tuple[str, ...] = ()
    starts_at: datetime | None = None  # when the membership add succeeded
    ends_at: datetime | None = None
    remind_at: datetime | None = None
    reminded: bool = False
    end_reason: EndReason | None = None
    ended_by: str | None = None
    ended_at: datetime | None = None
    steps_done: frozenset[RevocationStep] = frozenset()
    attempts: int = 0  # consecutive failures of the current phase
    retry_at: datetime | None = None  # when granting/revoking/failed work is next tried
    last_error: str = ""
    origin: ChatAddress | None = None
    details: dict[str, Any] = field(default_factory=dict)
    version: int = 0

    def transition(self, command: GrantCommand) -> GrantState:
        """Move along the transition table; returns the previous state."""
        previous = self.state
        self.state = next_grant_state(self.state, command)
        return previous

    @property
    def ending(self) -> bool:
        """True once an end was decided (expiry or early revoke), even while failed."""
        return self.end_reason is not None

    def remaining_steps(self) -> list[RevocationStep]:
        return [step for step in REVOCATION_SEQUENCE if step not in self.steps_done]

    def next_due(self) -> datetime | None:
        """When the scheduler must next look at this grant (None: never again)."""
        if self.state in (GrantState.GRANTING, GrantState.REVOKING, GrantState.FAILED):
            return self.retry_at
        if self.state is GrantState.ACTIVE:
            candidates = [t for t in (self.ends_at,) if t is not None]
            if self.remind_at is not None and not self.reminded:
                candidates.append(self.remind_at)
            return min(candidates) if candidates else None
        return None

    def copy(self) -> Grant:
        return dataclasses.replace(self, details=dict(self.details))


def reminder_time(starts_at: datetime | None, ends_at: datetime | None, lead: timedelta) -> datetime | None:
    """When to warn that a grant ends soon: `lead` before its end, if that is after its start."""
    if starts_at is None or ends_at is None:
        return None
    at = ends_at - lead
    return at if at > starts_at else None


@dataclass(frozen=True, slots=True)
class Approval:
    """One approver's yes on one request."""

    request_id: int
    approver: Person
    at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit event as the core writes it; the store adds the sequence number and the hash chain."""

    at: datetime
    actor: Actor
    surface: Surface
    action: str
    customer: str | None = None
    request_id: int | None = None
    grant_id: int | None = None
    from_state: str | None = None
    to_state: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredAuditEvent:
    """An audit event as read back from the store, with its place in the hash chain."""

    seq: int
    record: AuditRecord
    prev_hash: str
    hash: str
