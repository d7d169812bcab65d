"""The TOML configuration file: customers, their policies, and where the bot posts.

The file holds no secrets (those come from the environment, see `bot.settings`). It is
validated completely on load, and every problem is reported at once, one line each, as
``<key path>: <what is wrong and what is expected>`` so an operator can fix the file in one
pass instead of one error per restart.

Validation runs in two phases. Pydantic checks each table's shape and types (unknown keys,
durations, UPNs, time zone ...); the checks that span tables (a customer's policy merged
with ``[defaults]``, names unique across customers) run afterwards on whatever was valid.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from workflows.commands import RESERVED_WORDS
from workflows.durations import format_duration, parse_duration
from workflows.errors import ConfigError, InvalidDuration
from workflows.policy import Catalog, CustomerPolicy

__all__ = ["AppConfig", "ConfigFileError", "load_config", "parse_config"]

CONFIG_ENV_VAR = "ACCESSBOT_CONFIG"

# A customer key (and alias) is typed as the first word of `/access <customer> ...`, shows up
# in audit records and metric labels: keep it one short, shell- and URL-safe word.
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$", re.IGNORECASE)
_NAME_RULE = '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit'
_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# Keys that name a credential. Matched against the key with "-" read as "_", anywhere in the file.
_SECRET_KEY = re.compile(
    r"secret|token|passw(or)?d|(^|_)pwd($|_)|api_?key|private_?key|access_?key|credential|certificate"
)
# Values that are unmistakably credentials even under an innocent key (a pasted Slack token, a PEM key).
_SECRET_VALUE = re.compile(r"^\s*(xox[abposr]-|xapp-)|-----BEGIN [A-Z ]*PRIVATE KEY-----")
_SECRET_ENV_HINTS = (
    ("signing", "SLACK_SIGNING_SECRET"),
    ("app_token", "SLACK_APP_TOKEN"),
    ("bot_token", "SLACK_BOT_TOKEN"),
    ("client_secret", "AZURE_CLIENT_SECRET"),
    ("certificate", "AZURE_CLIENT_CERTIFICATE_PATH"),
    ("passw", "MICROSOFT_APP_PASSWORD"),
    ("api_token", "CLOUDFLARE_API_TOKEN"),
)
_ALL_SECRET_ENV = (
    "AZURE_CLIENT_SECRET, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, "
    "MICROSOFT_APP_PASSWORD, CLOUDFLARE_API_TOKEN"
)

# What each key expects, used to word type errors ("expected <this>, got ...").
_EXPECTED: dict[str, str] = {
    "bot": "a table",
    "defaults": "a table",
    "cloudflare": "a table",
    "scheduler": "a table",
    "customers": "one [customers.<key>] table per customer",
    "timezone": 'an IANA time zone name such as "Europe/Prague" or "UTC"',
    "summary_time": 'a time of day as "HH:MM", e.g. "08:00"',
    "summary_channel": 'a table such as { slack = "C0SUMMARY" } (keys: slack, teams)',
    "approval_channel": 'a table such as { slack = "C0APPROVALS" } (keys: slack, teams)',
    "slack": 'a Slack channel id such as "C0APPROVALS"',
    "teams": "a Teams conversation id (a non-empty string)",
    "default_duration": 'a duration such as "30m", "4h" or "1h30m"',
    "min_duration": 'a duration such as "30m", "4h" or "1h30m"',
    "max_duration": 'a duration such as "30m", "4h" or "1h30m"',
    "pending_timeout": 'a duration such as "30m", "4h" or "1h30m"',
    "reminder_before_end": 'a duration such as "15m"',
    "approver_reminder_first": 'a duration such as "15m"',
    "approvals_required": "a whole number, at least 1",
    "allow_self_approval": "true or false",
    "require_reason": "true or false",
    "devices": "true or false",
    "warp_session_reauth": "true or false",
    "approvers": 'an array of UPNs, e.g. ["alice@contoso.com", "bob@contoso.com"]',
    "approver_group_id": "the object id of the Entra group whose members may approve (a string)",
    "group_id": "the object id of the Entra group that the Gateway policy checks (a string)",
    "virtual_network_id": "the Cloudflare virtual network id (a string)",
    "display_name": 'a non-empty string such as "Customer X"',
    "aliases": 'an array of short names, e.g. ["cx"]',
}
_ITEM_EXPECTED: dict[str, str] = {
    "approvers": "a UPN such as alice@contoso.com",
    "aliases": 'a short name such as "cx"',
}


def _fail(message: str) -> PydanticCustomError:
    # One error type for all our own checks, so the formatter can print the message verbatim.
    return PydanticCustomError("accessbot", message)


def _show(value: object) -> str:
    """A value as the operator wrote it in TOML, shortened; used in error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 60 else shown[:56] + '..."'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, int | float):
        return repr(value)
    return f"{type(value).__name__} {value}"


