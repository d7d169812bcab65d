"""The Teams bot: messages (the shared command grammar), card actions (invokes), conversation updates.

Every inbound activity first teaches `TeamsReferences` where its sender and conversation are.
The bot parses, calls one use case of `AccessService`, and renders the result; workflow state
is changed only by the use cases, and the proactive side (approval cards, notices) is the
notifier's job, driven by the events those use cases publish.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, Attachment

from bot.config import AppConfig
from bot.teams import cards
from bot.teams.references import TeamsReferences
from workflows.commands import USAGE, Extend, Help, ListMine, OpenForm, RequestAccess, Revoke, parse_command
from workflows.durations import format_duration
from workflows.errors import AccessError, InvalidCommand, InvalidDuration, UnknownUser
from workflows.model import ChatAddress, Person, Surface
from workflows.service import AccessService, Decision, RequestOutcome

log = logging.getLogger("accessbot.teams")

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"


def command_text(activity: Activity) -> str:
    """The command the user typed: the bot's @mention removed, and a leading ``access`` (or ``/access``)."""
    text = activity.text or ""
    if activity.recipient is not None and activity.entities:
        text = TurnContext.remove_recipient_mention(activity) or ""
    text = text.replace("&nbsp;", " ").strip()
    words = text.split()
    if words and words[0].casefold().lstrip("/") == "access":
        words = words[1:]
    return " ".join(words)


def card_reply(content: cards.Card) -> Activity:
    return MessageFactory.attachment(Attachment(content_type=cards.CARD_CONTENT_TYPE, content=content))


