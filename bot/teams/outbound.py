"""Proactive sends through the Bot Connector: to a channel, to a user, and card updates.

Uses the adapter's own authentication (connector factory + credentials) so outbound calls
carry the bot's token exactly as replies within a turn do. A user or channel the bot has no
conversation with is reached by creating the conversation (``POST /v3/conversations``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import CloudAdapterBase
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationParameters
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import HttpOperationError

from bot.teams.auth import prefetch_token
from bot.teams.references import Route, TeamsReferences

log = logging.getLogger("accessbot.teams")


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a message went: enough to update it later."""

    conversation_id: str
    activity_id: str


class Unreachable(Exception):
    """The bot knows no way to this user or channel (no service URL learned yet, or the connector refused)."""


def message(text: str | None = None, attachments: list[dict[str, Any]] | None = None) -> Activity:
    return Activity(type="message", text=text, attachments=attachments or None)


class TeamsMessenger:
    """Sends and updates messages outside of a turn."""

    def __init__(self, adapter: CloudAdapterBase, app_id: str, references: TeamsReferences) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._references = references

    async def _client(self, service_url: str) -> ConnectorClient:
        claims = self._adapter.create_claims_identity(self._app_id)
        factory = self._adapter.bot_framework_authentication.create_connector_factory(claims)
        client: ConnectorClient = await factory.create(service_url, None)
        await prefetch_token(client.config.credentials)
        return client

    async def to_user(self, aad_object_id: str, activity: Activity) -> Sent:
        route = await self._references.to_user(aad_object_id)
        if route is None:
            raise Unreachable(f"no Teams service URL known yet to reach user {aad_object_id}")
        sent = await self._send(route, activity)
        if route.conversation_id is None:
            await self._references.remember_personal(aad_object_id, sent.conversation_id, route.service_url)
        return sent

    async def to_channel(self, channel_id: str, activity: Activity) -> Sent:
        route = await self._references.to_channel(channel_id)
        if route is None:
            raise Unreachable(
                f"no Teams service URL known yet to reach {channel_id}; add the bot to the team "
                "(or write to it once) so it learns the tenant's service URL"
            )
        return await self._send(route, activity)

    async def update(self, conversation_id: str, activity_id: str, activity: Activity) -> None:
        service_url = await self._references.to_conversation(conversation_id)
        if service_url is None:
            raise Unreachable(f"no Teams service URL known for {conversation_id}")
        activity.id = activity_id
        activity.conversation = ConversationAccount(id=conversation_id)
        async with await self._client(service_url) as client:
            await client.conversations.update_activity(conversation_id, activity_id, activity)

    async def _send(self, route: Route, activity: Activity) -> Sent:
        try:
            return await self._send_once(route, activity)
        except HttpOperationError as error:
            status = getattr(error.response, "status_code", "?")
            where = route.conversation_id or route.channel_id or route.user_id
            hint = ""
            if route.conversation_id is None and status == 403:
                hint = " (is the app installed there? see the README on the first message to a user or channel)"
            raise Unreachable(
                f"the Bot Connector refused the message to {where}: HTTP {status} {error}{hint}"
            ) from error

    async def _send_once(self, route: Route, activity: Activity) -> Sent:
        async with await self._client(route.service_url) as client:
            if route.conversation_id is not None:
                activity.conversation = ConversationAccount(id=route.conversation_id)
                response = await client.conversations.send_to_conversation(route.conversation_id, activity)
                return Sent(route.conversation_id, (response.id if response else "") or "")
            parameters = await self._create_parameters(route, activity)
            created = await client.conversations.create_conversation(parameters)
            conversation_id = created.id or ""
            log.info("created Teams conversation %s (tenant %s)", conversation_id, route.tenant_id)
            if route.channel_id is not None:  # a new thread, opened by the activity itself
                await self._references.remember_channel(route.channel_id, route.service_url, route.tenant_id)
                return Sent(conversation_id, created.activity_id or conversation_id.partition(";messageid=")[2])
            # a 1:1 chat: Teams creates it without a first message; send into it
            activity.conversation = ConversationAccount(id=conversation_id)
            response = await client.conversations.send_to_conversation(conversation_id, activity)
            return Sent(conversation_id, (response.id if response else "") or "")

    async def _create_parameters(self, route: Route, activity: Activity) -> ConversationParameters:
        bot = await self._references.bot_account()
        account = ChannelAccount(id=bot["id"], name=bot.get("name")) if bot else ChannelAccount(id=f"28:{self._app_id}")
        channel_data: dict[str, Any] = {"tenant": {"id": route.tenant_id}} if route.tenant_id else {}
        if route.channel_id is not None:
            channel_data["channel"] = {"id": route.channel_id}
            return ConversationParameters(
                is_group=True, bot=account, tenant_id=route.tenant_id, channel_data=channel_data, activity=activity
            )
        member = ChannelAccount(id=route.user_id)
        return ConversationParameters(
            is_group=False, bot=account, members=[member], tenant_id=route.tenant_id, channel_data=channel_data
        )
