"""What the chat front ends remember between events: the messages they posted about a request
(to update them in place) and references they learned (Teams conversations, service URLs,
Slack user mappings). Front-end state, not workflow state: the core never reads it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.tables import ChatMessageRow, ChatReferenceRow

messages_t = ChatMessageRow.__table__  # type: ignore[attr-defined]
references_t = ChatReferenceRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PostedMessage:
    request_id: int
    surface: str
    channel: str
    message_id: str
    purpose: str


class ChatState:
    """Posted messages and learned references, on the bot's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save_message(self, message: PostedMessage) -> None:
        """Remember a posted message (a later post for the same request/channel/purpose replaces it)."""
        values = {"message_id": message.message_id, "created_at": datetime.now(UTC)}
        key = {
            "request_id": message.request_id,
            "surface": message.surface,
            "channel": message.channel,
            "purpose": message.purpose,
        }
        async with self._engine.begin() as conn:
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(messages_t).values(**key, **values))
            except IntegrityError:
                await conn.execute(
                    update(messages_t).where(*(messages_t.c[k] == v for k, v in key.items())).values(**values)
                )

    async def messages(
        self, request_id: int, *, surface: str | None = None, purpose: str | None = None
    ) -> list[PostedMessage]:
        stmt = select(messages_t).where(messages_t.c.request_id == request_id).order_by(messages_t.c.id)
        if surface is not None:
            stmt = stmt.where(messages_t.c.surface == surface)
        if purpose is not None:
            stmt = stmt.where(messages_t.c.purpose == purpose)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings()
            return [
                PostedMessage(r["request_id"], r["surface"], r["channel"], r["message_id"], r["purpose"]) for r in rows
            ]

    async def put_reference(self, surface: str, key: str, data: dict[str, Any]) -> None:
        """Store (or replace) what a front end learned under `key`."""
        values = {"data": json.dumps(data, sort_keys=True), "updated_at": datetime.now(UTC)}
        async with self._engine.begin() as conn:
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(references_t).values(surface=surface, key=key, **values))
            except IntegrityError:
                await conn.execute(
                    update(references_t)
                    .where(references_t.c.surface == surface, references_t.c.key == key)
                    .values(**values)
                )

    async def get_reference(self, surface: str, key: str) -> dict[str, Any] | None:
        stmt = select(references_t.c.data).where(references_t.c.surface == surface, references_t.c.key == key)
        async with self._engine.connect() as conn:
            found = (await conn.execute(stmt)).scalar()
        return json.loads(found) if found is not None else None

    async def references(self, surface: str, prefix: str = "") -> dict[str, dict[str, Any]]:
        """Every reference of a surface whose key starts with `prefix`, newest last."""
        stmt = (
            select(references_t.c.key, references_t.c.data)
            .where(references_t.c.surface == surface, references_t.c.key.startswith(prefix, autoescape=True))
            .order_by(references_t.c.updated_at)
        )
        async with self._engine.connect() as conn:
            return {key: json.loads(data) for key, data in (await conn.execute(stmt)).all()}