def _duration(value: object) -> timedelta:
    if not isinstance(value, str):
        raise _fail(f'expected a duration string such as "4h", got {_show(value)}')
    try:
        return parse_duration(value)
    except InvalidDuration as error:
        raise _fail(error.message) from None


def _zone(value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"expected {_EXPECTED['timezone']}, got {_show(value)}")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: not a valid key (e.g. "../x"); OSError: a directory such as "Europe".
        raise _fail(f'{_show(value)} is not an IANA time zone name; use e.g. "Europe/Prague" or "UTC"') from None


def _clock_time(value: object) -> time:
    # TOML has a native local time (08:00:00); accept it when it is a whole minute.
    if isinstance(value, time) and value.tzinfo is None and not value.second and not value.microsecond:
        return value
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _fail(f'{_show(value)} is not a time of day; use "HH:MM", e.g. "08:00"')
    return time(int(match[1]), int(match[2]))


def _upn(value: str) -> str:
    if not _UPN.fullmatch(value):
        raise _fail(f"{_show(value)} is not a UPN or e-mail address; use e.g. alice@contoso.com")
    return value


def _unique_upns(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value.casefold() in seen:
            raise _fail(f"{_show(value)} is listed twice (UPNs are compared case-insensitively)")
        seen.add(value.casefold())
    return values


def _name_problem(name: str) -> str | None:
    """Why `name` cannot be a customer key or alias, or None if it can."""
    if not _NAME.fullmatch(name):
        return f"{_show(name)} is not a valid name; use {_NAME_RULE}"
    if name.casefold() in RESERVED_WORDS:
        words = ", ".join(sorted(RESERVED_WORDS))
        return f"{_show(name)} is a command word ({words}); pick another name"
    return None


def _alias(value: str) -> str:
    problem = _name_problem(value)
    if problem:
        raise _fail(problem)
    return value


def _object_id(value: str) -> str:
    # The example file's "<Entra group object id ...>" left in place would fail only at grant time.
    if value.startswith("<") and value.endswith(">"):
        raise _fail(f"{_show(value)} is still a placeholder; put the real id here")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ObjectId = Annotated[Text, AfterValidator(_object_id)]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
Upn = Annotated[Text, AfterValidator(_upn)]
Approvers = Annotated[list[Upn], AfterValidator(_unique_upns)]
Alias = Annotated[Text, AfterValidator(_alias)]


class _Table(BaseModel):
    # strict: TOML already has real types, so "1" must not silently become 1 (or "true" True).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)


class _Channels(_Table):
    """Where to post, per chat surface: `{ slack = "C0..." }` and/or `{ teams = "<conversation id>" }`."""

    slack: Text | None = None
    teams: Text | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> _Channels:
        if self.slack is None and self.teams is None:
            raise _fail('is empty; name a channel, e.g. { slack = "C0APPROVALS" } and/or teams = "<conversation id>"')
        return self

    def as_dict(self) -> dict[str, str]:
        return {surface: channel for surface, channel in (("slack", self.slack), ("teams", self.teams)) if channel}


class _Bot(_Table):
    """`[bot]`: display time zone and the daily summary."""

    timezone: Annotated[ZoneInfo, BeforeValidator(_zone)] = Field(default_factory=lambda: ZoneInfo("UTC"))
    summary_time: Annotated[time, BeforeValidator(_clock_time)] = time(8, 0)
    summary_channel: _Channels | None = None


class _Policy(_Table):
    """The policy keys: allowed in `[defaults]` and in each customer, which overrides key by key.

    None means "not set here", so a customer inherits the key from `[defaults]`, and
    `[defaults]` from `CustomerPolicy`'s built-in default.
    """

    default_duration: Duration | None = None
    min_duration: Duration | None = None
    max_duration: Duration | None = None
    approvals_required: Annotated[int, Field(ge=1)] | None = None
    pending_timeout: Duration | None = None
    allow_self_approval: bool | None = None
    require_reason: bool | None = None
    approvers: Approvers | None = None
    approver_group_id: ObjectId | None = None
    approval_channel: _Channels | None = None


class _Customer(_Policy):
    """`[customers.<key>]`: one customer network."""

    group_id: ObjectId
    display_name: Text | None = None
    aliases: list[Alias] = []
    virtual_network_id: ObjectId | None = None


class _Cloudflare(_Table):
    """`[cloudflare]`: what `revoke_user` ends besides Access sessions."""

    devices: bool = True
    warp_session_reauth: bool = True


class _Scheduler(_Table):
    """`[scheduler]`: reminder timings."""

    reminder_before_end: Duration = timedelta(minutes=15)
    approver_reminder_first: Duration = timedelta(minutes=15)


class _File(_Table):
    """The whole file. Customers are validated one by one (see `_parse`), so they stay raw here."""

    bot: _Bot = Field(default_factory=_Bot)
    defaults: _Policy = Field(default_factory=_Policy)
    customers: dict[str, Any]
    cloudflare: _Cloudflare = Field(default_factory=_Cloudflare)
    scheduler: _Scheduler = Field(default_factory=_Scheduler)


_POLICY_KEYS = tuple(_Policy.model_fields)
_SECTIONS: dict[str, type[_Table]] = {
    "bot": _Bot,
    "defaults": _Policy,
    "cloudflare": _Cloudflare,
    "scheduler": _Scheduler,
}
_BUILT_IN = CustomerPolicy(key="-", display_name="-", group_id="-")  # the dataclass defaults, by attribute

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class AppConfig:
    """The validated configuration file, in the core's own types."""

    catalog: Catalog
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    summary_time: time = time(8, 0)
    summary_channels: dict[str, str] = field(default_factory=dict)  # "slack" / "teams" -> channel id
    cloudflare_devices: bool = True
    cloudflare_warp_session_reauth: bool = True
    reminder_before_end: timedelta = timedelta(minutes=15)
    approver_reminder_first: timedelta = timedelta(minutes=15)
    source: str = "<config>"


class ConfigFileError(ConfigError):
    """A configuration file with problems. `problems` holds one ``<key path>: <what is expected>`` each."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


def load_config(path: str | Path) -> AppConfig:
    """Read and validate the TOML file at `path`; `ConfigError` says what to fix."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {file} (looked for {file.absolute()}); "
            f"pass --config <path> or set {CONFIG_ENV_VAR} (see examples/accessbot.toml)"
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {file} is not UTF-8 text: {error.reason} at byte {error.start}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {file}: {error.strerror or error}") from None
    return parse_config(text, source=str(file))


def parse_config(text: str, source: str = "<config>") -> AppConfig:
    """Validate TOML text; `ConfigFileError` (a `ConfigError`) lists every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The parser's message ends with "(at line L, column C)": keep it, that is what to fix.
        raise ConfigFileError(source, [f"invalid TOML: {error}"]) from None
    problems: list[str] = []
    clean = _strip_secrets(data, (), problems)
    config = _parse(clean, source, problems)
    if problems or config is None:
        raise ConfigFileError(source, problems or ["invalid configuration"])
    return config


# --- phase 0: secrets -------------------------------------------------------------------------


def _strip_secrets(node: Any, loc: Loc, problems: list[str]) -> Any:
    """Report credential-like keys and values anywhere; return the data without those keys.

    The keys are dropped so they are not reported a second time as unknown keys. Values are
    never echoed, so the error message cannot leak the secret into logs.
    """
    if isinstance(node, dict):
        clean: dict[str, Any] = {}
        for key, value in node.items():
            # Directly under [customers] the keys are customer names, not settings.
            is_name = loc == ("customers",)
            normalized = key.casefold().replace("-", "_")
            if not is_name and _SECRET_KEY.search(normalized):
                problems.append(f"{_path((*loc, key))}: {_secret_advice(normalized)}")
                continue
            clean[key] = _strip_secrets(value, (*loc, key), problems)
        return clean
    if isinstance(node, list):
        return [_strip_secrets(item, (*loc, index), problems) for index, item in enumerate(node)]
    if isinstance(node, str) and _SECRET_VALUE.search(node):
        problems.append(
            f"{_path(loc)}: this value looks like a token or private key; secrets never go in the config file, "
            f"they come from the environment ({_ALL_SECRET_ENV}, or a .env file)"
        )
    return node


def _secret_advice(normalized_key: str) -> str:
    variable = next((env for hint, env in _SECRET_ENV_HINTS if hint in normalized_key), None)
    where = f"set {variable}" if variable else f"use the matching variable ({_ALL_SECRET_ENV})"
    return (
        f"looks like a secret; secrets never go in the config file, they come from the environment: "
        f"{where} in the environment or a .env file, and remove this key"
    )


# --- phase 1: shapes and types ----------------------------------------------------------------


def _parse(data: dict[str, Any], source: str, problems: list[str]) -> AppConfig | None:
    file: _File | None = None
    try:
        file = _File.model_validate(data)
    except ValidationError as error:
        problems.extend(_describe(error, ()))
    # Even when another table is broken, [defaults] may be fine: the customer checks need it.
    defaults = file.defaults if file else _quietly(_Policy, data.get("defaults", {}))

    raw_customers = data.get("customers")
    customers: dict[str, _Customer] = {}
    if isinstance(raw_customers, dict):
        if not raw_customers and file is not None:
            problems.append("customers: no customers configured; add at least one [customers.<key>] table")
        for key, raw in raw_customers.items():
            try:
                customers[key] = _Customer.model_validate(raw)
            except ValidationError as error:
                problems.extend(_describe(error, ("customers", key)))

    # --- phase 2: checks across tables ---
    _check_names(raw_customers if isinstance(raw_customers, dict) else {}, customers, problems)
    policies: list[CustomerPolicy] = []
    if defaults is not None:
        _check_duration_order(("defaults",), _merge(defaults, None), problems)
        for key, customer in customers.items():
            merged = _merge(defaults, customer)
            _check_duration_order(("customers", key), merged, problems)
            _check_approvers(("customers", key), merged, problems)
            policies.append(_policy(key, customer, merged))

    if problems or file is None:
        return None
    return AppConfig(
        catalog=Catalog(policies),
        timezone=file.bot.timezone,
        summary_time=file.bot.summary_time,
        summary_channels=file.bot.summary_channel.as_dict() if file.bot.summary_channel else {},
        cloudflare_devices=file.cloudflare.devices,
        cloudflare_warp_session_reauth=file.cloudflare.warp_session_reauth,
        reminder_before_end=file.scheduler.reminder_before_end,
        approver_reminder_first=file.scheduler.approver_reminder_first,
        source=source,
    )


def _quietly(model: type[_Policy], raw: object) -> _Policy | None:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None  # already reported when the whole file was validated


def _describe(error: ValidationError, prefix: Loc) -> list[str]:
    """Pydantic's errors as ``<key path>: <problem>; expected <...>`` lines."""
    lines = []
    for item in error.errors(include_url=False):
        loc: Loc = (*prefix, *item["loc"])
        kind = item["type"]
        if kind == "accessbot":
            lines.append(f"{_path(loc)}: {item['msg']}")
        elif kind == "extra_forbidden":
            lines.append(f"{_path(loc)}: {_unknown_key(loc)}")
        elif kind == "missing":
            lines.append(f"{_path(loc)}: missing; expected {_expected(loc)}")
        else:
            lines.append(f"{_path(loc)}: expected {_expected(loc)}, got {_show(item['input'])}")
    return lines


def _unknown_key(loc: Loc) -> str:
    key, parent = str(loc[-1]), loc[:-1]
    model = _model_at(parent)
    if model is None:
        return "unknown key"
    allowed = sorted(model.model_fields)
    guess = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {guess[0]}?)" if guess else ""
    return f"unknown key{hint}; allowed keys: {', '.join(allowed)}"


