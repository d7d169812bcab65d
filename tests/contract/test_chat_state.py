"""The front ends' chat state on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.store.chat_state import ChatState, PostedMessage


async def test_messages_are_kept_and_replaced(engine: AsyncEngine) -> None:
    chat = ChatState(engine)
    await chat.save_message(PostedMessage(1, "slack", "C1", "111.1", "approval"))
    await chat.save_message(PostedMessage(1, "slack", "D9", "222.2", "requester"))
    await chat.save_message(PostedMessage(1, "slack", "C1", "333.3", "approval"))  # re-posted
    assert [m.message_id for m in await chat.messages(1, purpose="approval")] == ["333.3"]
    assert len(await chat.messages(1, surface="slack")) == 2
    assert await chat.messages(2) == []


async def test_references_upsert_and_prefix(engine: AsyncEngine) -> None:
    chat = ChatState(engine)
    await chat.put_reference("teams", "user:abc", {"conversation": "a:1"})
    await chat.put_reference("teams", "user:abc", {"conversation": "a:2"})
    await chat.put_reference("teams", "channel:19:x", {"conversation": "19:x"})
    await chat.put_reference("teams", "user_%", {"conversation": "odd"})
    assert await chat.get_reference("teams", "user:abc") == {"conversation": "a:2"}
    assert await chat.get_reference("slack", "user:abc") is None
    assert set(await chat.references("teams", "user:")) == {"user:abc"}
