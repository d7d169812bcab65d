"""The rest of the workflow's events, rendered in Teams (in-process, emulator mode): approver
reminders and timeouts, approvals counted so far, extensions, withdrawals, failure alerts, and
the daily summary."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.fakes.connector_server import FakeConnectorServer
from tests.teams.harness import APPROVALS, CONFIG, Harness, actions, card_text, running
from tests.teams.test_cards import assert_valid_card
from workflows.events import GrantFailed
from workflows.model import Grant, GrantState
from workflows.ports import SummarySection

QUICK_TIMEOUT = (
    CONFIG.replace(
        'approvers = ["alice@contoso.example"]\n',
        'approvers = ["alice@contoso.example"]\npending_timeout = "3s"\n',
        1,
    )
    + '\n[scheduler]\napprover_reminder_first = "1s"\n'
)


async def _approve(h: Harness, request_id: int, approver: str = "alice") -> dict:  # type: ignore[type-arg]
    card = await h.connector.wait_for(
        lambda c: c.conversation_id.startswith(APPROVALS) and f"#{request_id}" in card_text(c.card)
        and "Approve" in actions(c.card)
    )  # fmt: skip
    user = getattr(h, approver)
    status, body = await h.post(
        h.tenant.invoke(user, card.conversation_id, card.activity_id, "approve", {"request_id": request_id})
    )
    assert status == 200
    return body["value"]  # type: ignore[no-any-return]


async def test_reminders_then_timeout_update_every_card_and_tell_the_requester(
    tmp_path: Path, emulator_connector: FakeConnectorServer
) -> None:
    async with running(tmp_path, emulator_connector, QUICK_TIMEOUT) as h:
        await h.say("access customer-x 1h")
        reminder = await h.connector.wait_for(lambda c: "Reminder:" in card_text(c.card))
        assert reminder.conversation_id.startswith(APPROVALS)
        assert set(actions(reminder.card)) == {"Approve", "Deny"}
        assert_valid_card(reminder.card or {})
        told = await h.connector.wait_for(
            lambda c: c.conversation_id == h.eve_chat and "timed out" in card_text(c.card), timeout=30
        )
        assert "Customer X" in card_text(told.card)
        updated = await h.connector.wait_for(
            lambda c: c.kind == "update" and c.activity_id == reminder.activity_id and "Timed out" in card_text(c.card)
        )
        assert "actions" not in (updated.card or {})
        first = h.connector.find("create")[0]
        assert any(c.activity_id == first.activity_id and "Timed out" in card_text(c.card)
                   for c in h.connector.find("update"))  # fmt: skip


async def test_two_approvals_are_counted_on_the_card(tmp_path: Path, emulator_connector: FakeConnectorServer) -> None:
    async with running(tmp_path, emulator_connector) as h:
        await h.say("access customer-y 1h two people")
        first = await _approve(h, 1, "alice")
        assert "Approvals so far: 1 of 2 (alice@contoso.example)" in card_text(first)
        assert set(actions(first)) == {"Approve", "Deny"}
        await h.connector.wait_for(lambda c: c.kind == "update" and "Approvals so far: 1 of 2" in card_text(c.card))
        second = await _approve(h, 1, "bob")
        assert "Approved by bob@contoso.example" in card_text(second) and "actions" not in second
        await h.connector.wait_for(lambda c: c.conversation_id == h.eve_chat and "is active" in card_text(c.card))


async def test_extension_and_withdrawal(tmp_path: Path, emulator_connector: FakeConnectorServer) -> None:
    async with running(tmp_path, emulator_connector) as h:
        await h.say("access customer-x 1h")
        await _approve(h, 1)
        await h.connector.wait_for(lambda c: c.conversation_id == h.eve_chat and "is active" in card_text(c.card))
        asked = await h.say("access extend 1 30m overrun")
        assert "Request #2" in asked.text and "30m more on access #1" in asked.text
        await _approve(h, 2)
        extended = await h.connector.wait_for(lambda c: "Access #1 extended" in card_text(c.card))
        assert extended.conversation_id == h.eve_chat and "30m more" in card_text(extended.card)
        grant = await h.runtime.store.get_grant(1)
        assert grant is not None and grant.duration == timedelta(hours=1, minutes=30)

        await h.say("access customer-y 1h")  # request #3, then withdrawn by eve
        posted = await h.connector.wait_for(lambda c: "#3" in card_text(c.card) and "Approve" in actions(c.card))
        withdrawn = await h.say("access revoke 3")
        assert withdrawn.text == "Request #3 withdrawn."
        update = await h.connector.wait_for(lambda c: c.kind == "update" and c.activity_id == posted.activity_id)
        assert "Cancelled by eve@contoso.example" in card_text(update.card)


async def test_a_failed_grant_is_an_alert_in_the_approval_conversation(
    tmp_path: Path, emulator_connector: FakeConnectorServer
) -> None:
    async with running(tmp_path, emulator_connector) as h:
        await h.say("access help")  # the bot learns the tenant's service URL
        person = await h.runtime.service.resolve_person(h.eve.aad_object_id)
        now = datetime.now(UTC)
        grant = Grant(id=9, customer="customer-x", group_id="g", person=person, duration=timedelta(hours=1),
                      state=GrantState.FAILED, created_at=now, last_error="add_member: Graph said 503")  # fmt: skip
        await h.runtime.notifier.publish(GrantFailed(grant, grant.last_error))
        alert = await h.connector.wait_for(lambda c: "Alert" in card_text(c.card))
        assert alert.conversation_id.startswith(APPROVALS)
        assert "Graph said 503" in card_text(alert.card) and "eve@contoso.example" in card_text(alert.card)


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_summary_goes_out_with_the_chart_and_without_it_when_the_chart_fails(
    tmp_path: Path, emulator_connector: FakeConnectorServer
) -> None:
    async with running(tmp_path, emulator_connector) as h:
        await h.say("access help")
        poster = h.runtime.summary_posters["teams"]
        assert poster.surface == "teams"
        sections = [SummarySection("Active access", ["#1 eve -> Customer X"]), SummarySection("Failed", ["#2"], True)]
        chart = _png()
        await poster.post_summary(APPROVALS, "Access summary", sections, chart)
        posted = h.connector.calls[-1]
        assert_valid_card(posted.card or {})
        images = [b for b in (posted.card or {})["body"] if b["type"] == "Image"]
        assert images[0]["url"] == "data:image/png;base64," + base64.b64encode(chart).decode()
        text = card_text(posted.card)
        assert text.index("Failed") < text.index("Active access")  # alerts first

        # the connector refuses the card with the image: the text still goes out
        h.connector.faults.push(400, times=1)
        before = len(h.connector.calls)
        await poster.post_summary(APPROVALS, "Access summary", sections, chart)
        assert len(h.connector.calls) == before + 1
        fallback = h.connector.calls[-1]
        assert "#1 eve -> Customer X" in card_text(fallback.card)
        assert not [b for b in (fallback.card or {})["body"] if b["type"] == "Image"]