def _model_at(parent: Loc) -> type[BaseModel] | None:
    """The model of the table at `parent`, to list the keys it allows."""
    if not parent:
        return _File
    if len(parent) == 2 and parent[0] == "customers":
        return _Customer
    if parent[-1] in ("approval_channel", "summary_channel"):
        return _Channels
    if len(parent) == 1:
        return _SECTIONS.get(str(parent[0]))
    return None


def _expected(loc: Loc) -> str:
    if len(loc) == 2 and loc[0] == "customers":
        return "a [customers.<key>] table with at least group_id and approvers"
    names = [part for part in loc if isinstance(part, str)]
    name = names[-1] if names else ""
    if loc and isinstance(loc[-1], int):
        return _ITEM_EXPECTED.get(name, "a valid entry")
    return _EXPECTED.get(name, "a valid value")


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _path(loc: Loc) -> str:
    """A TOML-style key path: customers.customer-x.approvers[1], customers."a b".group_id."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            out += f".{key}" if out else key
    return out or "(top level)"


# --- phase 2: checks across tables ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Merged:
    """A customer's effective policy values, and where each came from (for the messages)."""

    values: Mapping[str, Any]
    origin: Mapping[str, str]  # key -> "here" | "[defaults]" | "built-in default"


def _merge(defaults: _Policy, customer: _Customer | None) -> _Merged:
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key in _POLICY_KEYS:
        own = getattr(customer, key) if customer is not None else getattr(defaults, key)
        inherited = getattr(defaults, key) if customer is not None else None
        if own is not None:
            values[key], origin[key] = own, "here"
        elif inherited is not None:
            values[key], origin[key] = inherited, "[defaults]"
        else:
            built_in = _BUILT_IN.approval_channels if key == "approval_channel" else getattr(_BUILT_IN, key)
            values[key], origin[key] = built_in, "built-in default"
    return _Merged(values, origin)


