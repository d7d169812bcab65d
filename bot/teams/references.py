"""What the Teams front end learns from incoming activities, kept in the bot's database (`ChatState`).

Keys (surface ``teams``):

* ``user:<aadObjectId>``: the user's Teams id (``29:...``), tenant, service URL and, once they
  wrote to the bot in a personal chat (or one was created), that conversation and its reference;
* ``channel:<channel id>``: a team channel the bot has seen (a message, or being added to the team);
* ``tenant:<tenant id>`` and ``latest``: the newest service URL of each tenant, and of any tenant;
* ``bot``: the bot's own Teams account (``28:<app id>``), for creating conversations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.store.chat_state import ChatState

SURFACE = "teams"


@dataclass(frozen=True, slots=True)
class Route:
    """Where to send: an existing conversation, or what is needed to create one."""

    service_url: str
    tenant_id: str | None
    conversation_id: str | None = None  # None: create the conversation first
    user_id: str | None = None  # the member to create a 1:1 conversation with
    channel_id: str | None = None  # the channel to create a new thread in


def channel_of(conversation_id: str) -> str:
    """The channel of a channel-thread conversation id (``19:x@thread.tacv2;messageid=1`` -> ``19:x@thread.tacv2``)."""
    return conversation_id.split(";", 1)[0]


def tenant_of(activity: Activity) -> str | None:
    conversation = activity.conversation
    tenant = getattr(conversation, "tenant_id", None) if conversation else None
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    return tenant or (data.get("tenant") or {}).get("id")


class TeamsReferences:
    """Learned conversation references and service URLs."""

    def __init__(self, state: ChatState, default_tenant: str | None = None) -> None:
        self._state = state
        self._default_tenant = default_tenant

    async def learn(self, activity: Activity) -> None:
        """Remember who and where from an inbound activity (every message, invoke and conversationUpdate)."""
        service_url = activity.service_url
        if not service_url:
            return
        tenant = tenant_of(activity)
        await self._state.put_reference(SURFACE, "latest", {"service_url": service_url, "tenant_id": tenant})
        if tenant:
            await self._state.put_reference(SURFACE, f"tenant:{tenant}", {"service_url": service_url})
        if activity.recipient and activity.recipient.id:
            await self._state.put_reference(
                SURFACE, "bot", {"id": activity.recipient.id, "name": activity.recipient.name or ""}
            )
        reference = TurnContext.get_conversation_reference(activity).serialize()
        conversation = activity.conversation
        kind = getattr(conversation, "conversation_type", None) if conversation else None
        sender = activity.from_property
        aad = getattr(sender, "aad_object_id", None) if sender else None
        if aad and sender is not None:
            key = f"user:{aad}"
            data = await self._state.get_reference(SURFACE, key) or {}
            data.update(user_id=sender.id, name=sender.name or "", tenant_id=tenant, service_url=service_url)
            if kind == "personal" and conversation is not None:
                data.update(conversation_id=conversation.id, reference=reference)
            await self._state.put_reference(SURFACE, key, data)
        channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        channel = (channel_data.get("channel") or {}).get("id")
        team = (channel_data.get("team") or {}).get("id")
        for channel_id in filter(None, {channel, team if activity.type == "conversationUpdate" else None}):
            thread_reference = dict(reference)
            thread_reference["conversation"] = dict(reference.get("conversation") or {}, id=channel_id)
            await self._state.put_reference(
                SURFACE,
                f"channel:{channel_id}",
                {"conversation_id": channel_id, "service_url": service_url, "tenant_id": tenant,
                 "team_id": team, "reference": thread_reference},
            )  # fmt: skip

    async def remember_personal(self, aad_object_id: str, conversation_id: str, service_url: str) -> None:
        """A personal conversation the bot created with a user: use it next time."""
        key = f"user:{aad_object_id}"
        data = await self._state.get_reference(SURFACE, key) or {}
        data.update(conversation_id=conversation_id, service_url=service_url)
        await self._state.put_reference(SURFACE, key, data)

    async def remember_channel(self, channel_id: str, service_url: str, tenant_id: str | None) -> None:
        """A channel the bot reached by creating a thread: post there directly next time."""
        key = f"channel:{channel_of(channel_id)}"
        if await self._state.get_reference(SURFACE, key) is None:
            data = {"conversation_id": channel_of(channel_id), "service_url": service_url, "tenant_id": tenant_id}
            await self._state.put_reference(SURFACE, key, data)

    async def service_url(self, tenant_id: str | None) -> tuple[str, str | None] | None:
        """The newest service URL for the tenant (or of any tenant), with the tenant it belongs to."""
        if tenant_id:
            found = await self._state.get_reference(SURFACE, f"tenant:{tenant_id}")
            if found:
                return str(found["service_url"]), tenant_id
        latest = await self._state.get_reference(SURFACE, "latest")
        if latest:
            return str(latest["service_url"]), latest.get("tenant_id") or tenant_id or self._default_tenant
        return None

    async def bot_account(self) -> dict[str, Any] | None:
        return await self._state.get_reference(SURFACE, "bot")

    async def to_user(self, aad_object_id: str) -> Route | None:
        """How to reach a user: their personal chat, else what creating one needs (None: no service URL known)."""
        data = await self._state.get_reference(SURFACE, f"user:{aad_object_id}")
        if data and data.get("conversation_id"):
            return Route(data["service_url"], data.get("tenant_id"), conversation_id=data["conversation_id"])
        found = await self.service_url((data or {}).get("tenant_id") or self._default_tenant)
        if found is None:
            return None
        member = (data or {}).get("user_id") or f"8:orgid:{aad_object_id}"
        return Route(found[0], found[1], user_id=member)

    async def to_channel(self, channel_id: str) -> Route | None:
        """How to reach a channel: its stored reference, else creating a thread there (None: no service URL)."""
        data = await self._state.get_reference(SURFACE, f"channel:{channel_of(channel_id)}")
        if data:
            return Route(data["service_url"], data.get("tenant_id"), conversation_id=data["conversation_id"])
        found = await self.service_url(self._default_tenant)
        if found is None:
            return None
        return Route(found[0], found[1], channel_id=channel_of(channel_id))

    async def to_conversation(self, conversation_id: str) -> str | None:
        """The service URL to use for an existing conversation (e.g. to update a posted card)."""
        data = await self._state.get_reference(SURFACE, f"channel:{channel_of(conversation_id)}")
        if data:
            return str(data["service_url"])
        for user in (await self._state.references(SURFACE, "user:")).values():
            if user.get("conversation_id") == conversation_id:
                return str(user["service_url"])
        found = await self.service_url(self._default_tenant)
        return found[0] if found else None


async def unseen_approval_channels(state: ChatState, channels: Iterable[str]) -> list[str]:
    """The configured Teams approval conversations the bot has no reference for yet (for `accessbot check`).

    They are still reached (a new thread is created with the tenant's newest service URL), but
    only if the bot is installed in that team; a warning tells the operator to check.
    """
    known = await state.references(SURFACE, "channel:")
    return sorted({channel for channel in channels if f"channel:{channel_of(channel)}" not in known})
