"""Past-tense events the workflow publishes after each committed change. Front ends render them."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.model import AccessRequest, Approval, Grant


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every workflow event."""


@dataclass(frozen=True, slots=True)
class RequestSubmitted(Event):
    """A new request (or extension request) is waiting for its approvers."""

    request: AccessRequest


@dataclass(frozen=True, slots=True)
class ApprovalRecorded(Event):
    """An approver said yes, but more approvals are still needed."""

    request: AccessRequest
    approvals: tuple[Approval, ...]
    required: int


@dataclass(frozen=True, slots=True)
class RequestApproved(Event):
    """The request has all its approvals. For access, a grant is now being applied."""

    request: AccessRequest
    approvals: tuple[Approval, ...]


@dataclass(frozen=True, slots=True)
class RequestDenied(Event):
    request: AccessRequest


@dataclass(frozen=True, slots=True)
class RequestCancelled(Event):
    request: AccessRequest


@dataclass(frozen=True, slots=True)
class RequestTimedOut(Event):
    """Nobody decided within the customer's pending_timeout."""

    request: AccessRequest


@dataclass(frozen=True, slots=True)
class ApproversReminded(Event):
    """A pending request was re-announced to its approvers."""

    request: AccessRequest


@dataclass(frozen=True, slots=True)
class GrantActivated(Event):
    """The membership was added: access is effective now, until ``grant.ends_at``."""

    grant: Grant


@dataclass(frozen=True, slots=True)
class GrantExtended(Event):
    grant: Grant
    request: AccessRequest


@dataclass(frozen=True, slots=True)
class GrantExpiringSoon(Event):
    """The grant ends soon (by default in 15 minutes)."""

    grant: Grant


@dataclass(frozen=True, slots=True)
class GrantEnded(Event):
    """Membership removed and sessions revoked: expired, or revoked early."""

    grant: Grant


@dataclass(frozen=True, slots=True)
class GrantFailed(Event):
    """An alert: a grant or a revocation could not be applied after retries. It keeps being retried."""

    grant: Grant
    error: str
