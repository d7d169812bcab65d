"""Inbound Teams activities for tests, built from the reference captures in
``reference/teams/`` (Microsoft's own Teams SDK test data): same shape and fields, with our
users, conversations and the fake connector's service URL filled in."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.openapi import REFERENCE_DIR

TEAMS_REFERENCE = REFERENCE_DIR / "teams"


def reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEAMS_REFERENCE / name).read_text())
    activity: dict[str, Any] = data["activity"]
    return activity


@dataclass(frozen=True)
class TeamsUser:
    """A Teams user: their Teams id (29:...), display name and Entra object id."""

    aad_object_id: str
    name: str
    id: str = field(default_factory=lambda: f"29:{uuid.uuid4().hex}")

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


@dataclass(frozen=True)
class Tenant:
    """Where the activities come from: the tenant, the bot's account and the connector's service URL."""

    service_url: str
    tenant_id: str
    bot_id: str = field(default_factory=lambda: f"28:{uuid.uuid4()}")
    bot_name: str = "accessbot"

    def _base(self, template: dict[str, Any], sender: TeamsUser) -> dict[str, Any]:
        activity = copy.deepcopy(template)
        now = datetime.now(UTC)
        activity.update(
            id=f"{int(now.timestamp() * 1000)}{uuid.uuid4().hex[:4]}",
            serviceUrl=self.service_url,
            timestamp=now.isoformat().replace("+00:00", "Z"),
            localTimestamp=now.isoformat(),
            recipient={"id": self.bot_id, "name": self.bot_name},
        )
        activity["from"] = sender.account()
        activity["channelData"]["tenant"] = {"id": self.tenant_id}
        activity["conversation"]["tenantId"] = self.tenant_id
        return activity

    def personal_message(self, sender: TeamsUser, conversation_id: str, text: str) -> dict[str, Any]:
        """A message in the personal chat with the bot (shape of the personal-chat reference activity)."""
        activity = self._base(reference("teams_invoke_adaptive_card_action.json"), sender)
        for key in ("name", "value", "replyToId"):
            activity.pop(key, None)
        activity["channelData"].pop("source", None)
        activity["channelData"].pop("legacy", None)
        activity.update(type="message", text=text, textFormat="plain")
        activity["conversation"]["id"] = conversation_id
        return activity

    def channel_message(self, sender: TeamsUser, channel_id: str, team_id: str, text: str) -> dict[str, Any]:
        """An @mention of the bot in a channel thread (the channel reference activity, with our ids)."""
        activity = self._base(reference("teams_message_activity_channel.json"), sender)
        mention = f"<at>{self.bot_name}</at>"
        activity["text"] = f"{mention} {text}"
        activity["entities"][0] = {"mentioned": {"id": self.bot_id, "name": self.bot_name}, "text": mention,
                                   "type": "mention"}  # fmt: skip
        activity["attachments"][0]["content"] = f"<p>{mention}&nbsp;{text}</p>"
        data = activity["channelData"]
        data.update(teamsChannelId=channel_id, teamsTeamId=team_id, channel={"id": channel_id}, team={"id": team_id})
        activity["conversation"]["id"] = f"{channel_id};messageid={activity['id']}"
        return activity

    def bot_added_to_team(self, sender: TeamsUser, team_id: str) -> dict[str, Any]:
        """The conversationUpdate Teams sends when `sender` adds the bot to a team (General channel = team id)."""
        activity = self._base(reference("teams_message_activity_channel.json"), sender)
        for key in ("text", "textFormat", "attachments", "entities", "locale", "localTimezone"):
            activity.pop(key, None)
        activity.update(type="conversationUpdate", membersAdded=[{"id": self.bot_id}])
        activity["channelData"] = {"team": {"id": team_id, "name": "Approvers"}, "eventType": "teamMemberAdded",
                                   "tenant": {"id": self.tenant_id}}  # fmt: skip
        activity["conversation"]["id"] = team_id
        return activity

    def invoke(
        self, sender: TeamsUser, conversation_id: str, reply_to_id: str, verb: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """An ``adaptiveCard/action`` invoke (Action.Execute) on the card `reply_to_id` in a conversation."""
        activity = self._base(reference("teams_invoke_adaptive_card_action.json"), sender)
        activity["conversation"]["id"] = conversation_id
        if conversation_id.startswith("19:"):
            activity["conversation"].update(conversationType="channel", isGroup=True)
            channel = conversation_id.split(";")[0]
            activity["channelData"].update(channel={"id": channel}, teamsChannelId=channel)
        activity["replyToId"] = reply_to_id
        activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
        activity["value"] = {
            "action": {"type": "Action.Execute", "title": verb.title(), "verb": verb, "data": data},
            "trigger": "manual",
        }
        return activity

    def submit(self, sender: TeamsUser, conversation_id: str, reply_to_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """What an old client sends for the Action.Submit fallback: a message whose value is the data."""
        activity = self.personal_message(sender, conversation_id, "")
        activity.pop("text", None)
        activity["replyToId"] = reply_to_id
        activity["value"] = data
        return activity
