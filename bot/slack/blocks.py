"""Block Kit building blocks and text safety, shared by every Slack message and modal.

Everything a user typed (reasons, deny notes) and everything the directory returns (names)
goes through `escape` before it is put into mrkdwn: Slack's control characters become HTML
entities (so no ``<!channel>``, ``<@U123>`` or ``<https://evil|bank>`` injection), broadcast
words are defused, and mrkdwn markers are swapped for look-alikes so a stray ``*`` or
three backticks cannot restyle the rest of the message. Every text is cut to Block Kit's
limits with an ellipsis (`fit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Block = dict[str, Any]

# Block Kit limits (docs.slack.dev/reference/block-kit): the ones our messages can reach.
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
CONTEXT_TEXT_MAX = 2000  # per element
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
MAX_OPTIONS = 100
MAX_BLOCKS = 50
MESSAGE_TEXT_MAX = 4000  # the fallback `text`; Slack truncates far later, but notifications stay short
REASON_SHOWN_MAX = 1000  # the core keeps 500; a front end never trusts that blindly
MODAL_TITLE_MAX = 24

ELLIPSIS = "…"
# Look-alikes for mrkdwn markers: intended, they keep the text readable but inert.
_MARKERS = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})  # noqa: RUF001
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


# ---- text safety ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """Make untrusted text inert inside mrkdwn (and in a message's fallback `text`).

    Whitespace (newlines included) is collapsed, so text cannot start a block quote or a
    list on a line of its own.
    """
    cleaned = _SPACES.sub(" ", text).strip()
    cleaned = cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    cleaned = _BROADCAST.sub(lambda m: "@\u200b" + m.group(1), cleaned)
    return cleaned.translate(_MARKERS)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def fit(text: str, limit: int) -> str:
    """Escape `text` and cut it so that the escaped form fits in `limit` characters.

    Cutting happens on the raw text, so an entity such as ``&amp;`` is never split.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    raw = _SPACES.sub(" ", text).strip()
    keep = limit - 1
    while keep > 0:
        candidate = escape(raw[:keep]) + ELLIPSIS
        if len(candidate) <= limit:
            return candidate
        keep -= max(1, (len(candidate) - limit))
    return ELLIPSIS


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object (labels, buttons): Slack shows it literally, we only cut it."""
    return {"type": "plain_text", "text": truncate(_SPACES.sub(" ", text).strip() or "-", limit), "emoji": True}


def mrkdwn(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    """A mrkdwn object whose text we built (untrusted parts already escaped)."""
    return {"type": "mrkdwn", "text": text, "verbatim": verbatim}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(truncate(text, SECTION_TEXT_MAX))}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(truncate(text, CONTEXT_TEXT_MAX))]}


def button(
    text: str, action_id: str, value: str, style: str | None = None, confirm: dict[str, Any] | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


@dataclass(frozen=True, slots=True)
class Message:
    """A message to post: the fallback text (notifications, screen readers) and the blocks."""

    text: str
    blocks: list[Block]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": truncate(self.text, MESSAGE_TEXT_MAX), "blocks": self.blocks[:MAX_BLOCKS]}


# ---- times ---------------------------------------------------------------------------------


def clock(when: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """``HH:MM TZ`` in the configured time zone, with the date when it is not today there."""
    if when is None:
        return "-"
    local = when.astimezone(tz)
    text = local.strftime("%H:%M %Z").strip()
    if now is not None and now.astimezone(tz).date() != local.date():
        text = local.strftime("%a %d %b ") + text
    return text


def person_label(name: str, upn: str) -> str:
    """``Jane Doe (jane@contoso.com)``, escaped; just the UPN when the name is the UPN."""
    if name and name.casefold() != upn.casefold():
        return f"{fit(name, 100)} ({fit(upn, 200)})"
    return fit(upn, 200)
