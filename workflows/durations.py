"""The duration grammar shared by every surface: ``45s``, ``30m``, ``4h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

from workflows.errors import InvalidDuration

# Units must appear largest first and at most once each: "1h30m" yes, "30m1h" no.
_GRAMMAR = re.compile(r"(?:(?P<d>\d{1,4})d)?(?:(?P<h>\d{1,5})h)?(?:(?P<m>\d{1,6})m)?(?:(?P<s>\d{1,7})s)?")
_EXAMPLES = "use e.g. 30m, 4h, 1h30m, 2d"


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``1h30m``; raise `InvalidDuration` naming the examples."""
    cleaned = text.strip().lower()
    match = _GRAMMAR.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groupdict().values()):
        raise InvalidDuration(f'"{text}" is not a duration; {_EXAMPLES}')
    parts = {unit: int(value) for unit, value in match.groupdict().items() if value}
    value = timedelta(
        days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0), seconds=parts.get("s", 0)
    )
    if value <= timedelta(0):
        raise InvalidDuration(f'"{text}" is zero; a duration must be positive ({_EXAMPLES})')
    return value


def format_duration(value: timedelta) -> str:
    """Render a duration in the grammar's own form, largest units first (``1h30m``)."""
    total = int(value.total_seconds())
    if total <= 0:
        return "0s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n)
    return out
