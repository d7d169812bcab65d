"""The duration and command grammars: tables of examples, and properties checked by hypothesis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.commands import Extend, Help, ListMine, OpenForm, RequestAccess, Revoke, parse_command
from workflows.durations import format_duration, parse_duration
from workflows.errors import InvalidCommand, InvalidDuration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 4H ", timedelta(hours=4)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "h", "4x", "30m1h", "1h 30m", "-1h", "0m", "0h0m", "1.5h", "4hours", "1hh"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidDuration, match="e.g. 30m"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10 * 86400))
def test_format_then_parse_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@given(st.text(max_size=20))
def test_any_text_parses_or_raises_invalid_duration(text: str) -> None:
    try:
        value = parse_duration(text)
    except InvalidDuration:
        return
    assert value > timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", OpenForm()),
        ("   ", OpenForm()),
        ("help", Help()),
        ("list", ListMine()),
        ("revoke 12", Revoke(12)),
        ("cancel #12", Revoke(12)),
        ("extend 12 1h", Extend(12, "1h", "")),
        ("extend 12 1h still debugging", Extend(12, "1h", "still debugging")),
        ("customer-x 4h reason with  spaces", RequestAccess("customer-x", "4h", "reason with spaces")),
        ("CX 30m", RequestAccess("CX", "30m", "")),
        ("cx", RequestAccess("cx", None, "")),
    ],
)
def test_commands(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revoke", "needs a number"),
        ("revoke abc", "not a request number"),
        ("revoke 1 2", "one request number"),
        ("extend 12", "needs a duration"),
        ("list all", "takes no arguments"),
    ],
)
def test_bad_commands(text: str, message: str) -> None:
    with pytest.raises(InvalidCommand, match=message):
        parse_command(text)


def test_bad_duration_in_a_request_names_the_grammar() -> None:
    with pytest.raises(InvalidDuration, match="e.g. 30m"):
        parse_command("customer-x soon please")


@given(st.text(max_size=80))
def test_any_text_parses_or_raises_a_clear_error(text: str) -> None:
    try:
        command = parse_command(text)
    except (InvalidCommand, InvalidDuration) as error:
        assert str(error)
        return
    assert isinstance(command, OpenForm | Help | ListMine | Revoke | Extend | RequestAccess)


@given(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True).filter(
        lambda s: s not in {"list", "revoke", "cancel", "extend", "help"}
    ),
    st.integers(min_value=1, max_value=48 * 60),
    st.lists(st.from_regex(r"[^\s]{1,10}", fullmatch=True), max_size=5),
)
def test_request_round_trip(customer: str, minutes: int, words: list[str]) -> None:
    duration = format_duration(timedelta(minutes=minutes))
    command = parse_command(" ".join([customer, duration, *words]))
    assert command == RequestAccess(customer, duration, " ".join(words))
