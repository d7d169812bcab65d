"""The daily access summary: what goes in it, computed from the audit trail and current state.

The audit trail says what *happened* in the period (granted, denied, expired, ended early,
extended, timed out, failed); the grants and requests say what *is* (active now, still waiting,
failing now). `build_summary` joins them into a `DailySummary`, which renders itself as
platform-neutral `SummarySection`s (the Slack and Teams posters format them) and carries the
`Timeline` the chart is drawn from. Pure: no I/O, no clock — the caller passes `as_of`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from workflows.durations import format_duration
from workflows.model import (
    AccessRequest,
    Grant,
    GrantState,
    RequestState,
    RevocationStep,
    StoredAuditEvent,
)
from workflows.ports import SummarySection
from workflows.summary_schedule import SummaryPeriod

MAX_LINES_PER_SECTION = 40  # keeps a busy day's message within chat limits; the CLI shows everything
EMPTY_LINE = "No access was requested, granted or active in this period."
_REVOCATION_STEPS = frozenset(step.value for step in RevocationStep)


class Happening(StrEnum):
    """Kinds of things that happened in the period, in the order the summary shows them."""

    FAILED_REVOCATION = "failed revocation"
    FAILED_GRANT = "failed grant"
    GRANTED = "granted"
    EXTENDED = "extended"
    ENDED_EARLY = "ended early"
    EXPIRED = "expired"
    DENIED = "denied"
    TIMED_OUT = "timed out"
    CANCELLED = "cancelled"


# audit action -> what the summary calls it (grant.failed is split by phase, see _classify)
_ACTIONS: Mapping[str, Happening] = {
    "grant.created": Happening.GRANTED,
    "grant.extended": Happening.EXTENDED,
    "grant.revoked": Happening.ENDED_EARLY,
    "grant.expired": Happening.EXPIRED,
    "request.denied": Happening.DENIED,
    "request.timed_out": Happening.TIMED_OUT,
    "request.cancelled": Happening.CANCELLED,
}

# the columns of "totals per customer", in order ("failed" counts both kinds of failure)
TOTAL_COLUMNS: tuple[str, ...] = (
    "failed", "active now", "granted", "extended", "ended early", "expired", "denied", "timed out", "cancelled",
    "waiting",
)  # fmt: skip

_HEADINGS: Mapping[Happening, str] = {
    Happening.FAILED_REVOCATION: "FAILED REVOCATIONS — access may still be open",
    Happening.FAILED_GRANT: "Failed grants — access could not be applied",
    Happening.GRANTED: "Granted",
    Happening.EXTENDED: "Extended",
    Happening.ENDED_EARLY: "Ended early",
    Happening.EXPIRED: "Expired",
    Happening.DENIED: "Denied",
    Happening.TIMED_OUT: "Timed out (nobody decided)",
    Happening.CANCELLED: "Cancelled",
}


class Outcome(StrEnum):
    """How a grant's bar on the timeline ended (its colour)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "ended early"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuditAnchor:
    """The audit chain's head, published in the summary so a copy lives outside the database."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Item:
    """One thing that happened (or is failing now), as one line of the summary."""

    kind: Happening
    at: datetime
    customer: str  # display name
    who: str  # the subject's UPN
    ref: int | None  # request / grant number
    detail: str


@dataclass(frozen=True, slots=True)
class ActiveAccess:
    grant_id: int
    customer: str
    who: str
    since: datetime | None
    until: datetime | None
    ending: bool  # revocation under way


@dataclass(frozen=True, slots=True)
class Waiting:
    request_id: int
    customer: str
    who: str
    since: datetime
    duration: timedelta
    extension: bool


@dataclass(frozen=True, slots=True)
class TimelineBar:
    """One grant's effective access inside the period (clamped to it)."""

    customer: str
    who: str
    grant_id: int
    start: datetime
    end: datetime
    outcome: Outcome
    continues: bool  # still open at the right edge


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the chart draws: rows (customers, top to bottom) and bars, over [start, end)."""

    start: datetime
    end: datetime
    zone: tzinfo
    rows: tuple[str, ...]
    bars: tuple[TimelineBar, ...]
    title: str = ""


@dataclass(frozen=True, slots=True)
class DailySummary:
    """Everything one summary says. `sections()` is what the chat posters get."""

    title: str
    period: SummaryPeriod
    as_of: datetime
    zone: tzinfo
    late: bool
    items: tuple[Item, ...]
    active: tuple[ActiveAccess, ...]
    waiting: tuple[Waiting, ...]
    totals: Mapping[str, Mapping[str, int]]  # customer -> column -> count
    timeline: Timeline
    anchor: AuditAnchor | None = None
    columns: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Nothing happened, nothing is active, failing or waiting: the summary is one line."""
        return not (self.items or self.active or self.waiting)

    def of(self, kind: Happening) -> list[Item]:
        return [item for item in self.items if item.kind is kind]

    def sections(self, *, max_lines: int = MAX_LINES_PER_SECTION) -> list[SummarySection]:
        """Failures first (loudly), then active access, what happened, what waits, totals, anchor."""
        sections: list[SummarySection] = []
        if self.empty:
            sections.append(SummarySection("Nothing to report", [EMPTY_LINE]))
        else:
            for kind in (Happening.FAILED_REVOCATION, Happening.FAILED_GRANT):
                if lines := [self._item_line(i) for i in self.of(kind)]:
                    sections.append(SummarySection(_HEADINGS[kind], _cap(lines, max_lines), alert=True))
            if self.active:
                lines = [self._active_line(a) for a in self.active]
                sections.append(SummarySection(f"Active now ({len(self.active)})", _cap(lines, max_lines)))
            for kind in Happening:
                if kind in (Happening.FAILED_REVOCATION, Happening.FAILED_GRANT):
                    continue
                if lines := [self._item_line(i) for i in self.of(kind)]:
                    sections.append(SummarySection(f"{_HEADINGS[kind]} ({len(lines)})", _cap(lines, max_lines)))
            if self.waiting:
                lines = [self._waiting_line(w) for w in self.waiting]
                sections.append(SummarySection(f"Still waiting ({len(lines)})", _cap(lines, max_lines)))
            sections.append(SummarySection("Totals per customer", _cap(self._total_lines(), max_lines)))
        if self.anchor is not None:
            sections.append(
                SummarySection("Audit chain head", [f"event #{self.anchor.seq}, sha256 {self.anchor.hash}"])
            )
        return sections

    # ---- lines ------------------------------------------------------------------------

    def when(self, instant: datetime | None) -> str:
        """A local time for display: weekday and time near `as_of`, the full date further away."""
        if instant is None:
            return "-"
        local = instant.astimezone(self.zone)
        if abs(instant - self.as_of) < timedelta(days=6):
            return local.strftime("%a %H:%M")
        return local.strftime("%Y-%m-%d %H:%M")

    def _item_line(self, item: Item) -> str:
        ref = f"#{item.ref} " if item.ref is not None else ""
        detail = f" — {item.detail}" if item.detail else ""
        return f"{self.when(item.at)} {ref}{item.who} @ {item.customer}{detail}"

    def _active_line(self, access: ActiveAccess) -> str:
        ending = " (being revoked)" if access.ending else ""
        return f"#{access.grant_id} {access.who} @ {access.customer} until {self.when(access.until)}{ending}"

    def _waiting_line(self, waiting: Waiting) -> str:
        what = "extension " if waiting.extension else ""
        return (
            f"#{waiting.request_id} {waiting.who} @ {waiting.customer}: {what}{format_duration(waiting.duration)}, "
            f"waiting since {self.when(waiting.since)}"
        )

    def _total_lines(self) -> list[str]:
        lines = []
        for customer, counts in self.totals.items():
            parts = [f"{counts[c]} {c}" for c in self.columns if counts.get(c)]
            lines.append(f"{customer}: {', '.join(parts) if parts else 'nothing'}")
        return lines


