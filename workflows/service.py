"""The use cases people trigger: request, approve, deny, cancel, revoke, extend, list.

Every use case checks policy before it touches state, changes state in one transaction
(with its audit events), and is idempotent: a replayed or concurrent command returns the
current state instead of acting twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from workflows.context import Deps, audit
from workflows.durations import format_duration, parse_duration
from workflows.errors import (
    AlreadyDecided,
    DurationOutOfRange,
    NotAllowed,
    NotFound,
    UnknownUser,
)
from workflows.events import (
    ApprovalRecorded,
    Event,
    GrantExtended,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestSubmitted,
)
from workflows.model import (
    LIVE_GRANT_STATES,
    AccessRequest,
    Actor,
    ActorKind,
    Approval,
    ChatAddress,
    EndReason,
    Grant,
    GrantCommand,
    GrantState,
    Person,
    RequestCommand,
    RequestKind,
    RequestState,
    Surface,
    reminder_time,
)
from workflows.policy import CustomerPolicy
from workflows.ports import StoreTransaction

MAX_REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What `request_access` / `extend` did. ``created`` is False when an existing request was returned."""

    request: AccessRequest
    created: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What approve/deny/cancel did. ``changed`` is False for a replay (the state is as it was)."""

    request: AccessRequest
    changed: bool
    approvals: tuple[Approval, ...] = ()
    required: int = 1
    grant: Grant | None = None

    @property
    def waiting_for(self) -> int:
        return max(0, self.required - len(self.approvals))


@dataclass(frozen=True, slots=True)
class RevokeOutcome:
    grant: Grant
    changed: bool


@dataclass(frozen=True, slots=True)
class Mine:
    """A user's open requests and live grants, for `/access list`."""

    requests: list[AccessRequest]
    grants: list[Grant]


