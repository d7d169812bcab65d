"""The whole lifecycle through the use cases, on SQLite and the sandbox, with a manual clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import World, build_world, customer
from workflows.errors import (
    DurationOutOfRange,
    InvalidDuration,
    NotAllowed,
    ReasonRequired,
    UnknownCustomer,
)
from workflows.events import (
    ApprovalRecorded,
    GrantActivated,
    GrantEnded,
    GrantExpiringSoon,
    GrantFailed,
    RequestApproved,
    RequestSubmitted,
    RequestTimedOut,
)
from workflows.model import GrantState, RequestKind, RequestState, RevocationStep, Surface


async def test_request_approve_grant_remind_expire(world: World) -> None:
    eve = await world.person("eve")
    alice = await world.person("alice")
    outcome = await world.service.request_access(eve, "CX", "1h", "patching", surface=Surface.SLACK)
    assert outcome.created and outcome.request.state is RequestState.PENDING
    assert outcome.request.customer == "customer-x"
    assert world.notifier.of(RequestSubmitted)

    decision = await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    assert decision.changed and decision.request.state is RequestState.APPROVED
    assert decision.grant is not None and decision.grant.state is GrantState.GRANTING
    assert await world.directory.members("group-customer-x") == set()  # not before the scheduler ran

    world.clock.advance(timedelta(minutes=7))  # the clock starts when the add succeeds, not at approval
    await world.run_due()
    grant = await world.store.get_grant(decision.grant.id)
    assert grant is not None and grant.state is GrantState.ACTIVE
    assert grant.starts_at == world.clock.now()
    assert grant.ends_at == world.clock.now() + timedelta(hours=1)
    assert await world.directory.members("group-customer-x") == {eve.id}
    assert world.notifier.of(GrantActivated)

    world.clock.advance(timedelta(minutes=45))
    await world.run_due()
    assert len(world.notifier.of(GrantExpiringSoon)) == 1
    await world.run_due()
    assert len(world.notifier.of(GrantExpiringSoon)) == 1  # reminded once

    world.clock.advance(timedelta(minutes=15))
    await world.run_due()
    grant = await world.store.get_grant(grant.id)
    assert grant is not None and grant.state is GrantState.EXPIRED
    assert grant.steps_done == frozenset(RevocationStep)
    assert await world.directory.members("group-customer-x") == set()
    assert len(await world.directory.calls("revoke_sign_in_sessions")) == 1
    assert [c["subject"] for c in await world.directory.calls("revoke_user")] == [eve.email]
    assert world.notifier.of(GrantEnded)

    actions = [e.record.action async for e in world.store.audit_events()]
    assert actions == [
        "request.submitted",
        "request.approval_recorded",
        "request.approved",
        "grant.created",
        "grant.activated",
        "grant.reminder_sent",
        "grant.expiring",
        "grant.step_done",
        "grant.step_done",
        "grant.step_done",
        "grant.expired",
    ]


async def test_bad_input_changes_nothing(world: World) -> None:
    eve = await world.person("eve")
    with pytest.raises(UnknownCustomer, match="customer-x"):
        await world.service.request_access(eve, "nope", "1h", "", surface=Surface.SLACK)
    with pytest.raises(InvalidDuration, match="e.g. 30m"):
        await world.service.request_access(eve, "customer-x", "99x", "", surface=Surface.SLACK)
    with pytest.raises(DurationOutOfRange, match="15m to 4h"):
        await world.service.request_access(eve, "customer-x", "5h", "", surface=Surface.SLACK)
    assert await world.store.list_requests() == []
    assert [e async for e in world.store.audit_events()] == []


async def test_reason_required(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    world = build_world(sqlite_engine, [customer(require_reason=True)])
    eve = await world.person("eve")
    with pytest.raises(ReasonRequired):
        await world.service.request_access(eve, "customer-x", "1h", "   ", surface=Surface.SLACK)
    outcome = await world.service.request_access(eve, "customer-x", "1h", "ticket 42", surface=Surface.SLACK)
    assert outcome.created


async def test_self_approval_refused_unless_allowed(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    world = build_world(sqlite_engine, [customer(), customer("customer-y", allow_self_approval=True)])
    alice = await world.person("alice")
    mine = await world.service.request_access(alice, "customer-x", "1h", "", surface=Surface.SLACK)
    with pytest.raises(NotAllowed, match="your own request"):
        await world.service.approve(mine.request.id, alice, surface=Surface.SLACK)
    assert (await world.store.get_request(mine.request.id)).state is RequestState.PENDING
    other = await world.service.request_access(alice, "customer-y", "1h", "", surface=Surface.SLACK)
    assert (await world.service.approve(other.request.id, alice, surface=Surface.SLACK)).changed


async def test_non_approver_refused(world: World) -> None:
    eve, mallory = await world.person("eve"), await world.person("mallory")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    with pytest.raises(NotAllowed, match="only the approvers of Customer X"):
        await world.service.approve(outcome.request.id, mallory, surface=Surface.SLACK)
    with pytest.raises(NotAllowed):
        await world.service.deny(outcome.request.id, mallory, surface=Surface.SLACK)
    assert (await world.store.get_request(outcome.request.id)).state is RequestState.PENDING


async def test_approver_group_member_may_approve(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    world = build_world(sqlite_engine, [customer(approvers=(), approver_group_id="approvers")])
    eve, carol = await world.person("eve"), await world.person("carol")
    await world.directory.nest("approvers", "approvers-emea")
    await world.directory.add_member("approvers-emea", carol.id)
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    assert (await world.service.approve(outcome.request.id, carol, surface=Surface.SLACK)).changed


async def test_double_approval_grants_once(world: World) -> None:
    eve, alice = await world.person("eve"), await world.person("alice")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    first = await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    second = await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    assert first.changed and not second.changed
    assert second.request.state is RequestState.APPROVED
    await world.run_due()
    assert len(await world.store.list_grants()) == 1
    assert len([c for c in await world.directory.calls("add_member")]) == 1


async def test_two_approvals_required(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    world = build_world(sqlite_engine, [customer(approvals_required=2)])
    eve, alice, bob = await world.person("eve"), await world.person("alice"), await world.person("bob")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    first = await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    assert first.changed and first.request.state is RequestState.PENDING and first.waiting_for == 1
    again = await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    assert not again.changed and again.waiting_for == 1
    assert world.notifier.of(ApprovalRecorded)
    final = await world.service.approve(outcome.request.id, bob, surface=Surface.SLACK)
    assert final.request.state is RequestState.APPROVED and final.grant is not None
    assert len(world.notifier.of(RequestApproved)) == 1


async def test_second_request_becomes_extension(world: World) -> None:
    eve, alice = await world.person("eve"), await world.person("alice")
    first = await world.service.request_access(eve, "customer-x", "3h", "", surface=Surface.SLACK)
    await world.service.approve(first.request.id, alice, surface=Surface.SLACK)
    await world.run_due()
    again = await world.service.request_access(eve, "cx", "2h", "more", surface=Surface.SLACK)
    assert again.request.kind is RequestKind.EXTENSION and again.request.grant_id == first.request.id
    assert again.request.duration == timedelta(hours=1) and "capped to 1h" in again.note
    replay = await world.service.request_access(eve, "cx", "2h", "more", surface=Surface.SLACK)
    assert not replay.created and replay.request.id == again.request.id
    grant = await world.store.get_grant(first.request.id)
    ends = grant.ends_at
    await world.service.approve(again.request.id, alice, surface=Surface.SLACK)
    grant = await world.store.get_grant(first.request.id)
    assert grant.ends_at == ends + timedelta(hours=1) and grant.duration == timedelta(hours=4)
    with pytest.raises(DurationOutOfRange, match="already has the maximum"):
        await world.service.extend(grant.id, eve, "30m", "", surface=Surface.SLACK)
    assert len(await world.store.list_grants()) == 1


async def test_early_revoke_by_requester_and_refusal_for_others(world: World) -> None:
    eve, alice, mallory = await world.person("eve"), await world.person("alice"), await world.person("mallory")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    await world.run_due()
    with pytest.raises(NotAllowed, match="belongs to"):
        await world.service.revoke(outcome.request.id, mallory.as_actor(), surface=Surface.SLACK)
    assert (await world.store.get_grant(outcome.request.id)).state is GrantState.ACTIVE
    result = await world.service.revoke(outcome.request.id, eve.as_actor(), surface=Surface.SLACK)
    assert result.changed and result.grant.state is GrantState.REVOKING
    again = await world.service.revoke(outcome.request.id, eve.as_actor(), surface=Surface.SLACK)
    assert not again.changed
    await world.run_due()
    grant = await world.store.get_grant(outcome.request.id)
    assert grant.state is GrantState.REVOKED and grant.ended_by == eve.upn
    assert len(await world.directory.calls("remove_member")) == 1


async def test_pending_timeout_and_approver_reminders(world: World) -> None:
    eve = await world.person("eve")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    created = world.clock.now()
    reminded_at = []
    for minutes in range(1, 121):
        world.clock.set(created + timedelta(minutes=minutes))
        before = len(world.notifier.events)
        await world.run_due()
        if len(world.notifier.events) > before and not world.notifier.of(RequestTimedOut):
            reminded_at.append(minutes)
    assert reminded_at == [15, 30, 60]
    request = await world.store.get_request(outcome.request.id)
    assert request.state is RequestState.TIMED_OUT
    assert len(world.notifier.of(RequestTimedOut)) == 1


async def test_failing_add_retries_then_fails_then_recovers(world: World) -> None:
    world.directory._faults.failures["add_member"] = 4
    eve, alice = await world.person("eve"), await world.person("alice")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    for _ in range(3):  # 3 attempts (FAST.attempts_before_failed) with backoff between them
        await world.run_due()
        world.clock.advance(timedelta(minutes=3))
    grant = await world.store.get_grant(outcome.request.id)
    assert grant.state is GrantState.FAILED and "add_membership" in grant.last_error
    assert len(world.notifier.of(GrantFailed)) == 1
    world.clock.advance(timedelta(minutes=15))
    await world.run_due()  # 4th injected failure: still failed, retried at the slow pace
    assert (await world.store.get_grant(grant.id)).state is GrantState.FAILED
    world.clock.advance(timedelta(minutes=15))
    await world.run_due()
    grant = await world.store.get_grant(grant.id)
    assert grant.state is GrantState.ACTIVE and grant.starts_at == world.clock.now()


async def test_end_access_cancels_a_pending_request_or_revokes_a_grant(world: World) -> None:
    from workflows.errors import AlreadyDecided, NotFound
    from workflows.service import Decision, RevokeOutcome

    eve, alice, mallory = await world.person("eve"), await world.person("alice"), await world.person("mallory")
    pending = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    with pytest.raises(NotFound):
        await world.service.end_access(pending.request.id, mallory, surface=Surface.SLACK)
    withdrawn = await world.service.end_access(pending.request.id, eve, surface=Surface.SLACK)
    assert isinstance(withdrawn, Decision) and withdrawn.request.state is RequestState.CANCELLED
    with pytest.raises(AlreadyDecided, match="already cancelled"):
        await world.service.end_access(pending.request.id, eve, surface=Surface.SLACK)
    granted = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    await world.service.approve(granted.request.id, alice, surface=Surface.SLACK)
    await world.run_due()
    ended = await world.service.end_access(granted.request.id, eve, surface=Surface.SLACK)
    assert isinstance(ended, RevokeOutcome) and ended.grant.state is GrantState.REVOKING
    with pytest.raises(NotFound):
        await world.service.end_access(999, eve, surface=Surface.SLACK)


async def test_access_never_starts_after_its_window(world: World) -> None:
    world.directory._faults.failures["add_member"] = 1000
    eve, alice = await world.person("eve"), await world.person("alice")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    for _ in range(8):  # retries, then failed, then the slow pace, until the hour is over
        await world.run_due()
        world.clock.advance(timedelta(minutes=10))
    grant = await world.store.get_grant(outcome.request.id)
    assert grant.state is GrantState.EXPIRED and grant.starts_at is None
    assert len(await world.directory.calls("remove_member")) == 1  # undoes an add Entra may have half-done
    expiring = [e async for e in world.store.audit_events() if e.record.action == "grant.expiring"]
    assert "never_applied" in expiring[0].record.details


async def test_guest_sessions_step_is_recorded_as_a_known_limitation(world: World) -> None:
    guest, alice = await world.person("guest", guest=True), await world.person("alice")
    outcome = await world.service.request_access(guest, "customer-x", "1h", "", surface=Surface.SLACK)
    await world.service.approve(outcome.request.id, alice, surface=Surface.SLACK)
    await world.run_due()
    await world.service.revoke(outcome.request.id, alice.as_actor(), surface=Surface.SLACK)
    await world.run_due()
    assert (await world.store.get_grant(outcome.request.id)).state is GrantState.REVOKED
    assert await world.directory.calls("revoke_sign_in_sessions") == []
    steps = [e.record.details async for e in world.store.audit_events() if e.record.action == "grant.step_done"]
    assert [d["step"] for d in steps] == ["remove_membership", "revoke_entra_sessions", "revoke_network_sessions"]
    assert "B2B guest" in steps[1]["skipped"]


async def test_requesters_own_deny_withdraws(world: World) -> None:
    eve = await world.person("eve")
    outcome = await world.service.request_access(eve, "customer-x", "1h", "", surface=Surface.SLACK)
    decision = await world.service.deny(outcome.request.id, eve, surface=Surface.SLACK)
    assert decision.request.state is RequestState.CANCELLED
