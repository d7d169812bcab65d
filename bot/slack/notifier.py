"""Renders the workflow's events in Slack: the approval message (posted, then updated in place)
and the requester's DMs.

The approval message is always re-rendered from the stored request, its approvals and its
grant, never from the event alone: events of one request can arrive out of order (two
approvers clicking at once, a scheduler in another replica), and re-reading makes the last
update show the latest state. Updates of one request are serialised in this process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.store.chat_state import ChatState, PostedMessage
from bot.slack import blocks, render
from bot.slack.identity import SlackIdentity
from workflows.errors import UnknownCustomer
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
from workflows.model import AccessRequest, ChatAddress, Grant, RequestKind, Surface
from workflows.policy import Catalog, CustomerPolicy
from workflows.ports import Clock, Store

log = logging.getLogger("accessbot.slack")

SURFACE = "slack"
APPROVAL = "approval"

LOCK_STRIPES = 64

Build = Callable[[CustomerPolicy], blocks.Message]


@dataclass
class SlackContext:
    """What the Slack front end works with, taken from the runtime once."""

    client: AsyncWebClient
    store: Store
    catalog: Catalog
    chat_state: ChatState
    identity: SlackIdentity
    clock: Clock
    tz: ZoneInfo


class DirectMessages:
    """Posts to a person's DM with the bot (conversations.open once per user, then cached)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._channels: dict[str, str] = {}

    async def channel(self, slack_user_id: str) -> str:
        found = self._channels.get(slack_user_id)
        if found is None:
            response = await self._client.conversations_open(users=slack_user_id)
            found = str((response.get("channel") or {})["id"])
            self._channels[slack_user_id] = found
        return found

    async def send(self, slack_user_id: str, message: blocks.Message) -> None:
        channel = await self.channel(slack_user_id)
        await self._client.chat_postMessage(channel=channel, **message.as_kwargs())


