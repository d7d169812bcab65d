"""The messages of the access workflow in Slack: pure functions from the workflow's records to
Block Kit (the approval message, the requester's DMs, private answers). Text safety and the
building blocks are in `bot.slack.blocks`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.slack.blocks import (
    REASON_SHOWN_MAX,
    Block,
    Message,
    button,
    clock,
    context,
    escape,
    fit,
    mrkdwn,
    person_label,
    plain,
    section,
)
from workflows.durations import format_duration
from workflows.model import AccessRequest, Approval, EndReason, Grant, GrantState, RequestKind, RequestState
from workflows.policy import Catalog, CustomerPolicy

# Action ids: the contract between the buttons we post and the handlers.
APPROVE = "access_approve"
DENY = "access_deny"
END_NOW = "access_end"
EXTEND = "access_extend"

# ---- the approval message ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApprovalView:
    """Everything the approval message shows; re-read from the store before each render."""

    request: AccessRequest
    policy: CustomerPolicy
    approvals: Sequence[Approval]
    grant: Grant | None
    tz: ZoneInfo
    now: datetime


def approval_message(view: ApprovalView) -> Message:
    """The message in the approval channel: the request, then its buttons or its outcome."""
    request, policy = view.request, view.policy
    number = request.id
    who = person_label(request.requester.display_name, request.requester.upn)
    customer = fit(policy.display_name, 200)
    if request.kind is RequestKind.EXTENSION:
        title = f"*Extension request #{number}* for access #{request.grant_id} to *{customer}*"
        duration = f"+{format_duration(request.duration)}"
    else:
        title = f"*Access request #{number}* to *{customer}*"
        duration = format_duration(request.duration)
    blocks: list[Block] = [
        section(title),
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Requester*\n{who}"),
                mrkdwn(f"*Customer*\n{customer}"),
                mrkdwn(f"*Duration*\n{duration}"),
                mrkdwn(f"*Request*\n#{number}"),
            ],
        },
    ]
    if request.reason:
        blocks.append(section(f"*Reason:* {fit(request.reason, REASON_SHOWN_MAX)}"))
    required = policy.approvals_required
    if request.state is RequestState.PENDING:
        if required > 1:
            names = ", ".join(fit(a.approver.upn, 200) for a in view.approvals) or "none yet"
            blocks.append(context(f"Approvals so far: *{len(view.approvals)} of {required}* ({names})"))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"decide-{number}",
                "elements": [
                    button("Approve", APPROVE, str(number), "primary"),
                    button("Deny", DENY, str(number), "danger"),
                ],
            }
        )
        text = f"Access request #{number} from {who} for {customer} ({duration}) is waiting for approval"
        return Message(text, blocks)
    outcome = decision_line(request, view.approvals, required, view.tz, view.now)
    blocks.append(section(outcome))
    if view.grant is not None and request.state is RequestState.APPROVED:
        blocks.append(context(grant_line(view.grant, view.tz, view.now)))
    text = f"Request #{number} from {who} for {customer}: {request.state.value.replace('_', ' ')}"
    return Message(text, blocks)


def decision_line(
    request: AccessRequest, approvals: Sequence[Approval], required: int, tz: ZoneInfo, now: datetime
) -> str:
    """Who decided and when, for a request that is no longer pending."""
    at = clock(request.decided_at, tz, now)
    by = fit(request.decided_by or "?", 200)
    if request.state is RequestState.APPROVED:
        if len(approvals) > 1:
            by = ", ".join(fit(a.approver.upn, 200) for a in approvals)
        return f":white_check_mark: *Approved* by {by} at {at}"
    if request.state is RequestState.DENIED:
        note = f" — reason: {fit(request.decision_note, REASON_SHOWN_MAX)}" if request.decision_note else ""
        return f":x: *Denied* by {by} at {at}{note}"
    if request.state is RequestState.TIMED_OUT:
        return f":hourglass: *Timed out* at {at}: nobody decided in time"
    if request.state is RequestState.CANCELLED:
        if request.decided_by and request.decided_by.casefold() == request.requester.upn.casefold():
            return f":leftwards_arrow_with_hook: *Withdrawn* by the requester at {at}"
        note = f": {fit(request.decision_note, 500)}" if request.decision_note else ""
        return f":leftwards_arrow_with_hook: *Cancelled* at {at}{note}"
    return f"*{request.state.value}*"


def grant_line(grant: Grant, tz: ZoneInfo, now: datetime) -> str:
    """Where the access itself stands (shown under the decision)."""
    if grant.state is GrantState.GRANTING:
        return f":hourglass_flowing_sand: Access #{grant.id}: adding the group membership…"
    if grant.state is GrantState.ACTIVE:
        since, ends = clock(grant.starts_at, tz, now), clock(grant.ends_at, tz, now)
        return f":large_green_circle: Access #{grant.id} active since {since}, ends at {ends}"
    if grant.state is GrantState.REVOKING:
        return f":hourglass_flowing_sand: Access #{grant.id} is ending: removing the membership and revoking sessions…"
    if grant.state is GrantState.FAILED:
        return f":warning: Access #{grant.id} *failed*: {fit(grant.last_error, 500)} (retried automatically)"
    how = "expired" if grant.end_reason is EndReason.EXPIRED else f"revoked by {fit(grant.ended_by or '?', 200)}"
    return (
        f":black_square_for_stop: Access #{grant.id} ended at {clock(grant.ended_at, tz, now)} ({how}); "
        "membership removed and sessions revoked"
    )


# ---- the requester's DMs -------------------------------------------------------------------


def granted_dm(grant: Grant, policy: CustomerPolicy, tz: ZoneInfo, now: datetime) -> Message:
    customer = fit(policy.display_name, 200)
    ends = clock(grant.ends_at, tz, now)
    text = f"Your access #{grant.id} to {customer} is effective now; it ends at {ends}."
    confirm = {
        "title": plain("End access now?", 100),
        "text": plain(f"Access #{grant.id} to {policy.display_name} ends immediately.", 300),
        "confirm": plain("End it", 30),
        "deny": plain("Keep it", 30),
    }
    blocks = [
        section(
            f":white_check_mark: Your access *#{grant.id}* to *{customer}* is *effective now*. It ends at *{ends}*."
        ),
        {
            "type": "actions",
            "block_id": f"grant-{grant.id}",
            "elements": [button("End access now", END_NOW, str(grant.id), "danger", confirm)],
        },
    ]
    return Message(text, blocks)


def extended_dm(grant: Grant, request: AccessRequest, policy: CustomerPolicy, tz: ZoneInfo, now: datetime) -> Message:
    customer = fit(policy.display_name, 200)
    if grant.ends_at is not None:
        text = (
            f"Extension #{request.id} approved: access #{grant.id} to {customer} now ends at "
            f"{clock(grant.ends_at, tz, now)} ({format_duration(grant.duration)} in total)."
        )
    else:
        total = format_duration(grant.duration)
        text = f"Extension #{request.id} approved: access #{grant.id} to {customer} now lasts {total}."
    return Message(text, [section(":stopwatch: " + text)])


def denied_dm(request: AccessRequest, policy: CustomerPolicy) -> Message:
    customer = fit(policy.display_name, 200)
    by = fit(request.decided_by or "an approver", 200)
    note = f" Reason: {fit(request.decision_note, REASON_SHOWN_MAX)}" if request.decision_note else ""
    text = f"Your request #{request.id} for {customer} was denied by {by}.{note}"
    return Message(text, [section(":x: " + text)])


def timed_out_dm(request: AccessRequest, policy: CustomerPolicy) -> Message:
    customer = fit(policy.display_name, 200)
    text = (
        f"Your request #{request.id} for {customer} timed out: nobody decided within "
        f"{format_duration(policy.pending_timeout)}. Ask again with `/access {policy.key} <duration> <reason>`."
    )
    return Message(text, [section(":hourglass: " + text)])


def cancelled_dm(request: AccessRequest, policy: CustomerPolicy) -> Message:
    customer = fit(policy.display_name, 200)
    note = f": {fit(request.decision_note, 500)}" if request.decision_note else ""
    text = f"Your request #{request.id} for {customer} was cancelled{note}."
    return Message(text, [section(":leftwards_arrow_with_hook: " + text)])


def expiring_dm(grant: Grant, policy: CustomerPolicy, tz: ZoneInfo, now: datetime) -> Message:
    customer = fit(policy.display_name, 200)
    ends = clock(grant.ends_at, tz, now)
    more = format_duration(policy.default_duration)
    text = f"Your access #{grant.id} to {customer} ends at {ends}."
    blocks = [
        section(
            f":alarm_clock: Your access *#{grant.id}* to *{customer}* ends at *{ends}*. "
            f"Need more time? *Extend* asks the approvers for {more} more "
            f"(or `/access extend {grant.id} <duration>`)."
        ),
        {
            "type": "actions",
            "block_id": f"expiring-{grant.id}",
            "elements": [button("Extend", EXTEND, str(grant.id), "primary")],
        },
    ]
    return Message(text, blocks)


def ended_dm(grant: Grant, policy: CustomerPolicy, tz: ZoneInfo, now: datetime) -> Message:
    customer = fit(policy.display_name, 200)
    expired = grant.end_reason is EndReason.EXPIRED
    how = "expired" if expired else f"was revoked by {fit(grant.ended_by or '?', 200)}"
    text = (
        f"Your access #{grant.id} to {customer} {how} at {clock(grant.ended_at, tz, now)}. "
        "The group membership was removed and your sessions were revoked."
    )
    return Message(text, [section(":black_square_for_stop: " + text)])


def failed_dm(grant: Grant, policy: CustomerPolicy) -> Message:
    customer = fit(policy.display_name, 200)
    text = (
        f"Your access #{grant.id} to {customer} could not be applied yet. It is retried automatically "
        "and the approvers were alerted."
    )
    return Message(text, [section(":warning: " + text)])


def failed_alert(grant: Grant, policy: CustomerPolicy, error: str) -> Message:
    customer = fit(policy.display_name, 200)
    who = person_label(grant.person.display_name, grant.person.upn)
    phase = "ending it (revocation)" if grant.ending else "applying it"
    text = f"ALERT: access #{grant.id} ({who} to {customer}) failed while {phase}"
    blocks = [
        section(f":rotating_light: *Access #{grant.id} failed* while {phase}: {who} → *{customer}*"),
        section(f"*Error:* {fit(error, 1500)}"),
        context(
            "It is retried automatically every 15 minutes. `accessbot grants` shows it; `accessbot revoke` ends it."
        ),
    ]
    return Message(text, blocks)


def reminder_message(request: AccessRequest, policy: CustomerPolicy, approver_mentions: Sequence[str]) -> Message:
    """A reply in the approval message's thread; `approver_mentions` are ``<@U…>`` we built ourselves."""
    customer = fit(policy.display_name, 200)
    who = person_label(request.requester.display_name, request.requester.upn)
    mention = " ".join(approver_mentions)
    text = f"Reminder: request #{request.id} from {who} for {customer} is still waiting for a decision."
    return Message(text, [section(f":bell: {text} {mention}".rstrip())])


