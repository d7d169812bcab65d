"""Block Kit rendering: escaping of what users type, Block Kit limits, times in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.slack import blocks, modals, render
from bot.slack.summary import summary_message
from tests.fakes.slack_server import check_blocks, check_view
from tests.support import customer
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
from workflows.policy import Catalog
from workflows.ports import SummarySection

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PRAGUE = ZoneInfo("Europe/Prague")
DAVE = Person("id-dave", "dave@contoso.example", "dave@contoso.example", "Dave <@U0BOSS>")
ALICE = Person("id-alice", "alice@contoso.example", "alice@contoso.example", "Alice")


def request(
    reason: str = "fixing the VPN", state: RequestState = RequestState.PENDING, **extra: object
) -> AccessRequest:
    values: dict[str, object] = {
        "id": 12,
        "kind": RequestKind.ACCESS,
        "customer": "customer-x",
        "requester": DAVE,
        "duration": timedelta(hours=4),
        "reason": reason,
        "state": state,
        "created_at": NOW,
        "timeout_at": NOW + timedelta(hours=2),
    }
    values.update(extra)
    return AccessRequest(**values)  # type: ignore[arg-type]


def view(
    req: AccessRequest, *, approvals: tuple[Approval, ...] = (), grant: Grant | None = None, **policy: object
) -> render.ApprovalView:
    return render.ApprovalView(req, customer(**policy), approvals, grant, PRAGUE, NOW)


def test_escape_defuses_mentions_links_broadcasts_and_markup() -> None:
    hostile = (
        "<!channel> hi <@U0BOSS> see <https://evil.example|your bank> *bold* _it_ ~s~ ```code``` @here & co\n> quote"
    )
    safe = blocks.escape(hostile)
    for forbidden in ("<", ">", "*", "```", "~s~", "_it_", "@here", "\n"):
        assert forbidden not in safe
    assert "&lt;!channel&gt;" in safe and "&lt;@U0BOSS&gt;" in safe and "&amp; co" in safe
    assert "evil.example" in safe  # still readable, just not a disguised link


@given(st.text(max_size=3000), st.integers(min_value=2, max_value=600))
def test_fit_never_exceeds_the_limit_and_never_splits_an_entity(text: str, limit: int) -> None:
    fitted = blocks.fit(text, limit)
    assert len(fitted) <= limit
    assert "<" not in fitted and ">" not in fitted
    if fitted.endswith(blocks.ELLIPSIS):
        body = fitted[: -len(blocks.ELLIPSIS)]
        assert not any(body.endswith(partial) for partial in ("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))


def test_pending_message_has_the_facts_and_the_two_buttons() -> None:
    message = render.approval_message(view(request()))
    assert check_blocks(message.blocks, limit=50) == []
    texts = str(message.blocks)
    for expected in ("#12", "Customer X", "4h", "dave@contoso.example", "fixing the VPN"):
        assert expected in texts
    actions = next(b for b in message.blocks if b["type"] == "actions")
    assert [e["text"]["text"] for e in actions["elements"]] == ["Approve", "Deny"]
    assert [e["value"] for e in actions["elements"]] == ["12", "12"]
    assert "<@U0BOSS>" not in texts and "<@U0BOSS>" not in message.text  # the display name is escaped too


def test_long_reasons_are_cut_with_an_ellipsis_within_block_kit_limits() -> None:
    message = render.approval_message(view(request(reason="&<>" * 5000)))
    assert check_blocks(message.blocks, limit=50) == []
    reason_block = next(b for b in message.blocks if "Reason" in b.get("text", {}).get("text", ""))
    assert reason_block["text"]["text"].endswith(blocks.ELLIPSIS)
    assert len(reason_block["text"]["text"]) <= blocks.SECTION_TEXT_MAX


def test_count_so_far_when_more_approvals_are_needed() -> None:
    approval = Approval(12, ALICE, NOW)
    message = render.approval_message(view(request(), approvals=(approval,), approvals_required=2))
    assert "Approvals so far: *1 of 2* (alice@contoso.example)" in str(message.blocks)


def test_decided_message_has_no_buttons_and_shows_who_when_and_the_grant() -> None:
    decided = request(state=RequestState.APPROVED, decided_at=NOW, decided_by="alice@contoso.example", grant_id=12)
    grant = Grant(12, "customer-x", "g", DAVE, timedelta(hours=4), GrantState.ACTIVE, NOW,
                  starts_at=NOW, ends_at=NOW + timedelta(hours=4))  # fmt: skip
    message = render.approval_message(view(decided, grant=grant))
    assert not [b for b in message.blocks if b["type"] == "actions"]
    texts = str(message.blocks)
    assert "Approved* by alice@contoso.example at 10:00 CET" in texts
    assert "ends at 14:00 CET" in texts
    grant.state, grant.end_reason, grant.ended_at = GrantState.EXPIRED, EndReason.EXPIRED, NOW + timedelta(hours=4)
    assert "ended at 14:00 CET (expired)" in str(render.approval_message(view(decided, grant=grant)).blocks)


def test_denied_message_escapes_the_note() -> None:
    denied = request(state=RequestState.DENIED, decided_at=NOW, decided_by="bob@contoso.example",
                     decision_note="<!everyone> no")  # fmt: skip
    texts = str(render.approval_message(view(denied)).blocks)
    assert "Denied* by bob@contoso.example" in texts and "&lt;!everyone&gt; no" in texts


def test_times_show_the_date_when_not_today() -> None:
    assert blocks.clock(NOW + timedelta(hours=1), PRAGUE, NOW) == "11:00 CET"
    assert blocks.clock(NOW + timedelta(days=1), PRAGUE, NOW) == "Tue 03 Mar 10:00 CET"


def test_dms_carry_their_buttons() -> None:
    grant = Grant(12, "customer-x", "g", DAVE, timedelta(hours=1), GrantState.ACTIVE, NOW,
                  starts_at=NOW, ends_at=NOW + timedelta(hours=1))  # fmt: skip
    granted = render.granted_dm(grant, customer(), PRAGUE, NOW)
    assert "effective now" in granted.text and "11:00 CET" in granted.text
    assert check_blocks(granted.blocks, limit=50) == []
    expiring = render.expiring_dm(grant, customer(), PRAGUE, NOW)
    assert [e["text"]["text"] for e in expiring.blocks[1]["elements"]] == ["Extend"]
    assert check_blocks(expiring.blocks, limit=50) == []


def test_modals_respect_the_view_rules_even_with_many_customers() -> None:
    many = Catalog(customer(f"c{i:03d}", display_name="A very long customer display name " * 3) for i in range(150))
    form = modals.request_form(many, {"channel": "C1"})
    assert check_view(form) == []
    assert len(form["blocks"][0]["element"]["options"]) == blocks.MAX_OPTIONS
    assert check_view(modals.deny_form(request(), customer(), {"request_id": 12})) == []


def test_summary_puts_alerts_first_and_escapes_lines() -> None:
    sections = [
        SummarySection("Active access", ["dave@contoso.example → Customer X until 14:00 <@U1>"]),
        SummarySection("Failed revocations", ["#7 dave: Graph 503"], alert=True),
        SummarySection("Lots", [f"line {i} " + "x" * 100 for i in range(200)]),
    ]
    message = summary_message("Access summary 2026-03-02", sections)
    assert check_blocks(message.blocks, limit=50) == []
    assert (
        "Failed revocations" in message.blocks[1]["text"]["text"]
        and ":rotating_light:" in message.blocks[1]["text"]["text"]
    )
    assert "&lt;@U1&gt;" in str(message.blocks) and "<@U1>" not in str(message.blocks)
    assert message.text.startswith("Access summary") and "ALERT: Failed revocations" in message.text