class SlackNotifier:
    """A `workflows.ports.Notifier`: subscribes to the runtime's fan-out and renders events."""

    def __init__(self, ctx: SlackContext, dms: DirectMessages) -> None:
        self._ctx = ctx
        self._dms = dms
        # Striped locks: updates of one request never interleave, and memory stays bounded.
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    async def publish(self, event: Event) -> None:
        if isinstance(event, RequestSubmitted):
            await self._post_approval(event.request)
        elif isinstance(event, ApprovalRecorded | RequestApproved):
            await self.refresh(event.request)
        elif isinstance(event, RequestDenied):
            await self.refresh(event.request)
            await self._tell(event.request.origin, lambda p: render.denied_dm(event.request, p), event.request.customer)
        elif isinstance(event, RequestTimedOut):
            await self.refresh(event.request)
            await self._tell(
                event.request.origin, lambda p: render.timed_out_dm(event.request, p), event.request.customer
            )
        elif isinstance(event, RequestCancelled):
            await self.refresh(event.request)
            request = event.request
            by_requester = (request.decided_by or "").casefold() == request.requester.upn.casefold()
            if not by_requester:  # the requester withdrew it themselves: they were answered already
                await self._tell(request.origin, lambda p: render.cancelled_dm(request, p), request.customer)
        elif isinstance(event, ApproversReminded):
            await self._remind(event.request)
        elif isinstance(event, GrantActivated):
            await self._refresh_grant(event.grant)
            await self._tell_grant(event.grant, lambda p: render.granted_dm(event.grant, p, self._ctx.tz, self._now()))
        elif isinstance(event, GrantExtended):
            await self.refresh(event.request)
            await self._refresh_grant(event.grant)
            await self._tell_grant(
                event.grant, lambda p: render.extended_dm(event.grant, event.request, p, self._ctx.tz, self._now())
            )
        elif isinstance(event, GrantExpiringSoon):
            await self._tell_grant(event.grant, lambda p: render.expiring_dm(event.grant, p, self._ctx.tz, self._now()))
        elif isinstance(event, GrantEnded):
            await self._refresh_grant(event.grant)
            await self._tell_grant(event.grant, lambda p: render.ended_dm(event.grant, p, self._ctx.tz, self._now()))
        elif isinstance(event, GrantFailed):
            await self._refresh_grant(event.grant)
            await self._alert(event.grant, event.error)
            if not event.grant.ending:
                await self._tell_grant(event.grant, lambda p: render.failed_dm(event.grant, p))

    # ---- the approval message ---------------------------------------------------------

    def _now(self) -> datetime:
        return self._ctx.clock.now()

    def _policy(self, key: str) -> CustomerPolicy | None:
        try:
            return self._ctx.catalog.get(key)
        except UnknownCustomer:
            log.warning("customer %r is no longer configured; not rendering its messages", key)
            return None

    async def _post_approval(self, request: AccessRequest) -> None:
        policy = self._policy(request.customer)
        channel = policy.approval_channels.get(SURFACE) if policy else None
        if policy is None or not channel or request.id is None:
            return
        message = await self._render(request, policy)
        response = await self._ctx.client.chat_postMessage(channel=channel, **message.as_kwargs())
        posted_channel = str(response.get("channel") or channel)
        await self._ctx.chat_state.save_message(
            PostedMessage(request.id, SURFACE, posted_channel, str(response["ts"]), APPROVAL)
        )

    async def _render(self, request: AccessRequest, policy: CustomerPolicy) -> blocks.Message:
        assert request.id is not None
        async with self._ctx.store.transaction() as tx:  # read-only: the approvals so far
            approvals = await tx.approvals(request.id)
        grant = await self._ctx.store.get_grant(request.grant_id) if request.grant_id is not None else None
        if request.kind is RequestKind.EXTENSION:
            grant = None  # the extended grant's status belongs to its own message
        view = render.ApprovalView(request, policy, approvals, grant, self._ctx.tz, self._now())
        return render.approval_message(view)

    async def refresh(self, request: AccessRequest | int) -> None:
        """Re-render a request's approval message(s) from the stored state, in place."""
        request_id = request if isinstance(request, int) else request.id
        if request_id is None:
            return
        async with self._locks[request_id % LOCK_STRIPES]:
            posted = await self._ctx.chat_state.messages(request_id, surface=SURFACE, purpose=APPROVAL)
            if not posted:
                return
            current = await self._ctx.store.get_request(request_id)
            policy = self._policy(current.customer) if current is not None else None
            if current is None or policy is None:
                return
            message = await self._render(current, policy)
            for item in posted:
                try:
                    await self._ctx.client.chat_update(channel=item.channel, ts=item.message_id, **message.as_kwargs())
                except SlackApiError as error:  # e.g. the message was deleted: the requester is still told
                    log.warning("could not update the approval message of #%s: %s", request_id, _code(error))

    async def _refresh_grant(self, grant: Grant) -> None:
        await self.refresh(grant.id)  # a grant's id is the id of the request that created it

    async def _remind(self, request: AccessRequest) -> None:
        assert request.id is not None
        policy = self._policy(request.customer)
        if policy is None:
            return
        mentions: list[str] = []
        for upn in policy.approvers:
            slack_id = await self._ctx.identity.slack_user_for_email(upn)
            if slack_id:
                mentions.append(f"<@{slack_id}>")  # ids come from Slack itself, never from user text
        posted = await self._ctx.chat_state.messages(request.id, surface=SURFACE, purpose=APPROVAL)
        if not posted:
            # The approval message never went out (Slack failed, or the bot died right after the
            # request was committed): post it now, so the first reminder heals the loss.
            await self._post_approval(request)
            return
        message = render.reminder_message(request, policy, mentions)
        for item in posted:
            await self._ctx.client.chat_postMessage(
                channel=item.channel, thread_ts=item.message_id, **message.as_kwargs()
            )

    async def _alert(self, grant: Grant, error: str) -> None:
        policy = self._policy(grant.customer)
        channel = policy.approval_channels.get(SURFACE) if policy else None
        if policy is None or not channel:
            return
        message = render.failed_alert(grant, policy, error)
        try:
            await self._ctx.client.chat_postMessage(channel=channel, **message.as_kwargs())
        except SlackApiError as failure:
            log.error("could not post the failure alert of access #%s: %s", grant.id, _code(failure))

    # ---- the requester ----------------------------------------------------------------

    async def _tell(self, origin: ChatAddress | None, build: Build, customer: str) -> None:
        if origin is None or origin.surface is not Surface.SLACK:
            return  # asked from Teams or the CLI: that front end tells them
        policy = self._policy(customer)
        if policy is None:
            return
        try:
            await self._dms.send(origin.user_id, build(policy))
        except SlackApiError as error:
            log.warning("could not DM the requester: %s", _code(error))

    async def _tell_grant(self, grant: Grant, build: Build) -> None:
        await self._tell(grant.origin, build, grant.customer)


def _code(error: SlackApiError) -> str:
    """Slack's error code (never the request: it carries the token in its headers)."""
    return str(error.response.get("error") if error.response is not None else type(error).__name__)