class AccessService:
    """The use cases behind every chat command and operator tool."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    @property
    def deps(self) -> Deps:
        return self._deps

    # ---- identities -------------------------------------------------------------------

    async def resolve_person(self, identifier: str) -> Person:
        """The directory user for an e-mail, UPN or object id; `UnknownUser` if there is none."""
        person = await self._deps.directory.resolve_user(identifier)
        if person is None:
            raise UnknownUser(
                f"no directory account matches {identifier!r}; ask IT to link your chat account to your work account"
            )
        return person

    async def is_approver(self, policy: CustomerPolicy, person: Person) -> bool:
        """Listed by UPN, or a (transitive) member of the customer's approver group."""
        if policy.is_listed_approver(person):
            return True
        if policy.approver_group_id:
            return await self._deps.directory.is_member(person.id, policy.approver_group_id)
        return False

    async def _require_approver(self, policy: CustomerPolicy, person: Person) -> None:
        if not await self.is_approver(policy, person):
            who = ", ".join(policy.approvers) or "nobody by name"
            group = " or members of its approver group" if policy.approver_group_id else ""
            raise NotAllowed(f"only the approvers of {policy.display_name} can decide this ({who}{group})")

    # ---- queries ----------------------------------------------------------------------

    async def mine(self, person: Person) -> Mine:
        store = self._deps.store
        requests = await store.list_requests(user_id=person.id, states=[RequestState.PENDING])
        grants = await store.list_grants(user_id=person.id, states=sorted(LIVE_GRANT_STATES))
        return Mine(requests, grants)

    async def get_request(self, request_id: int) -> AccessRequest:
        request = await self._deps.store.get_request(request_id)
        if request is None:
            raise NotFound(f"there is no request #{request_id}")
        return request

    # ---- request / extend -------------------------------------------------------------

    async def request_access(
        self,
        requester: Person,
        customer: str,
        duration: str | None,
        reason: str,
        *,
        surface: Surface,
        origin: ChatAddress | None = None,
    ) -> RequestOutcome:
        """Ask for access. A second request while access is live becomes an extension request."""
        policy = self._deps.catalog.find(customer)
        reason = _clean_reason(reason)
        policy.check_reason(reason)
        wanted = parse_duration(duration) if duration else policy.default_duration

        async def work(tx: StoreTransaction) -> tuple[RequestOutcome, list[Event]]:
            pending = await tx.find_pending_request(requester.id, policy.key)
            if pending is not None:
                note = f"you already have request #{pending.id} waiting for {policy.display_name}'s approvers"
                return RequestOutcome(pending, created=False, note=note), []
            live = await tx.find_live_grant(requester.id, policy.key)
            if live is not None:
                return await self._new_extension(tx, policy, live, wanted, reason, surface, origin)
            policy.check_duration(wanted)
            return await self._new_request(
                tx, policy, requester, RequestKind.ACCESS, wanted, reason, surface, origin, None
            )

        outcome, _ = await self._submit(work)
        return outcome

    async def extend(
        self,
        grant_id: int,
        requester: Person,
        duration: str,
        reason: str,
        *,
        surface: Surface,
        origin: ChatAddress | None = None,
    ) -> RequestOutcome:
        """Ask for more time on one of my grants; it needs approval like a request."""
        grant = await self._deps.store.get_grant(grant_id)
        if grant is None or grant.person.id != requester.id:
            raise NotFound(f"you have no access #{grant_id}; `/access list` shows yours")
        policy = self._deps.catalog.get(grant.customer)
        reason = _clean_reason(reason)
        policy.check_reason(reason)
        wanted = parse_duration(duration)

        async def work(tx: StoreTransaction) -> tuple[RequestOutcome, list[Event]]:
            pending = await tx.find_pending_request(requester.id, policy.key)
            if pending is not None:
                note = f"request #{pending.id} for {policy.display_name} is already waiting for approval"
                return RequestOutcome(pending, created=False, note=note), []
            live = await tx.get_grant(grant_id, lock=False)
            if live is None or live.state not in LIVE_GRANT_STATES:
                raise NotAllowed(f"access #{grant_id} has ended; request new access instead")
            return await self._new_extension(tx, policy, live, wanted, reason, surface, origin)

        outcome, _ = await self._submit(work)
        return outcome

    async def _submit(
        self, work: Callable[[StoreTransaction], Awaitable[tuple[RequestOutcome, list[Event]]]]
    ) -> tuple[RequestOutcome, list[Event]]:
        outcome, events = await self._deps.atomically(work)
        await self._deps.publish(events)
        return outcome, events

    async def _new_extension(
        self,
        tx: StoreTransaction,
        policy: CustomerPolicy,
        grant: Grant,
        wanted: timedelta,
        reason: str,
        surface: Surface,
        origin: ChatAddress | None,
    ) -> tuple[RequestOutcome, list[Event]]:
        if grant.ending or grant.state is GrantState.REVOKING:
            raise NotAllowed(f"your access #{grant.id} to {policy.display_name} is ending; ask again once it ended")
        room = policy.max_duration - grant.duration
        if room <= timedelta(0):
            raise DurationOutOfRange(
                f"access #{grant.id} already has the maximum {format_duration(policy.max_duration)} "
                f"that {policy.display_name} allows"
            )
        granted = min(wanted, room)
        outcome, events = await self._new_request(
            tx, policy, grant.person, RequestKind.EXTENSION, granted, reason, surface, origin, grant.id
        )
        if granted < wanted:
            note = (
                f"capped to {format_duration(granted)}: {policy.display_name} allows "
                f"{format_duration(policy.max_duration)} in total"
            )
            outcome = RequestOutcome(outcome.request, outcome.created, note)
        return outcome, events

    async def _new_request(
        self,
        tx: StoreTransaction,
        policy: CustomerPolicy,
        requester: Person,
        kind: RequestKind,
        duration: timedelta,
        reason: str,
        surface: Surface,
        origin: ChatAddress | None,
        grant_id: int | None,
    ) -> tuple[RequestOutcome, list[Event]]:
        now = self._deps.clock.now()
        request = AccessRequest(
            id=None,
            kind=kind,
            customer=policy.key,
            requester=requester,
            duration=duration,
            reason=reason,
            state=RequestState.PENDING,
            created_at=now,
            timeout_at=now + policy.pending_timeout,
            origin=origin,
            grant_id=grant_id,
            next_reminder_at=now + self._deps.tunables.approver_reminder_first,
        )
        request = await tx.add_request(request)
        audit(
            tx, self._deps, actor=requester.as_actor(), surface=surface, action="request.submitted",
            request=request, to_state=request.state, kind=kind.value, duration=format_duration(duration),
            reason=reason,
        )  # fmt: skip
        return RequestOutcome(request, created=True), [RequestSubmitted(request)]

    # ---- decisions --------------------------------------------------------------------

    async def approve(self, request_id: int, approver: Person, *, surface: Surface) -> Decision:
        """Record an approval; the last one needed approves the request and starts the grant."""
        request = await self.get_request(request_id)
        policy = self._deps.catalog.get(request.customer)
        await self._require_approver(policy, approver)
        policy.check_not_self(approver, request.requester)
        now = self._deps.clock.now()
        actor = approver.as_actor()

        async def work(tx: StoreTransaction) -> tuple[Decision, list[Event]]:
            current = await _locked_request(tx, request_id)
            approvals = tuple(await tx.approvals(request_id))
            if current.state is not RequestState.PENDING:
                return Decision(current, False, approvals, policy.approvals_required), []
            if not await tx.add_approval(Approval(request_id, approver, now)):
                return Decision(current, False, approvals, policy.approvals_required), []
            approvals = tuple(await tx.approvals(request_id))
            audit(
                tx, self._deps, actor=actor, surface=surface, action="request.approval_recorded", request=current,
                approvals=len(approvals), required=policy.approvals_required,
            )  # fmt: skip
            if len(approvals) < policy.approvals_required:
                await tx.save_request(current)  # bump the version: the approval count changed
                event = ApprovalRecorded(current, approvals, policy.approvals_required)
                return Decision(current, True, approvals, policy.approvals_required), [event]
            return await self._finalize_approval(tx, policy, current, approvals, actor, surface)

        decision, events = await self._deps.atomically(work)
        await self._deps.publish(events)
        if decision.grant is not None and decision.grant.state is GrantState.GRANTING:
            self._deps.wake()
        return decision

    async def _finalize_approval(
        self,
        tx: StoreTransaction,
        policy: CustomerPolicy,
        request: AccessRequest,
        approvals: tuple[Approval, ...],
        actor: Actor,
        surface: Surface,
    ) -> tuple[Decision, list[Event]]:
        now = self._deps.clock.now()
        approvers = tuple(a.approver.upn for a in approvals)
        if request.kind is RequestKind.EXTENSION:
            assert request.grant_id is not None
            grant = await tx.get_grant(request.grant_id)
            if grant is None or grant.state not in LIVE_GRANT_STATES or grant.ending:
                previous = request.transition(RequestCommand.CANCEL)
                request.decided_at, request.decided_by = now, actor.name
                request.decision_note = f"access #{request.grant_id} ended before the extension was approved"
                await tx.save_request(request)
                audit(
                    tx, self._deps, actor=actor, surface=surface, action="request.cancelled", request=request,
                    from_state=previous, to_state=request.state, note=request.decision_note,
                )  # fmt: skip
                return Decision(request, True, approvals, policy.approvals_required), [RequestCancelled(request)]
            previous = request.transition(RequestCommand.APPROVE)
            request.decided_at, request.decided_by = now, actor.name
            await tx.save_request(request)
            audit(
                tx, self._deps, actor=actor, surface=surface, action="request.approved", request=request,
                from_state=previous, to_state=request.state, approvers=list(approvers),
            )  # fmt: skip
            added = min(request.duration, policy.max_duration - grant.duration)
            grant.duration += added
            if grant.ends_at is not None:  # active: the clock is running, move the end
                grant.ends_at += added
                grant.remind_at = reminder_time(grant.starts_at, grant.ends_at, self._deps.tunables.reminder_before_end)
                grant.reminded = False
            await tx.save_grant(grant)
            audit(
                tx, self._deps, actor=actor, surface=surface, action="grant.extended", grant=grant,
                added=format_duration(added), total=format_duration(grant.duration),
                ends_at=grant.ends_at.isoformat() if grant.ends_at else None, request_id=request.id,
            )  # fmt: skip
            events: list[Event] = [RequestApproved(request, approvals), GrantExtended(grant, request)]
            return Decision(request, True, approvals, policy.approvals_required, grant), events

        previous = request.transition(RequestCommand.APPROVE)
        request.decided_at, request.decided_by = now, actor.name
        assert request.id is not None
        request.grant_id = request.id
        await tx.save_request(request)
        audit(
            tx, self._deps, actor=actor, surface=surface, action="request.approved", request=request,
            from_state=previous, to_state=request.state, approvers=list(approvers),
        )  # fmt: skip
        grant = Grant(
            id=request.id,
            customer=policy.key,
            group_id=policy.group_id,
            person=request.requester,
            duration=request.duration,
            state=GrantState.GRANTING,
            created_at=now,
            approved_by=approvers,
            retry_at=now,
            origin=request.origin,
        )
        grant = await tx.add_grant(grant)
        audit(
            tx, self._deps, actor=actor, surface=surface, action="grant.created", grant=grant,
            to_state=grant.state, group_id=policy.group_id, duration=format_duration(grant.duration),
        )  # fmt: skip
        return Decision(request, True, approvals, policy.approvals_required, grant), [
            RequestApproved(request, approvals)
        ]

    async def deny(self, request_id: int, approver: Person, *, surface: Surface, note: str = "") -> Decision:
        """An approver says no. Replays return the decided request unchanged."""
        request = await self.get_request(request_id)
        if approver.id == request.requester.id:  # a requester's own "Deny" withdraws the request
            return await self.cancel(request_id, approver, surface=surface)
        await self._require_approver(self._deps.catalog.get(request.customer), approver)
        return await self._close(request_id, RequestCommand.DENY, approver.as_actor(), surface, _clean_reason(note))

    async def cancel(self, request_id: int, person: Person, *, surface: Surface) -> Decision:
        """The requester withdraws a pending request."""
        request = await self.get_request(request_id)
        if request.requester.id != person.id:
            raise NotAllowed(f"request #{request_id} is not yours to cancel")
        return await self._close(request_id, RequestCommand.CANCEL, person.as_actor(), surface, "")

    async def _close(
        self, request_id: int, command: RequestCommand, actor: Actor, surface: Surface, note: str
    ) -> Decision:
        policy_required = 1

        async def work(tx: StoreTransaction) -> tuple[Decision, list[Event]]:
            current = await _locked_request(tx, request_id)
            approvals = tuple(await tx.approvals(request_id))
            if current.state is not RequestState.PENDING:
                return Decision(current, False, approvals, policy_required), []
            previous = current.transition(command)
            current.decided_at, current.decided_by = self._deps.clock.now(), actor.name
            current.decision_note = note
            await tx.save_request(current)
            action = "request.denied" if command is RequestCommand.DENY else "request.cancelled"
            audit(
                tx, self._deps, actor=actor, surface=surface, action=action, request=current,
                from_state=previous, to_state=current.state, note=note,
            )  # fmt: skip
            event: Event = RequestDenied(current) if command is RequestCommand.DENY else RequestCancelled(current)
            return Decision(current, True, approvals, policy_required), [event]

        decision, events = await self._deps.atomically(work)
        await self._deps.publish(events)
        return decision

    # ---- ending early -----------------------------------------------------------------

    async def revoke(self, grant_id: int, actor: Actor, *, surface: Surface, reason: str = "") -> RevokeOutcome:
        """End a grant now: the requester, an approver of the customer, or an operator may."""
        grant = await self._deps.store.get_grant(grant_id)
        if grant is None:
            raise NotFound(f"there is no access #{grant_id}")
        policy = self._deps.catalog.get(grant.customer)
        if actor.kind is ActorKind.USER and actor.id != grant.person.id:
            approver = await self._deps.directory.resolve_user(actor.id)
            if approver is None or not await self.is_approver(policy, approver):
                raise NotAllowed(
                    f"access #{grant_id} belongs to {grant.person.label}; only they, an approver of "
                    f"{policy.display_name} or an operator can end it"
                )
        outcome = await self.end_grant(grant_id, actor, surface=surface, reason=reason)
        return outcome

    async def end_grant(self, grant_id: int, actor: Actor, *, surface: Surface, reason: str = "") -> RevokeOutcome:
        """Mark a live grant as ending (revoked early); the scheduler runs the revocation sequence."""

        async def work(tx: StoreTransaction) -> RevokeOutcome:
            grant = await tx.get_grant(grant_id)
            if grant is None:
                raise NotFound(f"there is no access #{grant_id}")
            if grant.state not in LIVE_GRANT_STATES or grant.ending:
                return RevokeOutcome(grant, changed=False)
            previous = grant.state
            if grant.state is not GrantState.FAILED:
                grant.transition(GrantCommand.END)
            grant.end_reason, grant.ended_by = EndReason.REVOKED, actor.name
            grant.attempts, grant.retry_at, grant.last_error = 0, self._deps.clock.now(), ""
            await tx.save_grant(grant)
            audit(
                tx, self._deps, actor=actor, surface=surface, action="grant.revoke_requested", grant=grant,
                from_state=previous, to_state=grant.state, reason=_clean_reason(reason),
            )  # fmt: skip
            return RevokeOutcome(grant, changed=True)

        outcome = await self._deps.atomically(work)
        if outcome.changed:
            self._deps.wake()
        return outcome

    async def end_access(self, number: int, person: Person, *, surface: Surface) -> RevokeOutcome | Decision:
        """`/access revoke <n>`: end my grant #n early, or withdraw my pending request #n."""
        grant = await self._deps.store.get_grant(number)
        if grant is not None:
            return await self.revoke(number, person.as_actor(), surface=surface)
        request = await self._deps.store.get_request(number)
        if request is None or request.requester.id != person.id:
            raise NotFound(f"you have no request or access #{number}; `/access list` shows yours")
        if request.state is not RequestState.PENDING:
            raise AlreadyDecided(f"request #{number} is already {request.state.value.replace('_', ' ')}")
        return await self.cancel(number, person, surface=surface)

    async def revoke_customer(self, customer: str, actor: Actor, *, surface: Surface, reason: str) -> list[Grant]:
        """Emergency: mark every live grant of a customer as ending. Returns the grants marked."""
        policy = self._deps.catalog.find(customer)
        live = await self._deps.store.list_grants(customer=policy.key, states=sorted(LIVE_GRANT_STATES))
        marked: list[Grant] = []
        for grant in live:
            outcome = await self.end_grant(grant.id, actor, surface=surface, reason=reason)
            if outcome.changed:
                marked.append(outcome.grant)
        return marked


async def _locked_request(tx: StoreTransaction, request_id: int) -> AccessRequest:
    request = await tx.get_request(request_id, lock=True)
    if request is None:
        raise NotFound(f"there is no request #{request_id}")
    return request


def _clean_reason(text: str) -> str:
    """Trim and bound free text; rendering (escaping) is each front end's job."""
    cleaned = " ".join(text.split())
    return cleaned[:MAX_REASON_LENGTH]


__all__ = ["AccessService", "AlreadyDecided", "Decision", "Mine", "RequestOutcome", "RevokeOutcome", "Sequence"]
