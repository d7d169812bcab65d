"""The Slack listeners: `/access`, the request and deny modals, and the buttons.

Each listener acknowledges first (Slack allows 3 seconds) and does the work in a bolt lazy
listener. Only pure checks run before the ack (the command grammar, the modal's fields), so
their errors come back in the ack itself. Everything else answers privately afterwards:
through `response_url` for commands, `chat.postEphemeral` for clicks and DMs for modals.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.slack import blocks, modals, render
from bot.slack.notifier import DirectMessages, SlackContext
from workflows.commands import Extend, Help, ListMine, OpenForm, RequestAccess, Revoke, parse_command
from workflows.durations import format_duration, parse_duration
from workflows.errors import (
    AccessError,
    DurationOutOfRange,
    InvalidCommand,
    InvalidDuration,
    NotFound,
    UnknownCustomer,
)
from workflows.model import ChatAddress, Person, RequestKind, RequestState, Surface
from workflows.service import AccessService, Decision, RequestOutcome, RevokeOutcome

log = logging.getLogger("accessbot.slack")

COMMAND = "/access"
SLASH_USAGE = (
    "Usage: `/access <customer> <duration> [reason]`, `/access` (a form), `/access list`, "
    "`/access revoke <id>`, `/access extend <id> <duration>`, `/access help`"
)
TROUBLE = "Something went wrong on my side. Please try again in a minute; `/access list` shows what I have."


@dataclass
class Handlers:
    """The listeners, bound to the service and the Slack context."""

    service: AccessService
    ctx: SlackContext
    dms: DirectMessages

    def register(self, app: AsyncApp) -> None:
        app.command(COMMAND)(ack=self.ack_command, lazy=[self.run_command])
        app.view(modals.REQUEST_FORM)(ack=self.ack_request_form, lazy=[self.run_request_form])
        app.view(modals.DENY_FORM)(ack=self.ack_deny_form, lazy=[self.run_deny_form])
        app.action(render.APPROVE)(ack=self.ack_only, lazy=[self.run_approve])
        app.action(render.DENY)(ack=self.ack_only, lazy=[self.run_deny])
        app.action(render.END_NOW)(ack=self.ack_only, lazy=[self.run_end])
        app.action(render.EXTEND)(ack=self.ack_only, lazy=[self.run_extend])

    # ---- /access ------------------------------------------------------------------------

    async def ack_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Answer at once what needs no lookup: grammar errors and help. The rest follows."""
        try:
            command = parse_command(body.get("text") or "")
        except AccessError as error:
            hint = self._hint(error)
            await ack(**render.refusal(error.message, hint).as_kwargs())
            return
        if isinstance(command, Help):
            await ack(**render.help_message(self.ctx.catalog).as_kwargs())
            return
        await ack()

    async def run_command(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        try:
            command = parse_command(body.get("text") or "")
        except AccessError:
            return  # answered in the ack
        if isinstance(command, Help):
            return
        if isinstance(command, OpenForm):
            await self._open_request_form(body)
            return
        try:
            person = await self.ctx.identity.person(body["user_id"])
            origin = ChatAddress(Surface.SLACK, body["user_id"])
            message = await self._dispatch(command, person, origin)
        except AccessError as error:
            message = render.refusal(error.message, self._hint(error))
        except Exception:
            log.exception("/access failed")
            message = render.ephemeral(TROUBLE)
        try:
            await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())
        except Exception as error:  # response_url expired or unreachable: the user asks again
            log.warning("could not answer through response_url: %s", type(error).__name__)

    async def _dispatch(
        self, command: RequestAccess | ListMine | Revoke | Extend, person: Person, origin: ChatAddress
    ) -> blocks.Message:
        service = self.service
        if isinstance(command, RequestAccess):
            outcome = await service.request_access(
                person, command.customer, command.duration, command.reason, surface=Surface.SLACK, origin=origin
            )
            return await self._confirm(outcome)
        if isinstance(command, Extend):
            outcome = await service.extend(
                command.id, person, command.duration, command.reason, surface=Surface.SLACK, origin=origin
            )
            return await self._confirm(outcome)
        if isinstance(command, Revoke):
            result = await service.end_access(command.id, person, surface=Surface.SLACK)
            return render.ephemeral(_ended_text(command.id, result))
        mine = await service.mine(person)
        return render.list_message(mine.requests, mine.grants, self.ctx.catalog, self.ctx.tz, self.ctx.clock.now())

    async def _confirm(self, outcome: RequestOutcome) -> blocks.Message:
        request = outcome.request
        assert request.id is not None
        policy = self.ctx.catalog.get(request.customer)
        if not outcome.created:
            return render.ephemeral(outcome.note or f"request #{request.id} is already waiting for approval")
        channel = policy.approval_channels.get("slack")
        if channel and not await self.ctx.chat_state.messages(request.id, surface="slack", purpose="approval"):
            # The notifier could not post it (e.g. the bot is not in the channel): do not claim it was sent.
            return render.ephemeral(
                f"request #{request.id} is recorded, but I could not post it to the approvers' channel; "
                f"please tell the approvers of {policy.display_name} (or an admin: is the bot in that channel?)"
            )
        return render.confirmation(request.id, policy, request.kind, request.duration, outcome.note)

    def _hint(self, error: AccessError) -> str:
        if isinstance(error, UnknownCustomer | DurationOutOfRange | InvalidDuration):
            return render.allowed_hint(self.ctx.catalog)
        if isinstance(error, InvalidCommand):
            return SLASH_USAGE
        return ""

    # ---- the request form ---------------------------------------------------------------

    async def _open_request_form(self, body: dict[str, Any]) -> None:
        metadata = {"channel": body.get("channel_id", "")}
        try:
            await self.ctx.client.views_open(
                trigger_id=body["trigger_id"], view=modals.request_form(self.ctx.catalog, metadata)
            )
        except SlackApiError as error:
            log.warning("views.open failed: %s", error.response.get("error") if error.response else error)

    def _form_errors(self, view: dict[str, Any]) -> dict[str, str]:
        """What is wrong with the modal's fields, by block id (empty: fine). Pure: no lookups."""
        customer, duration, reason = _form_values(view)
        errors: dict[str, str] = {}
        try:
            policy = self.ctx.catalog.find(customer or "")
        except AccessError as error:
            return {"customer": blocks.truncate(error.message, 150)}
        try:
            wanted = parse_duration(duration) if duration else policy.default_duration
            policy.check_duration(wanted)
        except AccessError as error:
            errors["duration"] = blocks.truncate(error.message, 150)
        try:
            policy.check_reason(reason)
        except AccessError as error:
            errors["reason"] = blocks.truncate(error.message, 150)
        return errors

    async def ack_request_form(self, ack: AsyncAck, view: dict[str, Any]) -> None:
        """Check the fields before closing the modal: errors show next to the field."""
        errors = self._form_errors(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()

    async def run_request_form(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        if self._form_errors(view):
            return  # bolt starts lazy listeners whatever the ack said: the modal is still open
        customer, duration, reason = _form_values(view)
        user_id = body["user"]["id"]
        try:
            person = await self.ctx.identity.person(user_id)
            outcome = await self.service.request_access(
                person, customer or "", duration, reason, surface=Surface.SLACK,
                origin=ChatAddress(Surface.SLACK, user_id),
            )  # fmt: skip
            message = await self._confirm(outcome)
        except AccessError as error:
            message = render.refusal(error.message, self._hint(error))
        except Exception:
            log.exception("request form failed")
            message = render.ephemeral(TROUBLE)
        await self._dm(user_id, message)

    # ---- Approve / Deny -----------------------------------------------------------------

    async def ack_only(self, ack: AsyncAck) -> None:
        await ack()

    async def run_approve(self, body: dict[str, Any]) -> None:
        request_id = _action_number(body)
        user_id = body["user"]["id"]
        try:
            person = await self.ctx.identity.person(user_id)
            decision = await self.service.approve(request_id, person, surface=Surface.SLACK)
        except AccessError as error:
            await self._private(body, render.refusal(error.message))
            return
        except Exception:
            log.exception("approve failed")
            await self._private(body, render.ephemeral(TROUBLE))
            return
        if not decision.changed:
            await self._private(body, render.ephemeral(_replay_text(decision, person)))

    async def run_deny(self, body: dict[str, Any]) -> None:
        """Check the clicker may deny, then ask for an optional reason in a modal."""
        request_id = _action_number(body)
        user_id = body["user"]["id"]
        try:
            person = await self.ctx.identity.person(user_id)
            request = await self.service.get_request(request_id)
            policy = self.ctx.catalog.get(request.customer)
            if request.state is not RequestState.PENDING:
                await self._private(body, render.ephemeral(_state_text(request.id, request.state, request.decided_by)))
                return
            if person.id != request.requester.id and not await self.service.is_approver(policy, person):
                who = ", ".join(policy.approvers) or "members of its approver group"
                await self._private(
                    body,
                    render.refusal(
                        f"only the approvers of {policy.display_name} can decide this ({who}); nothing was changed"
                    ),
                )
                return
            metadata = {"request_id": request_id, "channel": _channel(body), "user": user_id}
            await self.ctx.client.views_open(
                trigger_id=body["trigger_id"], view=modals.deny_form(request, policy, metadata)
            )
        except AccessError as error:
            await self._private(body, render.refusal(error.message))
        except Exception:
            log.exception("deny failed")
            await self._private(body, render.ephemeral(TROUBLE))

    async def ack_deny_form(self, ack: AsyncAck) -> None:
        await ack()

    async def run_deny_form(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        metadata = _metadata(view)
        request_id = int(metadata.get("request_id", 0))
        user_id = body["user"]["id"]
        note = (((view.get("state") or {}).get("values") or {}).get("note") or {}).get("note", {}).get("value") or ""
        target = {"channel": {"id": metadata.get("channel", "")}, "user": {"id": user_id}}
        try:
            person = await self.ctx.identity.person(user_id)
            decision = await self.service.deny(request_id, person, surface=Surface.SLACK, note=note)
        except AccessError as error:
            await self._private(target, render.refusal(error.message))
            return
        except Exception:
            log.exception("deny form failed")
            await self._private(target, render.ephemeral(TROUBLE))
            return
        if not decision.changed:
            await self._private(target, render.ephemeral(_replay_text(decision, person)))

    # ---- the requester's buttons --------------------------------------------------------

    async def run_end(self, body: dict[str, Any]) -> None:
        grant_id = _action_number(body)
        try:
            person = await self.ctx.identity.person(body["user"]["id"])
            outcome = await self.service.revoke(grant_id, person.as_actor(), surface=Surface.SLACK)
            message = render.ephemeral(_ended_text(grant_id, outcome))
        except AccessError as error:
            message = render.refusal(error.message)
        except Exception:
            log.exception("end access failed")
            message = render.ephemeral(TROUBLE)
        await self._private(body, message)

    async def run_extend(self, body: dict[str, Any]) -> None:
        grant_id = _action_number(body)
        user_id = body["user"]["id"]
        try:
            person = await self.ctx.identity.person(user_id)
            grant = await self.ctx.store.get_grant(grant_id)
            if grant is None:
                raise NotFound(f"there is no access #{grant_id}")
            policy = self.ctx.catalog.get(grant.customer)
            outcome = await self.service.extend(
                grant_id, person, format_duration(policy.default_duration), "", surface=Surface.SLACK,
                origin=ChatAddress(Surface.SLACK, user_id),
            )  # fmt: skip
            message = await self._confirm(outcome)
        except AccessError as error:
            message = render.refusal(error.message)
        except Exception:
            log.exception("extend failed")
            message = render.ephemeral(TROUBLE)
        await self._private(body, message)

    # ---- answering privately ------------------------------------------------------------

    async def _private(self, body: dict[str, Any], message: blocks.Message) -> None:
        """An ephemeral message to the clicker where they clicked (a DM if that is not possible)."""
        user_id = body["user"]["id"]
        channel = _channel(body)
        try:
            if channel:
                await self.ctx.client.chat_postEphemeral(channel=channel, user=user_id, **message.as_kwargs())
                return
        except SlackApiError as error:
            log.warning("chat.postEphemeral failed: %s", error.response.get("error") if error.response else error)
        await self._dm(user_id, message)

    async def _dm(self, user_id: str, message: blocks.Message) -> None:
        try:
            await self.dms.send(user_id, message)
        except SlackApiError as error:
            log.warning("could not DM %s: %s", user_id, error.response.get("error") if error.response else error)


def _form_values(view: dict[str, Any]) -> tuple[str | None, str | None, str]:
    values = (view.get("state") or {}).get("values") or {}
    selected = ((values.get("customer") or {}).get("customer") or {}).get("selected_option") or {}
    customer = selected.get("value")
    duration = ((values.get("duration") or {}).get("duration") or {}).get("value") or None
    reason = ((values.get("reason") or {}).get("reason") or {}).get("value") or ""
    return customer, (duration.strip() if duration else None), reason


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _action_number(body: dict[str, Any]) -> int:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    if not value.isdigit():
        raise InvalidCommand(f"this button carries no request number ({value!r})")
    return int(value)


def _channel(body: dict[str, Any]) -> str:
    container = body.get("container") or {}
    return str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")


def _state_text(number: int | None, state: RequestState, decided_by: str | None) -> str:
    by = f" by {decided_by}" if decided_by else ""
    return f"request #{number} is already {state.value.replace('_', ' ')}{by}; nothing was changed"


def _replay_text(decision: Decision, person: Person) -> str:
    request = decision.request
    if request.state is RequestState.PENDING:
        return (
            f"you already approved request #{request.id}; it waits for {decision.waiting_for} more "
            f"approval{'s' if decision.waiting_for != 1 else ''}"
        )
    return _state_text(request.id, request.state, request.decided_by)


def _ended_text(number: int, result: RevokeOutcome | Decision) -> str:
    if isinstance(result, Decision):
        if result.changed:
            return f"request #{number} withdrawn"
        return _state_text(number, result.request.state, result.request.decided_by)
    if result.changed:
        return f"ending access #{number} now: removing the membership and revoking sessions; I will tell you when done"
    return f"access #{number} is already {result.grant.state.value} or ending; nothing more to do"


__all__ = ["Handlers", "RequestKind"]
