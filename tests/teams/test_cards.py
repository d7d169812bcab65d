"""Every card the Teams front end sends is valid Adaptive Card 1.5, checked against Microsoft's
schema (reference/teams/adaptive-card-1.5.schema.json), and carries what the approvers need."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from bot.teams import cards
from tests.teams.activities import TEAMS_REFERENCE
from workflows.model import (
    AccessRequest,
    Approval,
    EndReason,
    Grant,
    GrantState,
    Person,
    RequestKind,
    RequestState,
)

TZ = ZoneInfo("Europe/Prague")
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
EVE = Person("e1", "eve@contoso.example", "eve@contoso.example", "Eve Example")
ALICE = Person("a1", "alice@contoso.example", "alice@contoso.example", "Alice")
BOB = Person("b1", "bob@contoso.example", "bob@contoso.example", "Bob")


@functools.cache
def _validator() -> jsonschema.Draft6Validator:
    schema = json.loads((TEAMS_REFERENCE / "adaptive-card-1.5.schema.json").read_text())
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema)


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fail with every schema error of the card (and insist on version 1.5)."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(card)]
    assert not errors, "not a valid Adaptive Card 1.5:\n" + "\n".join(errors)
    assert card["version"] == "1.5"


def _request(state: RequestState = RequestState.PENDING, **changes: Any) -> AccessRequest:
    request = AccessRequest(
        id=7, kind=RequestKind.ACCESS, customer="customer-x", requester=EVE, duration=timedelta(hours=4),
        reason="fixing the VPN", state=state, created_at=NOW, timeout_at=NOW + timedelta(hours=2),
    )  # fmt: skip
    for key, value in changes.items():
        setattr(request, key, value)
    return request


def _grant(**changes: Any) -> Grant:
    grant = Grant(
        id=7, customer="customer-x", group_id="g", person=EVE, duration=timedelta(hours=4), state=GrantState.ACTIVE,
        created_at=NOW, approved_by=("alice@contoso.example",), starts_at=NOW, ends_at=NOW + timedelta(hours=4),
    )  # fmt: skip
    for key, value in changes.items():
        setattr(grant, key, value)
    return grant


def test_the_schema_rejects_what_it_should() -> None:
    # the checker itself: an unknown element type and a missing version are errors
    assert list(_validator().iter_errors({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Nope"}]}))
    assert list(_validator().iter_errors({"type": "AdaptiveCard", "body": [], "msteams": {}}))


def test_pending_approval_card_has_the_facts_and_approve_deny() -> None:
    card = cards.request_card(_request(), "Customer X", TZ)
    assert_valid_card(card)
    facts = {f["title"]: f["value"] for f in card["body"][1]["facts"]}
    assert facts == {
        "Requester": "Eve Example (eve@contoso.example)", "Customer": "Customer X", "Duration": "4h",
        "Reason": "fixing the VPN", "Request": "#7", "Requested": "2026-12-03 10:30 CET",
    }  # fmt: skip
    approve, deny = card["actions"]
    assert (approve["title"], approve["verb"], approve["data"]) == ("Approve", "approve", {"request_id": 7})
    assert (deny["title"], deny["verb"], deny["data"]) == ("Deny", "deny", {"request_id": 7})
    for action in (approve, deny):
        assert action["type"] == "Action.Execute"
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit" and fallback["title"] == action["title"]
        assert fallback["data"] == {"verb": action["verb"], "request_id": 7}


def test_decided_cards_say_who_and_when_without_buttons() -> None:
    approved = _request(RequestState.APPROVED, decided_by="alice@contoso.example", decided_at=NOW)
    for card in (
        cards.request_card(approved, "Customer X", TZ, approvals=[Approval(7, ALICE, NOW), Approval(7, BOB, NOW)]),
        cards.request_card(
            _request(RequestState.DENIED, decided_by="bob@contoso.example", decided_at=NOW, decision_note="not today"),
            "Customer X",
            TZ,
        ),
        cards.request_card(_request(RequestState.TIMED_OUT, decided_by="accessbot", decided_at=NOW), "Customer X", TZ),
        cards.request_card(
            _request(RequestState.CANCELLED, decided_by="eve@contoso.example", decided_at=NOW), "Customer X", TZ
        ),
    ):
        assert_valid_card(card)
        assert "actions" not in card
    card = cards.request_card(approved, "Customer X", TZ)
    assert card["body"][-1]["text"] == "Approved by alice@contoso.example at 2026-12-03 10:30 CET"


def test_partial_approvals_keep_the_buttons_and_show_the_count() -> None:
    card = cards.request_card(_request(), "Customer X", TZ, approvals=[Approval(7, ALICE, NOW)], required=2)
    assert_valid_card(card)
    assert "Approvals so far: 1 of 2 (alice@contoso.example)" in json.dumps(card)
    assert [a["title"] for a in card["actions"]] == ["Approve", "Deny"]


@pytest.mark.parametrize(
    "card",
    [
        cards.refusal_card(_request(), "Customer X", TZ, "only the approvers of Customer X can decide this"),
        cards.request_card(_request(kind=RequestKind.EXTENSION, grant_id=3), "Customer X", TZ, reminder=True),
        cards.request_form([("customer-x", "Customer X"), ("customer-y", "Customer Y")], timedelta(hours=1)),
        cards.request_form([("customer-x", "Customer X")], timedelta(hours=1), error="unknown customer"),
        cards.granted_card(_grant(), "Customer X", TZ),
        cards.expiring_card(_grant(), "Customer X", TZ, timedelta(minutes=15)),
        cards.ended_card(_grant(state=GrantState.EXPIRED, ended_at=NOW, end_reason=EndReason.EXPIRED), "X", TZ),
        cards.ended_card(
            _grant(
                state=GrantState.REVOKED, ended_at=NOW, end_reason=EndReason.REVOKED, ended_by="eve@contoso.example"
            ),
            "X",
            TZ,
        ),
        cards.alert_card(_grant(state=GrantState.FAILED), "Customer X", "Graph said 503"),
        cards.message_card("Request #7", "waiting for the approvers"),
        cards.summary_card(
            "Access summary", [("Failed", ["#1"], True), ("Active", [], False)], "data:image/png;base64,iVBORw0KGgo="
        ),
    ],
)
def test_every_card_is_valid_adaptive_card_1_5(card: dict[str, Any]) -> None:
    assert_valid_card(card)


def test_notices_carry_their_actions() -> None:
    granted = cards.granted_card(_grant(), "Customer X", TZ)
    assert [(a["title"], a["verb"], a["data"]) for a in granted["actions"]] == [
        ("End access now", "end", {"grant_id": 7})
    ]
    expiring = cards.expiring_card(_grant(), "Customer X", TZ, timedelta(minutes=15))
    assert [a["title"] for a in expiring["actions"]] == ["Extend", "End access now"]
    assert "ends in 15 minutes" in expiring["body"][0]["text"]