def invoke_card(content: cards.Card) -> InvokeResponse:
    """The ``adaptiveCard/action`` answer that replaces the card (for the user who clicked)."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": cards.CARD_CONTENT_TYPE, "value": content})


def invoke_error(status: int, message: str) -> InvokeResponse:
    body = {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": "BadRequest", "message": message},
    }
    return InvokeResponse(status=200, body=body)


class AccessBot(ActivityHandler):  # type: ignore[misc]
    """Translates Teams activities to use cases and their results back to Teams."""

    def __init__(
        self, service: AccessService, config: AppConfig, references: TeamsReferences, *, sandbox: bool = False
    ) -> None:
        self._service = service
        self._config = config
        self._references = references
        self._sandbox = sandbox

    async def on_turn(self, turn_context: TurnContext) -> None:
        try:
            await self._references.learn(turn_context.activity)
        except Exception:  # remembering is best effort; answering the user matters more
            log.exception("could not store the Teams conversation reference")
        await super().on_turn(turn_context)

    # ---- messages -----------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("verb"):
            # Action.Submit from a client without Universal Actions: same verbs, answered as a message.
            data = {k: v for k, v in activity.value.items() if k != "verb"}
            content = await self._act(turn_context, str(activity.value["verb"]), data)
            await turn_context.send_activity(card_reply(content))
            return
        await turn_context.send_activity(await self._command(turn_context, command_text(activity)))

    async def _command(self, turn_context: TurnContext, text: str) -> Activity:
        try:
            command = parse_command(text)
            if isinstance(command, Help):
                return MessageFactory.text(self.help_text())
            if isinstance(command, OpenForm):
                return card_reply(self._form())
            person = await self._person(turn_context)
            origin = ChatAddress(Surface.TEAMS, person.id)
            if isinstance(command, RequestAccess):
                outcome = await self._service.request_access(
                    person, command.customer, command.duration, command.reason, surface=Surface.TEAMS, origin=origin
                )
                return MessageFactory.text(self._outcome_text(outcome))
            if isinstance(command, Extend):
                outcome = await self._service.extend(
                    command.id, person, command.duration, command.reason, surface=Surface.TEAMS, origin=origin
                )
                return MessageFactory.text(self._outcome_text(outcome))
            if isinstance(command, Revoke):
                result = await self._service.end_access(command.id, person, surface=Surface.TEAMS)
                if isinstance(result, Decision):
                    return MessageFactory.text(f"Request #{command.id} withdrawn.")
                return MessageFactory.text(
                    f"Ending access #{command.id}: the group membership is removed and your sessions are revoked."
                    if result.changed
                    else f"Access #{command.id} is already {result.grant.state.value}."
                )
            if isinstance(command, ListMine):
                return MessageFactory.text(await self._list(person))
        except AccessError as error:
            return MessageFactory.text(self.error_text(error))
        return MessageFactory.text(self.help_text())

    # ---- card actions -------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        # Handled here rather than in on_adaptive_card_invoke: botbuilder 4.17 serializes that
        # path's response twice and Teams gets HTTP 500 (reference/API_NOTES.md, section F).
        activity = turn_context.activity
        if activity.name != ADAPTIVE_CARD_ACTION:
            return await super().on_invoke_activity(turn_context)
        value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
        action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
        if action.get("type") != "Action.Execute":
            return invoke_error(400, f"unsupported action type {action.get('type')!r}")
        data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
        return invoke_card(await self._act(turn_context, str(action.get("verb") or ""), data))

    async def _act(self, turn_context: TurnContext, verb: str, data: dict[str, Any]) -> cards.Card:
        """Run a card action; the answer is the card that replaces it for the acting user."""
        try:
            person = await self._person(turn_context)
        except AccessError as error:
            return cards.message_card("Not allowed", error.message, color="attention")
        try:
            if verb in (cards.APPROVE, cards.DENY):
                return await self._decide(person, verb, _number(data.get("request_id"), "request"))
            if verb == cards.REQUEST:
                return await self._request_from_form(person, data)
            if verb == cards.END:
                number = _number(data.get("grant_id"), "access")
                result = await self._service.end_access(number, person, surface=Surface.TEAMS)
                done = isinstance(result, Decision) or result.changed
                return cards.message_card(
                    f"Access #{number}",
                    "Ending now: the group membership is removed and your sessions are revoked."
                    if done
                    else "It has already ended.",
                )
            if verb == cards.EXTEND:
                number = _number(data.get("grant_id"), "access")
                duration = str(data.get("duration") or "1h")
                outcome = await self._service.extend(
                    number, person, duration, str(data.get("reason") or ""), surface=Surface.TEAMS,
                    origin=ChatAddress(Surface.TEAMS, person.id),
                )  # fmt: skip
                return cards.message_card(f"Extension of access #{number}", self._outcome_text(outcome))
        except AccessError as error:
            return cards.message_card("Not done", self.error_text(error), color="attention")
        return cards.message_card("Unknown action", f"accessbot does not know the action {verb!r}.")

    async def _decide(self, person: Person, verb: str, request_id: int) -> cards.Card:
        request = await self._service.get_request(request_id)
        policy = self._config.catalog.get(request.customer)
        tz = self._config.timezone
        if person.id == request.requester.id and not (verb == cards.APPROVE and policy.allow_self_approval):
            # The service lets a requester deny (= withdraw) their own request; on the approval
            # card that would look like a decision, so it is refused here and changes nothing.
            message = f"it is your own request; `access revoke {request_id}` withdraws it"
            return cards.refusal_card(request, policy.display_name, tz, message)
        try:
            if verb == cards.APPROVE:
                decision = await self._service.approve(request_id, person, surface=Surface.TEAMS)
            else:
                decision = await self._service.deny(request_id, person, surface=Surface.TEAMS)
        except AccessError as error:
            log.info("Teams: %s refused on request #%s for %s: %s", verb, request_id, person.upn, error.message)
            return cards.refusal_card(request, policy.display_name, tz, error.message)
        return cards.request_card(
            decision.request, policy.display_name, tz, approvals=decision.approvals, required=decision.required
        )

    async def _request_from_form(self, person: Person, data: dict[str, Any]) -> cards.Card:
        try:
            outcome = await self._service.request_access(
                person, str(data.get("customer") or ""), str(data.get("duration") or "") or None,
                str(data.get("reason") or ""), surface=Surface.TEAMS, origin=ChatAddress(Surface.TEAMS, person.id),
            )  # fmt: skip
        except AccessError as error:
            return self._form(error=self.error_text(error))
        return cards.message_card(f"Request #{outcome.request.id}", self._outcome_text(outcome))

    # ---- identity and rendering ---------------------------------------------------------

    async def _person(self, turn_context: TurnContext) -> Person:
        """The Entra user behind the activity: ``from.aadObjectId`` (no e-mail lookup needed).

        In the sandbox (Bot Framework Emulator) there is no Entra id; an e-mail address given as
        the user's name is used instead, and the sandbox directory enrols it.
        """
        sender = turn_context.activity.from_property
        aad = getattr(sender, "aad_object_id", None) if sender else None
        if aad:
            try:
                return await self._service.resolve_person(aad)
            except UnknownUser:
                if not self._sandbox:
                    raise
        if self._sandbox and sender is not None:
            properties = getattr(sender, "properties", None) or {}
            # The Emulator lets you set the user's name and id: an e-mail address there acts as that user.
            for candidate in (sender.name, sender.id, properties.get("userPrincipalName"), properties.get("email")):
                if candidate and "@" in str(candidate):
                    return await self._service.resolve_person(str(candidate))
        raise UnknownUser("Teams did not say who you are (no Entra object id on the message)")

    def _form(self, error: str | None = None) -> cards.Card:
        customers = [(p.key, p.display_name) for p in sorted(self._config.catalog, key=lambda p: p.key)]
        default = min((p.default_duration for p in self._config.catalog), default=None)
        return cards.request_form(customers, default or _ONE_HOUR, error=error)

    def help_text(self) -> str:
        lines = [f"**accessbot**: just-in-time access to customer networks. Commands: {USAGE}", "", "Customers:"]
        for policy in sorted(self._config.catalog, key=lambda p: p.key):
            aliases = f" (also {', '.join(policy.aliases)})" if policy.aliases else ""
            reason = ", reason required" if policy.require_reason else ""
            lines.append(
                f"- `{policy.key}`{aliases}: {policy.display_name}, {format_duration(policy.min_duration)} to "
                f"{format_duration(policy.max_duration)} (default {format_duration(policy.default_duration)}{reason})"
            )
        return "\n\n".join(lines)

    def error_text(self, error: AccessError) -> str:
        text = error.message
        if isinstance(error, InvalidCommand | InvalidDuration):
            text += f"\n\nAllowed: {USAGE}"
        return text

    def _outcome_text(self, outcome: RequestOutcome) -> str:
        request = outcome.request
        name = self._config.catalog.get(request.customer).display_name
        if not outcome.created:
            return outcome.note or f"Request #{request.id} is already waiting for approval."
        what = (
            f"{format_duration(request.duration)} more on access #{request.grant_id} to {name}"
            if request.grant_id is not None and request.kind.value == "extension"
            else f"access to {name} for {format_duration(request.duration)}"
        )
        note = f" ({outcome.note})" if outcome.note else ""
        return f"Request #{request.id}: {what} is waiting for the approvers{note}."

    async def _list(self, person: Person) -> str:
        mine = await self._service.mine(person)
        tz = self._config.timezone
        lines: list[str] = []
        for request in mine.requests:
            lines.append(
                f"- request #{request.id}: {request.customer}, {format_duration(request.duration)}, awaiting approval"
            )
        for grant in mine.grants:
            ends = f" until {cards.when(grant.ends_at, tz)}" if grant.ends_at else ""
            lines.append(f"- access #{grant.id}: {grant.customer}, {grant.state.value}{ends}")
        if not lines:
            return "You have no pending requests and no access. `access <customer> <duration> <reason>` asks for some."
        return "\n\n".join(["Your requests and access:", *lines])


_ONE_HOUR = timedelta(hours=1)


def _number(value: object, what: str) -> int:
    try:
        return int(str(value).removeprefix("#"))
    except ValueError:
        raise InvalidCommand(f"the card did not say which {what}") from None
