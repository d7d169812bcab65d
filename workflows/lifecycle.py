"""The work the scheduler does: apply grants, expire them, run the revocation sequence,
remind, and time out pending requests.

Revocation is a recorded sequence (remove membership, revoke Entra sessions, revoke
network sessions). Each step is recorded when it succeeds, so a process killed half-way
leaves a grant whose remaining steps the next claimer finishes. Steps of many grants are
done together (one bulk directory call per step) so a wave of expiries stays cheap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from workflows.context import Deps, audit
from workflows.errors import DirectoryError, SessionRevocationError
from workflows.events import (
    ApproversReminded,
    Event,
    GrantActivated,
    GrantEnded,
    GrantExpiringSoon,
    GrantFailed,
    RequestTimedOut,
)
from workflows.model import (
    AccessRequest,
    Actor,
    EndReason,
    Grant,
    GrantCommand,
    GrantState,
    RequestCommand,
    RequestState,
    RevocationStep,
    Surface,
    reminder_time,
)
from workflows.policy import retry_delay
from workflows.ports import BulkResult, MembershipChange, StoreTransaction

log = logging.getLogger("accessbot.lifecycle")

GUEST_SKIP = "B2B guest: revokeSignInSessions does not apply to external users (known limitation)"
NETWORK_SKIP = "Cloudflare is not configured: no Zero Trust sessions to revoke"


class Lifecycle:
    """Scheduler-driven transitions. Every method is safe to run again on the same item."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._actor = Actor.system()
        self._surface = Surface.SCHEDULER

    # ---- grants -----------------------------------------------------------------------

    async def process_grants(self, grants: Iterable[Grant]) -> None:
        """Do whatever is due for each of these (leased) grants."""
        now = self._deps.clock.now()
        to_apply: list[Grant] = []
        to_end: list[int] = []
        to_revoke: list[Grant] = []
        for grant in grants:
            if grant.state is GrantState.GRANTING or (grant.state is GrantState.FAILED and not grant.ending):
                # Access must never start after its window: a grant that could not be applied
                # for its whole duration is ended instead (its removal also undoes a partial add).
                if now >= grant.created_at + grant.duration:
                    to_end.append(grant.id)
                else:
                    to_apply.append(grant)
            elif grant.state is GrantState.ACTIVE and grant.ends_at is not None and grant.ends_at <= now:
                to_end.append(grant.id)
            elif grant.state is GrantState.ACTIVE:
                await self._remind(grant.id)
            elif grant.state is GrantState.REVOKING or (grant.state is GrantState.FAILED and grant.ending):
                to_revoke.append(grant)
        await self._bounded(self._apply, to_apply)
        to_revoke.extend(await self._begin_expiries(to_end))
        if to_revoke:
            await self.revoke_many(to_revoke)

    async def _bounded(self, work: Callable[[Grant], Awaitable[None]], grants: list[Grant]) -> None:
        limit = asyncio.Semaphore(self._deps.tunables.concurrency)

        async def one(grant: Grant) -> None:
            async with limit:
                try:
                    await work(grant)
                except Exception:  # one grant's bug must not stop the others; it stays due
                    log.exception("grant #%s: unexpected error", grant.id)

        await asyncio.gather(*(one(g) for g in grants))

    async def _apply(self, grant: Grant) -> None:
        try:
            await self._deps.directory.add_member(grant.group_id, grant.person.id)
        except DirectoryError as error:
            await self._attempt_failed(grant.id, "add_membership", error, transient=error.transient)
            return

        async def work(tx: StoreTransaction) -> list[Event]:
            current = await tx.get_grant(grant.id)
            if current is None or current.ending or current.state not in (GrantState.GRANTING, GrantState.FAILED):
                return []  # ended meanwhile: its revocation removes the membership again
            previous = current.transition(GrantCommand.ACTIVATE)
            now = self._deps.clock.now()
            current.starts_at = now
            current.ends_at = now + current.duration
            current.remind_at = reminder_time(now, current.ends_at, self._deps.tunables.reminder_before_end)
            current.reminded = False
            current.attempts, current.retry_at, current.last_error = 0, None, ""
            await tx.save_grant(current)
            audit(
                tx, self._deps, actor=self._actor, surface=self._surface, action="grant.activated", grant=current,
                from_state=previous, to_state=current.state, group_id=current.group_id,
                ends_at=current.ends_at.isoformat(),
            )  # fmt: skip
            return [GrantActivated(current.copy())]

        await self._deps.publish_soon(await self._deps.atomically(work))

    async def _begin_expiries(self, grant_ids: list[int]) -> list[Grant]:
        """Mark grants whose time is up as ending (one transaction); returns those now ending."""
        if not grant_ids:
            return []

        async def work(tx: StoreTransaction) -> list[Grant]:
            now = self._deps.clock.now()
            ending: list[Grant] = []
            note: dict[str, Any]
            for grant_id in sorted(grant_ids):
                current = await tx.get_grant(grant_id)
                if current is None or current.ending:
                    continue
                if current.state is GrantState.ACTIVE and current.ends_at is not None and current.ends_at <= now:
                    note = {"ends_at": current.ends_at.isoformat()}
                elif current.state in (GrantState.GRANTING, GrantState.FAILED) and (
                    now >= current.created_at + current.duration
                ):
                    note = {"never_applied": "the membership could not be added within the granted time"}
                else:
                    continue  # extended or activated meanwhile
                previous = current.transition(GrantCommand.END)
                current.end_reason, current.ended_by = EndReason.EXPIRED, self._actor.name
                current.retry_at, current.attempts = now, 0
                await tx.save_grant(current)
                audit(
                    tx, self._deps, actor=self._actor, surface=self._surface, action="grant.expiring",
                    grant=current, from_state=previous, to_state=current.state, **note,
                )  # fmt: skip
                ending.append(current)
            return ending

        return await self._deps.atomically(work)

    async def _remind(self, grant_id: int) -> None:
        async def work(tx: StoreTransaction) -> list[Event]:
            current = await tx.get_grant(grant_id)
            now = self._deps.clock.now()
            if current is None or current.state is not GrantState.ACTIVE or current.reminded:
                return []
            if current.remind_at is None or current.remind_at > now:
                return []
            current.reminded = True
            await tx.save_grant(current)
            audit(
                tx, self._deps, actor=self._actor, surface=self._surface, action="grant.reminder_sent",
                grant=current, ends_at=current.ends_at.isoformat() if current.ends_at else None,
            )  # fmt: skip
            return [GrantExpiringSoon(current.copy())]

        await self._deps.publish_soon(await self._deps.atomically(work))

    # ---- the revocation sequence ------------------------------------------------------

    async def revoke_many(self, grants: list[Grant]) -> None:
        """Run the remaining revocation steps of these grants: one bulk call and one transaction per step."""
        live: dict[int, Grant] = {g.id: g for g in grants}
        directory = self._deps.directory

        # 1. memberships, in one bulk call (Graph $batch, 20 per request)
        todo = _needing(live, RevocationStep.REMOVE_MEMBERSHIP)
        if todo:
            failures = await self._bulk(
                directory.remove_members, [MembershipChange(g.group_id, g.person.id) for g in todo]
            )
            errors = {g.id: failures.get(f"{g.group_id}:{g.person.id}") or failures.get("*") for g in todo}
            await self._settle(live, todo, RevocationStep.REMOVE_MEMBERSHIP, errors, {})

        # 2. Entra sessions, in one bulk call; guests are skipped and the limitation recorded
        todo = _needing(live, RevocationStep.REVOKE_ENTRA_SESSIONS)
        guests = {g.id: GUEST_SKIP for g in todo if g.person.is_guest}
        members = sorted({g.person.id for g in todo if not g.person.is_guest})
        failures = await self._bulk(directory.revoke_sign_in_sessions_many, members) if members else {}
        errors = {
            g.id: None if g.id in guests else failures.get(g.person.id) or failures.get("*") for g in todo
        }
        await self._settle(live, todo, RevocationStep.REVOKE_ENTRA_SESSIONS, errors, guests)

        # 3. Zero Trust sessions: Cloudflare has no bulk call, so bounded parallel calls
        todo = _needing(live, RevocationStep.REVOKE_NETWORK_SESSIONS)
        if todo and not self._deps.network.enabled:
            await self._settle(
                live, todo, RevocationStep.REVOKE_NETWORK_SESSIONS, {}, {g.id: NETWORK_SKIP for g in todo}
            )
        elif todo:
            network_errors: dict[int, str | None] = {}
            permanent: set[int] = set()

            async def revoke_one(grant: Grant) -> None:
                try:
                    await self._deps.network.revoke_user(grant.person.email)
                    network_errors[grant.id] = None
                except SessionRevocationError as error:
                    network_errors[grant.id] = str(error)
                    if not error.transient:
                        permanent.add(grant.id)

            await self._bounded(revoke_one, todo)
            await self._settle(
                live, todo, RevocationStep.REVOKE_NETWORK_SESSIONS, network_errors, {}, permanent=permanent
            )

        # 4. done: expired or revoked
        await self._complete([g.id for g in live.values() if not g.remaining_steps()])

    async def _bulk(self, call: Callable[[Any], Awaitable[BulkResult]], items: Any) -> dict[str, str]:
        try:
            result = await call(items)
        except DirectoryError as error:
            return {"*": _describe(error)}
        return dict(result.failed)

    async def _settle(
        self,
        live: dict[int, Grant],
        todo: list[Grant],
        step: RevocationStep,
        errors: dict[int, str | None],
        skipped: dict[int, str],
        *,
        permanent: set[int] | None = None,
    ) -> None:
        """Record a step's outcome: failures back off one by one, successes are recorded together."""
        done: list[int] = []
        for grant in todo:
            error = errors.get(grant.id)
            if error is None and (grant.id in errors or grant.id in skipped):
                done.append(grant.id)
                continue
            live.pop(grant.id, None)
            message = error or "no outcome reported"
            await self._attempt_failed(grant.id, step.value, message, transient=grant.id not in (permanent or set()))
        recorded = await self._record_steps(done, step, skipped)
        for grant_id in done:
            if grant_id in recorded:
                live[grant_id] = recorded[grant_id]
            else:
                live.pop(grant_id, None)  # ended or changed by someone else meanwhile

    async def _record_steps(
        self, grant_ids: list[int], step: RevocationStep, skipped: dict[int, str]
    ) -> dict[int, Grant]:
        if not grant_ids:
            return {}

        async def work(tx: StoreTransaction) -> dict[int, Grant]:
            recorded: dict[int, Grant] = {}
            for grant_id in sorted(grant_ids):
                current = await tx.get_grant(grant_id)
                if current is None or not current.ending:
                    continue
                if current.state not in (GrantState.REVOKING, GrantState.FAILED):
                    continue
                if step not in current.steps_done:
                    current.steps_done = current.steps_done | {step}
                    current.attempts = 0
                    await tx.save_grant(current)
                    details: dict[str, Any] = {"step": step.value}
                    if grant_id in skipped:
                        details["skipped"] = skipped[grant_id]
                    audit(
                        tx, self._deps, actor=self._actor, surface=self._surface, action="grant.step_done",
                        grant=current, **details,
                    )  # fmt: skip
                recorded[grant_id] = current
            return recorded

        return await self._deps.atomically(work)

    async def _complete(self, grant_ids: list[int]) -> None:
        if not grant_ids:
            return

        async def work(tx: StoreTransaction) -> list[Event]:
            events: list[Event] = []
            for grant_id in sorted(grant_ids):
                current = await tx.get_grant(grant_id)
                if current is None or not current.ending or current.remaining_steps():
                    continue
                if current.state not in (GrantState.REVOKING, GrantState.FAILED):
                    continue
                expired = current.end_reason is EndReason.EXPIRED
                command = GrantCommand.COMPLETE_EXPIRY if expired else GrantCommand.COMPLETE_REVOCATION
                previous = current.transition(command)
                current.ended_at = self._deps.clock.now()
                current.attempts, current.retry_at, current.last_error = 0, None, ""
                await tx.save_grant(current)
                audit(
                    tx, self._deps, actor=self._actor, surface=self._surface, action=f"grant.{current.state.value}",
                    grant=current, from_state=previous, to_state=current.state, ended_by=current.ended_by,
                )  # fmt: skip
                events.append(GrantEnded(current.copy()))
            return events

        await self._deps.publish_soon(await self._deps.atomically(work))

    async def _attempt_failed(self, grant_id: int, step: str, error: Exception | str, *, transient: bool) -> None:
        """Back off and retry later; past the attempt budget (or on a permanent error) the grant is failed."""
        message = error if isinstance(error, str) else _describe(error)
        tunables = self._deps.tunables

        async def work(tx: StoreTransaction) -> list[Event]:
            current = await tx.get_grant(grant_id)
            if current is None or current.state in (GrantState.ACTIVE, GrantState.EXPIRED, GrantState.REVOKED):
                return []
            now = self._deps.clock.now()
            current.attempts += 1
            current.last_error = f"{step}: {message}"[:1000]
            events: list[Event] = []
            previous = current.state
            out_of_attempts = current.attempts >= tunables.attempts_before_failed
            if current.state is not GrantState.FAILED and (not transient or out_of_attempts):
                current.transition(GrantCommand.FAIL)
                events.append(GrantFailed(current.copy(), current.last_error))
            if current.state is GrantState.FAILED:
                current.retry_at = now + tunables.failed_retry_interval
            else:
                current.retry_at = now + retry_delay(current.attempts, base=tunables.retry_base, cap=tunables.retry_cap)
            await tx.save_grant(current)
            audit(
                tx, self._deps, actor=self._actor, surface=self._surface,
                action="grant.failed" if events else "grant.attempt_failed", grant=current,
                from_state=previous if events else None, to_state=current.state if events else None,
                step=step, error=current.last_error, attempt=current.attempts, retry_at=current.retry_at.isoformat(),
            )  # fmt: skip
            return events

        events = await self._deps.atomically(work)
        log.warning("grant #%s: %s failed (%s)", grant_id, step, message)
        await self._deps.publish_soon(events)

    # ---- pending requests -------------------------------------------------------------

    async def process_requests(self, requests: Iterable[AccessRequest]) -> None:
        """Time out requests nobody decided, or remind their approvers."""
        for request in requests:
            assert request.id is not None
            try:
                await self._process_request(request.id)
            except Exception:
                log.exception("request #%s: unexpected error", request.id)

    async def _process_request(self, request_id: int) -> None:
        tunables = self._deps.tunables

        async def work(tx: StoreTransaction) -> list[Event]:
            current = await tx.get_request(request_id)
            now = self._deps.clock.now()
            if current is None or current.state is not RequestState.PENDING:
                return []
            if current.timeout_at <= now:
                previous = current.transition(RequestCommand.TIME_OUT)
                current.decided_at, current.decided_by = now, self._actor.name
                current.decision_note = "nobody decided in time"
                current.next_reminder_at = None
                await tx.save_request(current)
                audit(
                    tx, self._deps, actor=self._actor, surface=self._surface, action="request.timed_out",
                    request=current, from_state=previous, to_state=current.state,
                )  # fmt: skip
                return [RequestTimedOut(current)]
            if current.next_reminder_at is not None and current.next_reminder_at <= now:
                current.reminders_sent += 1
                # 15, 30, 60, 120 ... minutes after the request: doubling intervals
                current.next_reminder_at = current.created_at + tunables.approver_reminder_first * (
                    2**current.reminders_sent
                )
                await tx.save_request(current)
                audit(
                    tx, self._deps, actor=self._actor, surface=self._surface, action="request.approvers_reminded",
                    request=current, reminder=current.reminders_sent,
                )  # fmt: skip
                return [ApproversReminded(current)]
            return []

        await self._deps.publish_soon(await self._deps.atomically(work))


def _needing(live: dict[int, Grant], step: RevocationStep) -> list[Grant]:
    return [g for g in live.values() if step not in g.steps_done]


def _describe(error: Exception) -> str:
    request_id = getattr(error, "request_id", None)
    return f"{error} (request-id {request_id})" if request_id else str(error)
