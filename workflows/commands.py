"""The command grammar shared by Slack (`/access ...`) and Teams (`access ...`).

    <customer> [<duration> [reason...]]   request (or extend, if access is live)
    list | revoke <id> | cancel <id> | extend <id> <duration> [reason...] | help
    (nothing)                              open the request form
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.durations import parse_duration
from workflows.errors import InvalidCommand

RESERVED_WORDS = frozenset({"list", "revoke", "cancel", "extend", "help", "access"})


@dataclass(frozen=True, slots=True)
class OpenForm:
    """No arguments: show the request form (a Slack modal, a Teams card)."""


@dataclass(frozen=True, slots=True)
class RequestAccess:
    customer: str
    duration: str | None  # None: the customer's default
    reason: str


@dataclass(frozen=True, slots=True)
class ListMine:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Revoke:
    """End my grant early, or withdraw my pending request, by its number."""

    id: int


@dataclass(frozen=True, slots=True)
class Extend:
    id: int
    duration: str
    reason: str


Command = OpenForm | RequestAccess | ListMine | Help | Revoke | Extend

USAGE = (
    "`access <customer> <duration> [reason]` (e.g. `access customer-x 4h fixing the VPN`), "
    "`access list`, `access revoke <id>`, `access extend <id> <duration>`, `access help`"
)


def _parse_id(token: str | None, verb: str) -> int:
    if token is None:
        raise InvalidCommand(f"`{verb}` needs a number, e.g. `{verb} 12`")
    digits = token.removeprefix("#")
    if not digits.isdigit() or len(digits) > 12:
        raise InvalidCommand(f"{token!r} is not a request number; `list` shows yours")
    return int(digits)


def parse_command(text: str) -> Command:
    """Parse what the user typed after `/access` (or `access`); `InvalidCommand` explains the grammar."""
    words = text.split()
    if not words:
        return OpenForm()
    head, rest = words[0].casefold(), words[1:]
    if head in ("help", "?", "-h", "--help"):
        return Help()
    if head == "list":
        if rest:
            raise InvalidCommand("`list` takes no arguments")
        return ListMine()
    if head in ("revoke", "cancel"):
        if len(rest) > 1:
            raise InvalidCommand(f"`{head}` takes one request number, e.g. `{head} 12`")
        return Revoke(_parse_id(rest[0] if rest else None, head))
    if head == "extend":
        number = _parse_id(rest[0] if rest else None, "extend")
        if len(rest) < 2:
            raise InvalidCommand(f"`extend {number}` needs a duration, e.g. `extend {number} 1h`")
        parse_duration(rest[1])  # fail early with the duration grammar's own message
        return Extend(number, rest[1], " ".join(rest[2:]))
    if not rest:
        return RequestAccess(words[0], None, "")
    parse_duration(rest[0])
    return RequestAccess(words[0], rest[0], " ".join(rest[1:]))
