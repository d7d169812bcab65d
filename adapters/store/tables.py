"""The database tables (SQLModel). Alembic migrations in `migrations/` create exactly these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from adapters.store.types import UTCDateTime

LIVE_GRANT_SQL = "state IN ('granting', 'active', 'revoking', 'failed')"


def _ts(*, nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))  # type: ignore[no-any-return]


class RequestRow(SQLModel, table=True):
    """An access (or extension) request and its decision."""

    __tablename__ = "requests"
    __table_args__ = (
        # At most one pending request per person and customer, even with concurrent replicas.
        Index(
            "uq_requests_one_pending",
            "requester_id",
            "customer",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_requests_due", "next_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    customer: str = Field(max_length=128, index=True)
    requester_id: str = Field(max_length=64, index=True)
    requester_upn: str = Field(max_length=256)
    requester_email: str = Field(max_length=256)
    requester_name: str = Field(default="", max_length=256)
    requester_guest: bool = False
    duration_s: int
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    timeout_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    decided_at: datetime | None = _ts()
    decided_by: str | None = Field(default=None, max_length=256)
    decision_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    origin_surface: str | None = Field(default=None, max_length=16)
    origin_user: str | None = Field(default=None, max_length=256)
    grant_id: int | None = None
    reminders_sent: int = 0
    next_reminder_at: datetime | None = _ts()
    next_due_at: datetime | None = _ts()
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _ts()
    version: int = 0


class GrantRow(SQLModel, table=True):
    """A membership in a customer's group, from its add to its removal and session revocation."""

    __tablename__ = "grants"
    __table_args__ = (
        # At most one live grant per person and customer: a second approval cannot add a parallel grant.
        Index(
            "uq_grants_one_live",
            "user_id",
            "customer",
            unique=True,
            sqlite_where=text(LIVE_GRANT_SQL),
            postgresql_where=text(LIVE_GRANT_SQL),
        ),
        Index("ix_grants_due", "next_due_at"),
    )

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer: str = Field(max_length=128, index=True)
    group_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64, index=True)
    user_upn: str = Field(max_length=256)
    user_email: str = Field(max_length=256)
    user_name: str = Field(default="", max_length=256)
    user_guest: bool = False
    duration_s: int
    state: str = Field(max_length=16, index=True)
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    approved_by: str = Field(default="", sa_column=Column(Text, nullable=False))  # JSON list of UPNs
    starts_at: datetime | None = _ts()
    ends_at: datetime | None = _ts()
    remind_at: datetime | None = _ts()
    reminded: bool = False
    end_reason: str | None = Field(default=None, max_length=16)
    ended_by: str | None = Field(default=None, max_length=256)
    ended_at: datetime | None = _ts()
    steps_done: str = Field(default="", max_length=256)  # comma-separated RevocationStep values
    attempts: int = 0
    retry_at: datetime | None = _ts()
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    origin_surface: str | None = Field(default=None, max_length=16)
    origin_user: str | None = Field(default=None, max_length=256)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    next_due_at: datetime | None = _ts()
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _ts()
    version: int = 0


class ApprovalRow(SQLModel, table=True):
    """One approver's yes. The primary key makes a double click one approval."""

    __tablename__ = "approvals"

    request_id: int = Field(primary_key=True, foreign_key="requests.id")
    approver_id: str = Field(primary_key=True, max_length=64)
    approver_upn: str = Field(max_length=256)
    approver_email: str = Field(default="", max_length=256)
    approver_name: str = Field(default="", max_length=256)
    at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class AuditEventRow(SQLModel, table=True):
    """Append-only audit trail, hash-chained (see workflows.audit_chain)."""

    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = _ts(nullable=False, index=True)  # type: ignore[assignment]
    actor_kind: str = Field(max_length=16)
    actor_id: str = Field(max_length=256)
    actor_name: str = Field(max_length=256)
    surface: str = Field(max_length=16)
    action: str = Field(max_length=64)
    customer: str | None = Field(default=None, max_length=128, index=True)
    request_id: int | None = None
    grant_id: int | None = None
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str | None = Field(default=None, max_length=16)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The chain's head: one row, locked while events are appended so the chain stays linear."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    hash: str = Field(max_length=64)


class SandboxUserRow(SQLModel, table=True):
    """Sandbox directory: users (the sandbox stands in for Entra ID)."""

    __tablename__ = "sandbox_users"

    id: str = Field(primary_key=True, max_length=64)
    upn: str = Field(max_length=256, index=True)
    mail: str = Field(default="", max_length=256, index=True)
    display_name: str = Field(default="", max_length=256)
    guest: bool = False


class SandboxMemberRow(SQLModel, table=True):
    """Sandbox directory: group memberships (members may be users or groups)."""

    __tablename__ = "sandbox_members"

    group_id: str = Field(primary_key=True, max_length=64)
    member_id: str = Field(primary_key=True, max_length=64)


class SandboxCallRow(SQLModel, table=True):
    """Every call the sandbox directory and network sessions received, for the demo and for drills."""

    __tablename__ = "sandbox_calls"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    op: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=256, index=True)
    subject: str = Field(default="", max_length=256)
    changed: bool = False


class ChatMessageRow(SQLModel, table=True):
    """A chat message the bot posted about a request (to update it in place later)."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("uq_chat_messages_one", "request_id", "surface", "channel", "purpose", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(index=True)
    surface: str = Field(max_length=16)
    channel: str = Field(max_length=256)  # Slack channel id / Teams conversation id
    message_id: str = Field(max_length=256)  # Slack ts / Teams activity id
    purpose: str = Field(max_length=32)  # e.g. "approval", "requester"
    created_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class ChatReferenceRow(SQLModel, table=True):
    """What a front end learned and must remember: Teams conversation references, service URLs,
    Slack user -> directory user mappings. ``data`` is the front end's own JSON."""

    __tablename__ = "chat_references"

    surface: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=256)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_at: datetime = _ts(nullable=False)  # type: ignore[assignment]


class SummaryRunRow(SQLModel, table=True):
    """One row per daily summary: the primary key makes "posted once per day" hold across replicas."""

    __tablename__ = "summary_runs"

    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD in the configured time zone
    scheduled_for: datetime = _ts(nullable=False)  # type: ignore[assignment]
    claimed_by: str = Field(max_length=64)
    claimed_at: datetime = _ts(nullable=False)  # type: ignore[assignment]
    posted_at: datetime | None = _ts()
    late: bool = False
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
