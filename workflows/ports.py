"""The ports: what the core needs from the outside world, as Protocols.

`adapters/` implements them (Microsoft Graph, Cloudflare, the SQL store, the sandbox);
`bot/` picks the implementations in its composition root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from workflows.events import Event
from workflows.model import AccessRequest, Approval, AuditRecord, Grant, GrantState, Person, StoredAuditEvent


class Clock(Protocol):
    """The time. Always timezone-aware UTC."""

    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """One membership to add or remove, for the bulk operations."""

    group_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class BulkResult:
    """Per-item outcome of a bulk operation: the failed items with their errors (empty: all done)."""

    failed: dict[str, str]  # key (user id, or "group:user") -> error message


class Directory(Protocol):
    """The identity directory (Microsoft Entra ID through Graph, or the sandbox).

    Every write is idempotent: adding an existing member and removing a non-member succeed.
    Failures raise `workflows.errors.DirectoryError` after the adapter's own retries.
    """

    async def resolve_user(self, identifier: str) -> Person | None:
        """Find a user by UPN, e-mail or object id; None if there is no such user."""
        ...

    async def is_member(self, user_id: str, group_id: str) -> bool:
        """Is the user a member of the group, directly or through nested groups?"""
        ...

    async def add_member(self, group_id: str, user_id: str) -> None:
        """Add the user to the group (no-op if already a member)."""
        ...

    async def remove_member(self, group_id: str, user_id: str) -> None:
        """Remove the user from the group (no-op if not a member)."""
        ...

    async def revoke_sign_in_sessions(self, user_id: str) -> None:
        """Invalidate the user's refresh tokens and session cookies."""
        ...

    async def remove_members(self, changes: Sequence[MembershipChange]) -> BulkResult:
        """Remove many memberships at once (batched where the service allows)."""
        ...

    async def revoke_sign_in_sessions_many(self, user_ids: Sequence[str]) -> BulkResult:
        """Revoke many users' sessions at once (batched where the service allows)."""
        ...


class NetworkSessions(Protocol):
    """Zero Trust sessions (Cloudflare Access / WARP): end a user's sessions so access really stops."""

    @property
    def enabled(self) -> bool:
        """False when not configured: the revocation step is then recorded as skipped."""
        ...

    async def revoke_user(self, email: str) -> None:
        """Revoke the user's Access sessions (and, as configured, device and WARP sessions)."""
        ...


class Notifier(Protocol):
    """Receives the past-tense events of the workflow. Front ends subscribe to render them.

    Called after the state change is committed; a failing notifier never undoes it.
    """

    async def publish(self, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class SummarySection:
    """One part of the daily summary: a heading and plain-text lines (the poster escapes and formats)."""

    heading: str
    lines: Sequence[str]
    alert: bool = False  # e.g. failed revocations: rendered loudly, first


class SummaryPoster(Protocol):
    """Posts the daily access summary to one chat platform (Slack or Teams)."""

    @property
    def surface(self) -> str:
        """"slack" or "teams": the key of ``bot.summary_channel`` this poster serves."""
        ...

    async def post_summary(
        self, channel: str, title: str, sections: Sequence[SummarySection], chart_png: bytes | None
    ) -> None:
        """Post the summary; if the chart cannot be uploaded, the text must still go out."""
        ...


class StoreTransaction(Protocol):
    """One database transaction. Audit records added here commit together with the changes."""

    async def get_request(self, request_id: int, *, lock: bool = True) -> AccessRequest | None: ...

    async def get_grant(self, grant_id: int, *, lock: bool = True) -> Grant | None: ...

    async def find_pending_request(self, user_id: str, customer: str) -> AccessRequest | None:
        """The user's pending request for this customer, if any (at most one exists)."""
        ...

    async def find_live_grant(self, user_id: str, customer: str) -> Grant | None:
        """The user's grant for this customer that has not ended yet, if any (at most one exists)."""
        ...

    async def add_request(self, request: AccessRequest) -> AccessRequest:
        """Insert; returns it with its id. `StaleState` if a concurrent insert broke a uniqueness rule."""
        ...

    async def save_request(self, request: AccessRequest) -> AccessRequest:
        """Compare-and-swap on ``version``: `StaleState` if the row changed since it was read."""
        ...

    async def add_grant(self, grant: Grant) -> Grant: ...

    async def save_grant(self, grant: Grant) -> Grant:
        """Compare-and-swap on ``version``: `StaleState` if the row changed since it was read."""
        ...

    async def add_approval(self, approval: Approval) -> bool:
        """Record an approver's yes; False if that approver had already approved."""
        ...

    async def approvals(self, request_id: int) -> list[Approval]: ...

    def audit(self, record: AuditRecord) -> None:
        """Queue an audit event; it is written (hash-chained) when the transaction commits."""
        ...


class Store(Protocol):
    """Durable state: requests, grants, approvals, due work and the audit trail."""

    def transaction(self) -> AbstractAsyncContextManager[StoreTransaction]:
        """A transaction; commits on normal exit, rolls back on an exception."""
        ...

    async def claim_due_grants(
        self, now: datetime, owner: str, lease_seconds: float, limit: int, only_ids: Sequence[int] | None = None
    ) -> list[Grant]:
        """Lease up to `limit` grants whose due time has come and that nobody else holds
        (only among `only_ids` when given: an operator's emergency revocation).

        Safe with several processes on one database: each due grant goes to one claimer.
        """
        ...

    async def claim_due_requests(
        self, now: datetime, owner: str, lease_seconds: float, limit: int
    ) -> list[AccessRequest]:
        """Lease up to `limit` pending requests whose timeout or reminder is due."""
        ...

    async def release(self, kind: str, item_id: int, owner: str) -> None:
        """Give back a lease early ("grant" or "request")."""
        ...

    async def extend_leases(self, kind: str, item_ids: Sequence[int], owner: str, lease_seconds: float) -> int:
        """Push out the leases `owner` still holds on these items (a heartbeat); returns how many."""
        ...

    async def oldest_due(self, now: datetime) -> datetime | None:
        """The earliest due time of any unfinished work (for the scheduler lag metric)."""
        ...

    async def next_due(self) -> datetime | None:
        """The earliest due time of any work, due or not (so the scheduler can sleep until then)."""
        ...

    async def list_requests(
        self, *, user_id: str | None = None, states: Sequence[str] | None = None, customer: str | None = None
    ) -> list[AccessRequest]: ...

    async def list_grants(
        self,
        *,
        user_id: str | None = None,
        states: Sequence[GrantState] | None = None,
        customer: str | None = None,
    ) -> list[Grant]: ...

    async def get_request(self, request_id: int) -> AccessRequest | None: ...

    async def get_grant(self, grant_id: int) -> Grant | None: ...

    async def count_grants(self) -> dict[GrantState, int]:
        """How many grants are in each state (states with none may be left out)."""
        ...

    def audit_events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        customer: str | None = None,
        user: str | None = None,
    ) -> AsyncIterator[StoredAuditEvent]:
        """The audit trail in order, optionally filtered (user matches actor or subject id/UPN)."""
        ...

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...