# ---- private answers -----------------------------------------------------------------------


def ephemeral(text: str) -> Message:
    """A private answer. `text` is ours (the core's messages quote user input with repr, so escape)."""
    safe = escape(text)
    return Message(safe, [section(safe)])


def refusal(message: str, hint: str = "") -> Message:
    """An `AccessError` shown privately: what was wrong, and what is allowed."""
    body = f":no_entry_sign: {escape(message)}"
    if hint:
        body += f"\n{hint}"
    return Message(escape(message), [section(body)])


def allowed_hint(catalog: Catalog) -> str:
    """The customers and their duration ranges, for an error that needs them."""
    lines = [
        f"• `{c.key}` ({fit(c.display_name, 100)}): {policy_range(c)}"
        + (" (reason required)" if c.require_reason else "")
        for c in list(catalog)[:40]
    ]
    return "Customers and durations you can ask for:\n" + "\n".join(lines)


def help_message(catalog: Catalog) -> Message:
    text = (
        "*Just-in-time access*\n"
        "• `/access <customer> <duration> [reason]` — ask for access, e.g. `/access customer-x 4h fixing the VPN`\n"
        "• `/access` — the same, as a form\n"
        "• `/access list` — your pending requests and active access\n"
        "• `/access revoke <id>` — end your access (or withdraw your request) now\n"
        "• `/access extend <id> <duration>` — ask for more time\n"
        "Durations: `45s`, `30m`, `4h`, `1h30m`, `2d`."
    )
    return Message("accessbot help", [section(text), section(allowed_hint(catalog))])


