"""Who is clicking: a Slack user id -> their e-mail (users.info) -> the Entra user (the directory).

Mappings are cached twice: in memory (every click would otherwise cost two remote calls) and
in the front end's table of the database (`ChatState` references), so a restarted replica or
a second replica does not ask Slack again. Each entry carries its own expiry: a Slack
profile's e-mail can change, and an account that did not match yet may be linked later, so
only successful lookups are cached, and only for `ttl`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.store.chat_state import ChatState
from workflows.errors import UnknownUser
from workflows.model import Person
from workflows.ports import Clock
from workflows.service import AccessService

log = logging.getLogger("accessbot.slack.identity")

SURFACE = "slack"
DEFAULT_TTL = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SlackIdentity:
    """Maps Slack users to directory people (and approvers' e-mails back to Slack users)."""

    def __init__(
        self,
        client: AsyncWebClient,
        service: AccessService,
        chat_state: ChatState,
        clock: Clock,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._client = client
        self._service = service
        self._state = chat_state
        self._clock = clock
        self._ttl = ttl
        self._people: dict[str, tuple[Person, datetime]] = {}
        self._slack_ids: dict[str, tuple[str | None, datetime]] = {}
        self._locks = [asyncio.Lock() for _ in range(64)]  # striped: bounded memory

    async def person(self, slack_user_id: str) -> Person:
        """The directory person behind a Slack user; `UnknownUser` with a clear message otherwise."""
        now = self._clock.now()
        cached = self._people.get(slack_user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        # One lookup per user at a time: a burst of clicks costs one users.info, not one each.
        async with self._locks[hash(slack_user_id) % len(self._locks)]:
            cached = self._people.get(slack_user_id)
            if cached is not None and cached[1] > now:
                return cached[0]
            stored = await self._state.get_reference(SURFACE, f"user:{slack_user_id}")
            if stored is not None and _parse_time(stored.get("expires_at")) > now:
                person = Person(**stored["person"])
                self._people[slack_user_id] = (person, _parse_time(stored["expires_at"]))
                return person
            email = await self._email(slack_user_id)
            person = await self._service.resolve_person(email)
            expires = now + self._ttl
            self._people[slack_user_id] = (person, expires)
            await self._state.put_reference(
                SURFACE, f"user:{slack_user_id}", {"person": asdict(person), "expires_at": expires.isoformat()}
            )
            return person

    async def _email(self, slack_user_id: str) -> str:
        try:
            response = await self._client.users_info(user=slack_user_id)
        except SlackApiError as error:
            code = error.response.get("error", "") if error.response is not None else ""
            if code in ("user_not_found", "user_not_visible"):
                raise UnknownUser("Slack could not tell me who you are (user not found)") from None
            raise
        user: dict[str, Any] = response.get("user") or {}
        if user.get("is_bot"):
            raise UnknownUser("bots cannot request or approve access")
        email = (user.get("profile") or {}).get("email")
        if not email:
            raise UnknownUser(
                "your Slack profile shows me no e-mail address, so I cannot find your work account "
                "(the app needs the users:read.email scope); ask IT to check the Slack app"
            )
        return str(email)

    async def slack_user_for_email(self, email: str) -> str | None:
        """The Slack user id with this e-mail (users.lookupByEmail), to mention approvers; None if none."""
        key = email.casefold()
        now = self._clock.now()
        cached = self._slack_ids.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            response = await self._client.users_lookupByEmail(email=email)
            user_id: str | None = (response.get("user") or {}).get("id")
        except SlackApiError as error:
            if error.response is None or error.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", error.response.get("error") if error.response else error)
                return None
            user_id = None
        self._slack_ids[key] = (user_id, now + self._ttl)
        return user_id


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        return _EPOCH
    return datetime.fromisoformat(value)