def _cap(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return [*lines[: limit - 1], f"… and {len(lines) - limit + 1} more (`accessbot summary --print` lists all)"]


# ---- building ---------------------------------------------------------------------------


def build_summary(
    *,
    period: SummaryPeriod,
    as_of: datetime,
    zone: tzinfo,
    events: Iterable[StoredAuditEvent],
    grants: Sequence[Grant],
    requests: Sequence[AccessRequest],
    customer_names: Mapping[str, str] | None = None,
    anchor: AuditAnchor | None = None,
    late: bool = False,
) -> DailySummary:
    """Join the period's audit events with the grants and requests into one summary.

    `events` may hold more than the period (they are filtered); `grants` should include every
    grant that was live during the period or is live at `as_of`; `requests` every request that
    may be pending at `as_of`. `as_of` is when "now" is for active/waiting (the posting time;
    for a past day, the end of its period).
    """
    names = dict(customer_names or {})

    def name(key: str | None) -> str:
        return names.get(key or "", key or "-")

    by_grant = {g.id: g for g in grants}
    events = list(events)
    in_period = [e for e in events if period.start <= e.record.at < period.end]
    approvers: dict[int, list[str]] = {}
    for event in in_period:
        if event.record.action == "request.approved" and event.record.request_id is not None:
            approvers[event.record.request_id] = [str(a) for a in event.record.details.get("approvers", [])]

    failed_since = {
        e.record.grant_id: e.record.at for e in events if e.record.action == "grant.failed" and e.record.grant_id
    }
    items: list[Item] = []
    failed_now: set[int] = set()
    # Failing right now comes from state, not from the period: a revocation that started failing
    # last week and still fails must be shouted about every day until someone fixes it.
    for grant in grants:
        if grant.state is GrantState.FAILED and grant.created_at < period.end:
            failed_now.add(grant.id)
            failing = Happening.FAILED_REVOCATION if grant.ending else Happening.FAILED_GRANT
            detail = f"still failing: {grant.last_error}" if grant.last_error else "still failing"
            at = failed_since.get(grant.id, grant.created_at)
            items.append(Item(failing, at, name(grant.customer), grant.person.upn, grant.id, detail))

    for event in in_period:
        record = event.record
        kind = _classify(event)
        if kind is None:
            continue
        ref = record.grant_id if record.action.startswith("grant.") else record.request_id
        if kind in (Happening.FAILED_REVOCATION, Happening.FAILED_GRANT) and ref in failed_now:
            continue  # already listed as failing now
        who = str(record.details.get("subject", "")) or record.actor.name
        items.append(Item(kind, record.at, name(record.customer), who, ref, _detail(event, by_grant, approvers)))
    items.sort(key=lambda i: (list(Happening).index(i.kind), i.at, i.ref or 0))

    active = [
        ActiveAccess(g.id, name(g.customer), g.person.upn, g.starts_at, g.ends_at, g.ending)
        for g in grants
        if _active_at(g, as_of)
    ]
    active.sort(key=lambda a: (a.customer, a.until or as_of, a.grant_id))
    waiting = [
        Waiting(r.id, name(r.customer), r.requester.upn, r.created_at, r.duration, r.kind.value == "extension")
        for r in requests
        if r.id is not None and _waiting_at(r, as_of)
    ]
    waiting.sort(key=lambda w: (w.since, w.request_id))

    totals: dict[str, Counter[str]] = {}
    for item in items:
        totals.setdefault(item.customer, Counter())[_column(item.kind)] += 1
    for access in active:
        totals.setdefault(access.customer, Counter())["active now"] += 1
    for request in waiting:
        totals.setdefault(request.customer, Counter())["waiting"] += 1
    ordered_totals = {customer: dict(counts) for customer, counts in sorted(totals.items())}

    title = summary_title(period, zone, as_of=as_of, late=late)
    timeline = build_timeline(period, as_of, zone, grants, names, title=title)
    return DailySummary(
        title=title,
        period=period,
        as_of=as_of,
        zone=zone,
        late=late,
        items=tuple(items),
        active=tuple(active),
        waiting=tuple(waiting),
        totals=ordered_totals,
        timeline=timeline,
        anchor=anchor,
        columns=TOTAL_COLUMNS,
    )


def summary_title(period: SummaryPeriod, zone: tzinfo, *, as_of: datetime, late: bool) -> str:
    """The title: "Access summary — Tue 3 Dec 2026 (period)", plus LATE when posted after its time."""
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    day = _day_label(end.date() if period.slot is None else period.slot.day)
    hours = round(period.length.total_seconds() / 3600)
    span = f"{start.strftime('%a %H:%M')} to {end.strftime('%a %H:%M')} {_zone_name(zone, end)}, {hours} h"
    title = f"Access summary — {day} ({span})"
    if late and period.slot is not None:
        scheduled = period.slot.scheduled_for.astimezone(zone).strftime("%H:%M")
        title += f" — LATE: due {scheduled}, posted {as_of.astimezone(zone).strftime('%H:%M')}"
    return title


def _day_label(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y')}"


def _zone_name(zone: tzinfo, at: datetime) -> str:
    key = getattr(zone, "key", None)
    return str(key) if key else (at.tzname() or "")


def _column(kind: Happening) -> str:
    return "failed" if kind in (Happening.FAILED_REVOCATION, Happening.FAILED_GRANT) else kind.value


def _classify(event: StoredAuditEvent) -> Happening | None:
    record = event.record
    if record.action == "grant.failed":
        # a revocation step failed (or the grant was already ending), else the membership add failed
        step = str(record.details.get("step", ""))
        ending = step in _REVOCATION_STEPS or record.from_state == GrantState.REVOKING.value
        return Happening.FAILED_REVOCATION if ending else Happening.FAILED_GRANT
    return _ACTIONS.get(record.action)


def _detail(event: StoredAuditEvent, grants: Mapping[int, Grant], approvers: Mapping[int, list[str]]) -> str:
    record, details = event.record, event.record.details
    action = record.action
    if action == "grant.created":
        grant = grants.get(record.grant_id or -1)
        names = approvers.get(record.request_id or -1) or (list(grant.approved_by) if grant else [])
        by = ", ".join(names) or record.actor.name
        duration = details.get("duration")
        return f"approved by {by}" + (f", {duration}" if duration else "")
    if action == "grant.extended":
        return f"+{details.get('added', '?')} by {record.actor.name} (now {details.get('total', '?')} in total)"
    if action == "grant.revoked":
        return f"ended by {details.get('ended_by') or record.actor.name}"
    if action == "grant.expired":
        return "ran out; membership removed and sessions revoked"
    if action in ("request.denied", "request.cancelled"):
        note = str(details.get("note", ""))
        return f"by {record.actor.name}" + (f": {note}" if note else "")
    if action == "request.timed_out":
        return "no approver decided in time"
    if action == "grant.failed":
        grant = grants.get(record.grant_id or -1)
        now_state = f"; now {grant.state.value}" if grant is not None else ""
        return f"{details.get('error', details.get('step', 'failed'))}{now_state}"
    return ""


def _active_at(grant: Grant, at: datetime) -> bool:
    """Did the membership exist at `at`? (A failing grant is listed as a failure, not as active.)"""
    if grant.state is GrantState.FAILED or grant.starts_at is None or grant.starts_at > at:
        return False
    if grant.ended_at is not None:
        return grant.ended_at > at
    return grant.state in (GrantState.ACTIVE, GrantState.REVOKING)


def _waiting_at(request: AccessRequest, at: datetime) -> bool:
    if request.created_at > at:
        return False
    if request.state is RequestState.PENDING:
        return True
    return request.decided_at is not None and request.decided_at > at


def _outcome(grant: Grant) -> Outcome:
    if grant.state is GrantState.EXPIRED:
        return Outcome.EXPIRED
    if grant.state is GrantState.REVOKED:
        return Outcome.REVOKED
    if grant.state is GrantState.FAILED:
        return Outcome.FAILED
    return Outcome.ACTIVE


def build_timeline(
    period: SummaryPeriod,
    as_of: datetime,
    zone: tzinfo,
    grants: Sequence[Grant],
    customer_names: Mapping[str, str] | None = None,
    *,
    title: str = "",
) -> Timeline:
    """A bar per grant whose access overlapped the period, clamped to it; one row per customer."""
    names = dict(customer_names or {})
    bars: list[TimelineBar] = []
    for grant in grants:
        if grant.starts_at is None:
            continue  # never effective: no access to draw
        # not ended: active, being revoked, or failing with the membership maybe still in place
        still_open = grant.ended_at is None
        end = max(as_of, period.end) if grant.ended_at is None else grant.ended_at
        if grant.starts_at >= period.end or end <= period.start:
            continue
        bar_start, bar_end = max(grant.starts_at, period.start), min(end, period.end)
        customer = names.get(grant.customer, grant.customer)
        continues = still_open or end > period.end
        bars.append(TimelineBar(customer, grant.person.upn, grant.id, bar_start, bar_end, _outcome(grant), continues))
    rows = tuple(sorted({bar.customer for bar in bars}))
    bars.sort(key=lambda b: (rows.index(b.customer), b.start, b.grant_id))
    return Timeline(period.start, period.end, zone, rows, tuple(bars), title)