def _from(origin: str) -> str:
    return {"here": "", "[defaults]": " (from [defaults])"}.get(origin, f" ({origin})")


def _check_duration_order(prefix: Loc, merged: _Merged, problems: list[str]) -> None:
    """min_duration <= default_duration <= max_duration, reported at a key this table sets."""
    values, origin = merged.values, merged.origin
    for low, high in (("min_duration", "default_duration"), ("default_duration", "max_duration")):
        if values[low] <= values[high]:
            continue
        if origin[low] != "here" and origin[high] != "here":
            continue  # inherited as a whole: reported once, at [defaults]
        at, other = (high, low) if origin[high] == "here" else (low, high)
        relation = "shorter" if at == high else "longer"
        problems.append(
            f"{_path((*prefix, at))}: {format_duration(values[at])} is {relation} than {other} "
            f"{format_duration(values[other])}{_from(origin[other])}; "
            "need min_duration <= default_duration <= max_duration"
        )


def _check_approvers(prefix: Loc, merged: _Merged, problems: list[str]) -> None:
    values, origin = merged.values, merged.origin
    approvers: Sequence[str] = values["approvers"]
    group: str | None = values["approver_group_id"]
    required: int = values["approvals_required"]
    if not approvers and group is None:
        problems.append(
            f'{_path((*prefix, "approvers"))}: nobody can approve; list approvers = ["alice@contoso.com"] (UPNs) '
            "and/or set approver_group_id, here or in [defaults]"
        )
    elif group is None and required > len(approvers):
        listed = f"{len(approvers)} approver{'s' if len(approvers) != 1 else ''} listed"
        problems.append(
            f"{_path((*prefix, 'approvals_required'))}: {required} approvals required"
            f"{_from(origin['approvals_required'])} but only {listed}{_from(origin['approvers'])}; "
            "list more approvers, lower approvals_required, or set approver_group_id"
        )


