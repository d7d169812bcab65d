"""Adaptive Cards (version 1.5) the Teams front end sends. Pure functions: data in, card JSON out.

Buttons are ``Action.Execute`` (Universal Actions: Teams sends an ``adaptiveCard/action`` invoke
and the card can be replaced for everyone) with an ``Action.Submit`` fallback for clients that
predate 1.4 (it arrives as a message activity whose ``value`` carries the same verb and data).
Every card here validates against the Adaptive Card 1.5 schema (tests/teams/test_cards.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from workflows.durations import format_duration
from workflows.model import AccessRequest, Approval, Grant, RequestKind, RequestState

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

# Verbs of the actions on our cards (``value.action.verb`` of the invoke, ``value.verb`` of a Submit).
APPROVE, DENY, REQUEST, END, EXTEND = "approve", "deny", "request", "end", "extend"

Card = dict[str, Any]


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> Card:
    """An Adaptive Card 1.5 with this body (and actions)."""
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        result["actions"] = actions
    return result


def attachment(content: Card) -> dict[str, Any]:
    """The card as a Bot Framework attachment."""
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def action(title: str, verb: str, data: dict[str, Any], *, style: str | None = None) -> dict[str, Any]:
    """``Action.Execute`` with this verb, falling back to an ``Action.Submit`` carrying the verb in its data."""
    submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": {"verb": verb, **data}}
    execute: dict[str, Any] = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data)}
    if style:
        submit["style"] = execute["style"] = style
    execute["fallback"] = submit
    return execute


def text(value: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def when(value: datetime | None, tz: tzinfo) -> str:
    """A time as the bot displays it: local to the configured time zone."""
    if value is None:
        return "-"
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z").strip()


def _facts(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": k, "value": v or "-"} for k, v in pairs]}


def _request_facts(request: AccessRequest, customer_name: str, tz: tzinfo) -> dict[str, Any]:
    pairs = [
        ("Requester", f"{request.requester.label} ({request.requester.upn})"),
        ("Customer", customer_name),
        ("Duration", format_duration(request.duration)),
        ("Reason", request.reason or "(none given)"),
        ("Request", f"#{request.id}"),
        ("Requested", when(request.created_at, tz)),
    ]
    if request.kind is RequestKind.EXTENSION:
        pairs.insert(2, ("Extends", f"access #{request.grant_id}"))
    return _facts(pairs)


_STATE_WORDS = {
    RequestState.APPROVED: ("Approved", "good"),
    RequestState.DENIED: ("Denied", "attention"),
    RequestState.CANCELLED: ("Cancelled", "warning"),
    RequestState.TIMED_OUT: ("Timed out", "warning"),
}


def request_card(
    request: AccessRequest,
    customer_name: str,
    tz: tzinfo,
    *,
    approvals: Sequence[Approval] = (),
    required: int = 1,
    reminder: bool = False,
) -> Card:
    """The approval card: while pending, the facts with **Approve** and **Deny**; once decided,
    who decided and when, without buttons (the same card replaces the original for everyone)."""
    kind = "more time" if request.kind is RequestKind.EXTENSION else "access"
    heading = f"{'Reminder: ' if reminder else ''}{request.requester.label} asks for {kind} to {customer_name}"
    body: list[dict[str, Any]] = [
        text(heading, weight="Bolder", size="Medium"),
        _request_facts(request, customer_name, tz),
    ]
    if request.state is RequestState.PENDING:
        if approvals:
            names = ", ".join(a.approver.upn for a in approvals)
            body.append(text(f"Approvals so far: {len(approvals)} of {required} ({names})", isSubtle=True))
        data = {"request_id": request.id}
        actions = [
            action("Approve", APPROVE, data, style="positive"),
            action("Deny", DENY, data, style="destructive"),
        ]
        return card(body, actions)
    word, color = _STATE_WORDS.get(request.state, (request.state.value, "default"))
    by = request.decided_by or "accessbot"
    line = f"{word} by {by} at {when(request.decided_at, tz)}"
    if request.state is RequestState.TIMED_OUT:
        line = f"Timed out at {when(request.decided_at, tz)}: no approver decided in time"
    body.append(text(line, weight="Bolder", color=color))
    if len(approvals) > 1:
        body.append(text("Approved by " + ", ".join(a.approver.upn for a in approvals), isSubtle=True))
    if request.decision_note:
        body.append(text(f"Note: {request.decision_note}", isSubtle=True))
    return card(body)


def refusal_card(request: AccessRequest, customer_name: str, tz: tzinfo, message: str) -> Card:
    """What a user who may not decide sees (only they see it): the request and why not. Nothing changed."""
    body = [
        text(f"{request.requester.label} asks for access to {customer_name}", weight="Bolder", size="Medium"),
        _request_facts(request, customer_name, tz),
        text(f"You cannot decide this request: {message}", color="attention", weight="Bolder"),
    ]
    return card(body)


def message_card(title: str, message: str, *, color: str = "default") -> Card:
    return card([text(title, weight="Bolder", size="Medium", color=color), text(message)])


def request_form(
    customers: Sequence[tuple[str, str]], default_duration: timedelta, *, error: str | None = None
) -> Card:
    """The form a bare ``access`` answers with: customer, duration, reason."""
    body: list[dict[str, Any]] = [text("Request access to a customer network", weight="Bolder", size="Medium")]
    if error:
        body.append(text(error, color="attention"))
    body += [
        {
            "type": "Input.ChoiceSet",
            "id": "customer",
            "label": "Customer",
            "isRequired": True,
            "errorMessage": "Choose a customer",
            "choices": [{"title": name, "value": key} for key, name in customers],
            "value": customers[0][0] if customers else "",
        },
        {
            "type": "Input.Text",
            "id": "duration",
            "label": "Duration (e.g. 30m, 4h, 1h30m)",
            "placeholder": format_duration(default_duration),
            "value": format_duration(default_duration),
        },
        {"type": "Input.Text", "id": "reason", "label": "Reason", "isMultiline": True, "maxLength": 500},
    ]
    return card(body, [action("Request access", REQUEST, {})])


def granted_card(grant: Grant, customer_name: str, tz: tzinfo) -> Card:
    """To the requester: access is active until its end, with **End access now**."""
    body = [
        text(f"Your access #{grant.id} to {customer_name} is active", weight="Bolder", size="Medium", color="good"),
        _facts(
            [
                ("Until", when(grant.ends_at, tz)),
                ("Duration", format_duration(grant.duration)),
                ("Approved by", ", ".join(grant.approved_by)),
            ]
        ),
    ]
    return card(body, [action("End access now", END, {"grant_id": grant.id}, style="destructive")])


EXTEND_CHOICES = (timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2))


def expiring_card(grant: Grant, customer_name: str, tz: tzinfo, remaining: timedelta) -> Card:
    """To the requester: the grant ends soon, with **Extend** (which asks the approvers again)."""
    minutes = max(1, round(remaining.total_seconds() / 60))
    body: list[dict[str, Any]] = [
        text(f"Your access #{grant.id} to {customer_name} ends in {minutes} minutes", weight="Bolder", size="Medium"),
        text(f"It ends at {when(grant.ends_at, tz)}. Extending needs approval again."),
        {
            "type": "Input.ChoiceSet",
            "id": "duration",
            "label": "Extend by",
            "choices": [{"title": format_duration(d), "value": format_duration(d)} for d in EXTEND_CHOICES],
            "value": format_duration(EXTEND_CHOICES[1]),
        },
    ]
    return card(
        body,
        [
            action("Extend", EXTEND, {"grant_id": grant.id}, style="positive"),
            action("End access now", END, {"grant_id": grant.id}),
        ],
    )


def ended_card(grant: Grant, customer_name: str, tz: tzinfo) -> Card:
    how = "expired" if grant.end_reason is None or grant.end_reason.value == "expired" else "was ended"
    by = f" by {grant.ended_by}" if grant.ended_by and how == "was ended" else ""
    return card(
        [
            text(f"Your access #{grant.id} to {customer_name} {how}{by}", weight="Bolder", size="Medium"),
            text(
                f"Ended at {when(grant.ended_at, tz)}: group membership removed and sessions revoked. "
                "Ask again with `access <customer> <duration> <reason>`."
            ),
        ]
    )


def alert_card(grant: Grant, customer_name: str, error: str) -> Card:
    """For the approvers: a grant or revocation failed after its retries (it keeps being retried)."""
    phase = "ending" if grant.ending else "granting"
    return card(
        [
            text(f"Alert: {phase} access #{grant.id} failed", weight="Bolder", size="Medium", color="attention"),
            _facts([("User", grant.person.upn), ("Customer", customer_name), ("Error", error[:300])]),
            text("accessbot keeps retrying; `accessbot grants --active` shows the state.", isSubtle=True),
        ]
    )


def summary_card(title: str, sections: Sequence[tuple[str, Sequence[str], bool]], image_url: str | None) -> Card:
    """The daily summary: a heading per section, its lines, and the chart (a data URI) if there is one."""
    body: list[dict[str, Any]] = [text(title, weight="Bolder", size="Large")]
    for heading, lines, alert in sections:
        body.append(text(heading, weight="Bolder", color="attention" if alert else "default", spacing="Medium"))
        body.append(text("\n".join(f"- {line}" for line in lines) if lines else "(none)"))
    if image_url:
        body.append({"type": "Image", "url": image_url, "altText": "Access chart", "size": "Stretch"})
    return card(body)