def confirmation(
    number: int, policy: CustomerPolicy, kind: RequestKind, duration: timedelta, note: str = ""
) -> Message:
    customer = fit(policy.display_name, 200)
    what = "Extension request" if kind is RequestKind.EXTENSION else "Request"
    text = f"{what} #{number} ({format_duration(duration)}) sent to the approvers of {customer}."
    if note:
        text += f" Note: {escape(note)}."
    return Message(text, [section(":outbox_tray: " + text)])


def list_message(
    requests: Sequence[AccessRequest], grants: Sequence[Grant], catalog: Catalog, tz: ZoneInfo, now: datetime
) -> Message:
    def name(key: str) -> str:
        try:
            return fit(catalog.get(key).display_name, 100)
        except Exception:  # a customer removed from the configuration still shows by key
            return fit(key, 100)

    lines: list[str] = []
    for grant in grants:
        if grant.state is GrantState.ACTIVE:
            status = f"active, ends at {clock(grant.ends_at, tz, now)}"
        else:
            status = grant.state.value
        lines.append(f"• Access *#{grant.id}* to *{name(grant.customer)}*: {status}")
    for request in requests:
        kind = "Extension request" if request.kind is RequestKind.EXTENSION else "Request"
        lines.append(
            f"• {kind} *#{request.id}* for *{name(request.customer)}* ({format_duration(request.duration)}): "
            "waiting for approval"
        )
    if not lines:
        return Message(
            "You have no pending requests and no active access.",
            [section("You have no pending requests and no active access.")],
        )
    body = "\n".join(lines[:40])
    if len(lines) > 40:
        body += f"\n… and {len(lines) - 40} more"
    return Message("Your requests and access", [section(body)])


def policy_range(policy: CustomerPolicy) -> str:
    return f"{format_duration(policy.min_duration)} to {format_duration(policy.max_duration)}"