def _check_names(raw: Mapping[str, Any], customers: Mapping[str, _Customer], problems: list[str]) -> None:
    """Keys and aliases: well-formed, not command words, unique case-insensitively across customers."""
    claimed: dict[str, str] = {}  # casefolded name -> path of the customer that uses it first

    def claim(name: str, loc: Loc) -> None:
        owner = _path(loc[:2])
        taken = claimed.get(name.casefold())
        if taken is None:
            claimed[name.casefold()] = owner
            return
        who = "this customer's key or another of its aliases" if taken == owner else taken
        problems.append(
            f"{_path(loc)}: {_show(name)} is already used by {who} "
            "(customer keys and aliases must be unique, compared case-insensitively)"
        )

    for key in raw:
        problem = _name_problem(key)
        if problem:
            problems.append(f"{_path(('customers', key))}: {problem.replace('valid name', 'valid customer key')}")
        claim(key, ("customers", key))
    # Aliases after all keys, so a clash between an alias and a key is reported at the alias.
    for key, customer in customers.items():
        for index, alias in enumerate(customer.aliases):
            claim(alias, ("customers", key, "aliases", index))


def _policy(key: str, customer: _Customer, merged: _Merged) -> CustomerPolicy:
    values = merged.values
    channels: _Channels | Mapping[str, str] = values["approval_channel"]
    return CustomerPolicy(
        key=key,
        display_name=customer.display_name or key,
        group_id=customer.group_id,
        aliases=tuple(customer.aliases),
        virtual_network_id=customer.virtual_network_id,
        approvers=tuple(values["approvers"]),
        approver_group_id=values["approver_group_id"],
        approval_channels=channels.as_dict() if isinstance(channels, _Channels) else dict(channels),
        default_duration=values["default_duration"],
        min_duration=values["min_duration"],
        max_duration=values["max_duration"],
        approvals_required=values["approvals_required"],
        pending_timeout=values["pending_timeout"],
        allow_self_approval=values["allow_self_approval"],
        require_reason=values["require_reason"],
    )
