"""Renders workflow events in Teams: approval cards in the customer's approval conversation
(posted, updated in place for everyone, re-announced), and notices to the requester.

Subscribed to the runtime's notifier; called after each change is committed. A failure here
is logged and never undoes anything (the fan-out notifier isolates subscribers).
"""

from __future__ import annotations

import logging
from datetime import tzinfo

from adapters.store.chat_state import ChatState, PostedMessage
from bot.config import AppConfig
from bot.teams import cards
from bot.teams.outbound import TeamsMessenger, Unreachable, message
from workflows.durations import format_duration
from workflows.events import (
    ApprovalRecorded,
    ApproversReminded,
    Event,
    GrantActivated,
    GrantEnded,
    GrantExpiringSoon,
    GrantExtended,
    GrantFailed,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestSubmitted,
    RequestTimedOut,
)
from workflows.model import AccessRequest, Approval, ChatAddress, Surface
from workflows.ports import Clock

log = logging.getLogger("accessbot.teams")

SURFACE = "teams"
APPROVAL = "approval"
REMINDER = "reminder"


class TeamsNotifier:
    """A `workflows.ports.Notifier` for Teams."""

    def __init__(self, messenger: TeamsMessenger, chat_state: ChatState, config: AppConfig, clock: Clock) -> None:
        self._messenger = messenger
        self._state = chat_state
        self._config = config
        self._clock = clock

    @property
    def _tz(self) -> tzinfo:
        return self._config.timezone

    def _name(self, customer: str) -> str:
        try:
            return self._config.catalog.get(customer).display_name
        except Exception:
            return customer

    def _channel(self, customer: str) -> str | None:
        try:
            return self._config.catalog.get(customer).approval_channels.get(SURFACE)
        except Exception:
            return None

    async def publish(self, event: Event) -> None:
        try:
            await self._render(event)
        except Unreachable as error:
            log.warning("Teams: %s not delivered: %s", type(event).__name__, error)

    async def _render(self, event: Event) -> None:
        match event:
            case RequestSubmitted(request=request):
                await self._post_card(request, APPROVAL)
            case ApproversReminded(request=request):
                await self._post_card(request, f"{REMINDER}:{request.reminders_sent}", reminder=True)
            case ApprovalRecorded(request=request, approvals=approvals, required=required):
                await self._update_cards(request, approvals, required)
            case RequestApproved(request=request, approvals=approvals):
                await self._update_cards(request, approvals, len(approvals))
            case RequestDenied(request=request):
                await self._update_cards(request)
                note = f": {request.decision_note}" if request.decision_note else ""
                await self._tell(request.origin, cards.message_card(
                    f"Request #{request.id} denied",
                    f"{request.decided_by} denied your request for {self._name(request.customer)}{note}.",
                    color="attention",
                ))  # fmt: skip
            case RequestCancelled(request=request):
                await self._update_cards(request)
                if request.decided_by != request.requester.upn:  # the requester knows they withdrew it
                    await self._tell(request.origin, cards.message_card(
                        f"Request #{request.id} cancelled", request.decision_note or "It was cancelled.",
                    ))  # fmt: skip
            case RequestTimedOut(request=request):
                await self._update_cards(request)
                await self._tell(request.origin, cards.message_card(
                    f"Request #{request.id} timed out",
                    f"No approver of {self._name(request.customer)} decided in time. Ask again if you still need it.",
                    color="warning",
                ))  # fmt: skip
            case GrantActivated(grant=grant):
                await self._tell(grant.origin, cards.granted_card(grant, self._name(grant.customer), self._tz))
            case GrantExtended(grant=grant, request=request):
                await self._tell(request.origin or grant.origin, cards.message_card(
                    f"Access #{grant.id} extended",
                    f"{format_duration(request.duration)} more, approved by {request.decided_by}; "
                    f"it now ends at {cards.when(grant.ends_at, self._tz)}.",
                    color="good",
                ))  # fmt: skip
            case GrantExpiringSoon(grant=grant):
                remaining = (grant.ends_at - self._clock.now()) if grant.ends_at else self._config.reminder_before_end
                content = cards.expiring_card(grant, self._name(grant.customer), self._tz, remaining)
                await self._tell(grant.origin, content)
            case GrantEnded(grant=grant):
                await self._tell(grant.origin, cards.ended_card(grant, self._name(grant.customer), self._tz))
            case GrantFailed(grant=grant, error=error):
                channel = self._channel(grant.customer)
                if channel:
                    content = cards.alert_card(grant, self._name(grant.customer), error)
                    await self._messenger.to_channel(channel, message(attachments=[cards.attachment(content)]))
            case _:
                pass

    async def _post_card(self, request: AccessRequest, purpose: str, *, reminder: bool = False) -> None:
        channel = self._channel(request.customer)
        if not channel or request.id is None:
            return
        approvals: tuple[Approval, ...] = ()
        content = cards.request_card(request, self._name(request.customer), self._tz, approvals=approvals,
                                     reminder=reminder)  # fmt: skip
        sent = await self._messenger.to_channel(channel, message(attachments=[cards.attachment(content)]))
        await self._state.save_message(
            PostedMessage(request.id, SURFACE, sent.conversation_id, sent.activity_id, purpose)
        )

    async def _update_cards(
        self, request: AccessRequest, approvals: tuple[Approval, ...] = (), required: int = 1
    ) -> None:
        """Replace every approval card of the request (for everyone in the conversation)."""
        if request.id is None:
            return
        content = cards.request_card(request, self._name(request.customer), self._tz, approvals=approvals,
                                     required=required)  # fmt: skip
        for posted in await self._state.messages(request.id, surface=SURFACE):
            if posted.purpose != APPROVAL and not posted.purpose.startswith(REMINDER):
                continue
            try:
                await self._messenger.update(
                    posted.channel, posted.message_id, message(attachments=[cards.attachment(content)])
                )
            except Exception:
                log.exception("Teams: could not update the card of request #%s in %s", request.id, posted.channel)

    async def _tell(self, origin: ChatAddress | None, content: cards.Card) -> None:
        """A notice to the requester, if they asked from Teams (Slack renders its own)."""
        if origin is None or origin.surface is not Surface.TEAMS:
            return
        await self._messenger.to_user(origin.user_id, message(attachments=[cards.attachment(content)]))
