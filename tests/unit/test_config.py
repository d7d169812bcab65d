"""The TOML configuration: the example loads, defaults are inherited, and every rule names its key path."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import AppConfig, ConfigFileError, load_config, parse_config
from workflows.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "accessbot.toml"

CX = """
group_id = "group-x"
approvers = ["alice@contoso.example", "bob@contoso.example"]
"""


def toml(*, cx: str = CX, bot: str = "", defaults: str = "", more: str = "") -> str:
    """A small valid file with one customer (customer-x); each argument adds or replaces lines."""
    return f"[bot]\n{bot}\n[defaults]\n{defaults}\n[customers.customer-x]\n{cx}\n{more}\n"


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(text, source="test.toml")
    return caught.value.problems


# --- the example ---------------------------------------------------------------------------------


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.catalog.keys() == ["customer-x", "customer-y"]
    assert str(config.timezone) == "Europe/Prague"
    assert config.summary_time == time(8, 0)
    assert config.summary_channels == {"slack": "C0SUMMARY"}
    x, y = config.catalog.get("customer-x"), config.catalog.get("customer-y")
    assert x.approvers == ("alice@contoso.example", "bob@contoso.example")
    assert x.approval_channels == {"slack": "C0APPROVALS"}
    assert y.approval_channels == {"slack": "C0APPROVALS"}  # inherited from [defaults]
    assert (x.max_duration, y.max_duration) == (timedelta(hours=4), timedelta(hours=2))
    assert y.approvals_required == 2 and y.require_reason
    assert config.source == str(EXAMPLE)


# --- what a valid file produces --------------------------------------------------------------------


def test_sections_left_out_take_their_defaults() -> None:
    config = parse_config("[customers.customer-x]\n" + CX)
    assert config == AppConfig(
        catalog=config.catalog,
        timezone=config.timezone,
        summary_time=time(8, 0),
        summary_channels={},
        cloudflare_devices=True,
        cloudflare_warp_session_reauth=True,
        reminder_before_end=timedelta(minutes=15),
        approver_reminder_first=timedelta(minutes=15),
    )
    assert str(config.timezone) == "UTC"
    policy = config.catalog.get("customer-x")
    assert policy.display_name == "customer-x"  # no display_name: the key
    assert (policy.min_duration, policy.default_duration, policy.max_duration) == (
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=8),
    )


def test_top_level_tables_are_read() -> None:
    config = parse_config(
        toml(
            bot='timezone = "America/New_York"\nsummary_time = "17:30"\n'
            'summary_channel = { slack = "C1", teams = "19:t"}',
            more="[cloudflare]\ndevices = false\nwarp_session_reauth = false\n"
            '[scheduler]\nreminder_before_end = "10m"\napprover_reminder_first = "1h"\n',
        )
    )
    assert str(config.timezone) == "America/New_York"
    assert config.summary_time == time(17, 30)
    assert config.summary_channels == {"slack": "C1", "teams": "19:t"}
    assert (config.cloudflare_devices, config.cloudflare_warp_session_reauth) == (False, False)
    assert (config.reminder_before_end, config.approver_reminder_first) == (timedelta(minutes=10), timedelta(hours=1))


def test_summary_time_may_be_a_toml_local_time() -> None:
    assert parse_config(toml(bot="summary_time = 07:45:00")).summary_time == time(7, 45)


INHERITANCE = toml(
    defaults="""
default_duration = "30m"
min_duration = "10m"
max_duration = "6h"
approvals_required = 2
pending_timeout = "1h"
allow_self_approval = true
require_reason = true
approvers = ["carol@contoso.example", "dave@contoso.example"]
approval_channel = { teams = "19:approvals" }
""",
    cx="""
group_id = "group-x"
max_duration = "2h"
approvals_required = 1
approvers = ["alice@contoso.example"]
approval_channel = { slack = "C0X" }
require_reason = false
""",
    more='[customers.customer-y]\ngroup_id = "group-y"\n',
)


@pytest.mark.parametrize(
    ("key", "attribute", "expected"),
    [
        # customer-x overrides some keys and inherits the rest
        ("customer-x", "max_duration", timedelta(hours=2)),
        ("customer-x", "approvals_required", 1),
        ("customer-x", "approvers", ("alice@contoso.example",)),  # replaced, not merged
        ("customer-x", "approval_channels", {"slack": "C0X"}),
        ("customer-x", "require_reason", False),
        ("customer-x", "default_duration", timedelta(minutes=30)),
        ("customer-x", "min_duration", timedelta(minutes=10)),
        ("customer-x", "pending_timeout", timedelta(hours=1)),
        ("customer-x", "allow_self_approval", True),
        # customer-y sets only its group: everything else comes from [defaults]
        ("customer-y", "max_duration", timedelta(hours=6)),
        ("customer-y", "approvals_required", 2),
        ("customer-y", "approvers", ("carol@contoso.example", "dave@contoso.example")),
        ("customer-y", "approval_channels", {"teams": "19:approvals"}),
        ("customer-y", "require_reason", True),
        ("customer-y", "group_id", "group-y"),
        ("customer-y", "approver_group_id", None),
    ],
)
def test_customers_inherit_defaults_unless_they_override(key: str, attribute: str, expected: object) -> None:
    policy = parse_config(INHERITANCE).catalog.get(key)
    assert getattr(policy, attribute) == expected


@pytest.mark.parametrize(
    ("name", "key"),
    [("customer-x", "customer-x"), ("CX", "customer-x"), ("cx", "customer-x"), ("customer-y", "customer-y"),
     ("Y", "customer-y"), (" why ", "customer-y")],
)  # fmt: skip
def test_aliases_find_the_customer_through_the_catalog(name: str, key: str) -> None:
    config = parse_config(
        toml(cx=CX + 'aliases = ["cx"]', more='[customers.customer-y]\ngroup_id = "g"\naliases = ["y", "Why"]\n'
             'approvers = ["a@contoso.example"]')
    )  # fmt: skip
    assert config.catalog.find(name).key == key


@pytest.mark.parametrize(
    "cx",
    [
        'group_id = "g"\napprover_group_id = "approvers-group"',  # a group alone is enough
        'group_id = "g"\napprover_group_id = "ag"\napprovals_required = 5\napprovers = ["a@contoso.example"]',
        'group_id = "g"\napprovers = ["a@contoso.example", "b@contoso.example"]\napprovals_required = 2',
        'group_id = "g"\napprovers = ["a@contoso.example"]\nmin_duration = "4h"\ndefault_duration = "4h"',
    ],
)
def test_valid_approver_and_duration_combinations(cx: str) -> None:
    assert len(parse_config(toml(cx=cx)).catalog) == 1


# --- every rule fails with the key path and what is expected -------------------------------------

NO_GROUP = 'approvers = ["alice@contoso.example"]'
TWO = '[customers.customer-y]\ngroup_id = "g"\napprovers = ["a@contoso.example"]\n'


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        # unknown keys, with the allowed ones
        (toml(cx=CX + 'max_duraton = "4h"'), "customers.customer-x.max_duraton",
         "unknown key (did you mean max_duration?); allowed keys: aliases, allow_self_approval"),
        (toml(defaults="approval_required = 2"), "defaults.approval_required", "did you mean approvals_required?"),
        (toml(bot='time_zone = "UTC"'), "bot.time_zone", "allowed keys: summary_channel, summary_time, timezone"),
        (toml(more="[customer.y]\na = 1"), "customer",
         "did you mean customers?); allowed keys: bot, cloudflare, customers, defaults, scheduler"),
        (toml(more="[cloudflare]\ndevice = true"), "cloudflare.device", "did you mean devices?"),
        (toml(more="[scheduler]\nreminder = \"5m\""), "scheduler.reminder", "allowed keys: approver_reminder_first"),
        # required keys and types
        (toml(cx=NO_GROUP), "customers.customer-x.group_id", "missing; expected the object id of the Entra group"),
        (toml(cx=NO_GROUP + '\ngroup_id = ""'), "customers.customer-x.group_id", 'got ""'),
        (toml(cx=NO_GROUP + "\ngroup_id = 7"), "customers.customer-x.group_id", "got 7"),
        (toml(cx=NO_GROUP + '\ngroup_id = "<Entra group object id>"'), "customers.customer-x.group_id",
         "still a placeholder"),
        (toml(more='[customers.customer-y]\n"group_id" = "g"\ndisplay_name = ""\napprovers = ["a@contoso.example"]'),
         "customers.customer-y.display_name", "expected a non-empty string"),
        (toml(more="[customers.customer-y]\n"), "customers.customer-y.group_id", "missing"),
        (toml(more="[[customers.customer-y]]\n"), "customers.customer-y", "expected a [customers.<key>] table"),
        # durations
        (toml(cx=CX + 'max_duration = "99x"'), "customers.customer-x.max_duration",
         '"99x" is not a duration; use e.g. 30m, 4h, 1h30m'),
        (toml(cx=CX + "max_duration = 4"), "customers.customer-x.max_duration",
         'expected a duration string such as "4h"'),
        (toml(cx=CX + 'pending_timeout = "0m"'), "customers.customer-x.pending_timeout", "is zero"),
        (toml(defaults='min_duration = "1 hour"'), "defaults.min_duration", "is not a duration"),
        (toml(more='[scheduler]\nreminder_before_end = "soon"'), "scheduler.reminder_before_end", "is not a duration"),
        # min_duration <= default_duration <= max_duration, reported at the key the table sets
        (toml(cx=CX + 'min_duration = "2h"'), "customers.customer-x.min_duration",
         "2h is longer than default_duration 1h (built-in default)"),
        (toml(cx=CX + 'default_duration = "5h"\nmax_duration = "4h"'), "customers.customer-x.max_duration",
         "4h is shorter than default_duration 5h; need min_duration <= default_duration <= max_duration"),
        (toml(defaults='max_duration = "4h"', cx=CX + 'default_duration = "5h"'),
         "customers.customer-x.default_duration",
         "5h is longer than max_duration 4h (from [defaults])"),
        (toml(defaults='default_duration = "2h"', cx=CX + 'max_duration = "90m"'), "customers.customer-x.max_duration",
         "1h30m is shorter than default_duration 2h (from [defaults])"),
        (toml(defaults='max_duration = "10m"'), "defaults.max_duration", "10m is shorter than default_duration 1h"),
        # approvers
        (toml(cx=CX + "approvals_required = 0"), "customers.customer-x.approvals_required",
         "expected a whole number, at least 1, got 0"),
        (toml(cx=CX + 'approvals_required = "2"'), "customers.customer-x.approvals_required", 'got "2"'),
        (toml(cx=CX + "approvals_required = true"), "customers.customer-x.approvals_required", "got true"),
        (toml(cx=CX + "approvals_required = 3"), "customers.customer-x.approvals_required",
         "3 approvals required but only 2 approvers listed; list more approvers"),
        (toml(defaults="approvals_required = 3"), "customers.customer-x.approvals_required",
         "3 approvals required (from [defaults]) but only 2 approvers listed"),
        (toml(cx='group_id = "g"'), "customers.customer-x.approvers", "nobody can approve"),
        (toml(cx='group_id = "g"\napprovers = []'), "customers.customer-x.approvers", "set approver_group_id"),
        (toml(cx='group_id = "g"\napprovers = ["alice"]'), "customers.customer-x.approvers[0]",
         '"alice" is not a UPN or e-mail address; use e.g. alice@contoso.com'),
        (toml(cx='group_id = "g"\napprovers = ["a@contoso.example", "b@x"]'), "customers.customer-x.approvers[1]",
         "not a UPN"),
        (toml(cx='group_id = "g"\napprovers = ["a@contoso.example", "A@Contoso.example"]'),
         "customers.customer-x.approvers", "listed twice"),
        (toml(cx='group_id = "g"\napprovers = "a@contoso.example"'), "customers.customer-x.approvers",
         "expected an array of UPNs"),
        # customer keys and aliases
        (toml(more='[customers."customer z"]\ngroup_id = "g"\napprovers = ["a@contoso.example"]'),
         'customers."customer z"', '"customer z" is not a valid customer key'),
        (toml(more=f'[customers.{"k" * 64}]\ngroup_id = "g"\napprovers = ["a@contoso.example"]'),
         f"customers.{'k' * 64}", "1-63 letters"),
        (toml(more='[customers._x]\ngroup_id = "g"\napprovers = ["a@contoso.example"]'), "customers._x",
         "starting with a letter or digit"),
        (toml(more='[customers.Help]\ngroup_id = "g"\napprovers = ["a@contoso.example"]'), "customers.Help",
         '"Help" is a command word'),
        (toml(cx=CX + 'aliases = ["cx", "list"]'), "customers.customer-x.aliases[1]", '"list" is a command word'),
        (toml(cx=CX + 'aliases = ["c x"]'), "customers.customer-x.aliases[0]", "not a valid name"),
        (toml(more='[customers.Customer-X]\ngroup_id = "g"\napprovers = ["a@contoso.example"]'),
         "customers.Customer-X", '"Customer-X" is already used by customers.customer-x'),
        (toml(more=TWO + 'aliases = ["CUSTOMER-X"]'), "customers.customer-y.aliases[0]",
         "already used by customers.customer-x (customer keys and aliases must be unique"),
        (toml(cx=CX + 'aliases = ["cx"]', more=TWO + 'aliases = ["CX"]'), "customers.customer-y.aliases[0]",
         '"CX" is already used by customers.customer-x'),
        (toml(cx=CX + 'aliases = ["customer-y"]', more=TWO), "customers.customer-x.aliases[0]",
         "already used by customers.customer-y"),
        (toml(cx=CX + 'aliases = ["cx", "Cx"]'), "customers.customer-x.aliases[1]", "already used by this customer"),
        # channels
        (toml(cx=CX + 'approval_channel = { email = "x" }'), "customers.customer-x.approval_channel.email",
         "unknown key; allowed keys: slack, teams"),
        (toml(cx=CX + 'approval_channel = { slack = "" }'), "customers.customer-x.approval_channel.slack",
         'expected a Slack channel id such as "C0APPROVALS", got ""'),
        (toml(cx=CX + 'approval_channel = { slack = "  " }'), "customers.customer-x.approval_channel.slack",
         "expected a Slack channel id"),
        (toml(cx=CX + "approval_channel = {}"), "customers.customer-x.approval_channel", "is empty"),
        (toml(cx=CX + 'approval_channel = "C0"'), "customers.customer-x.approval_channel", "expected a table"),
        (toml(defaults='approval_channel = { slak = "C0" }'), "defaults.approval_channel.slak", "did you mean slack?"),
        (toml(bot="summary_channel = { teams = 5 }"), "bot.summary_channel.teams", "expected a Teams conversation id"),
        # [bot]
        (toml(bot='timezone = "Mars/Olympus"'), "bot.timezone", '"Mars/Olympus" is not an IANA time zone name'),
        (toml(bot='timezone = "Europe"'), "bot.timezone", "is not an IANA time zone name"),
        (toml(bot="timezone = 1"), "bot.timezone", "expected an IANA time zone name"),
        (toml(bot='summary_time = "8am"'), "bot.summary_time", '"8am" is not a time of day; use "HH:MM"'),
        (toml(bot='summary_time = "24:00"'), "bot.summary_time", "is not a time of day"),
        (toml(bot="summary_time = 08:00:30"), "bot.summary_time", "is not a time of day"),
        (toml(more="[cloudflare]\ndevices = \"yes\""), "cloudflare.devices", 'expected true or false, got "yes"'),
        (toml(defaults='require_reason = "false"'), "defaults.require_reason", "expected true or false"),
        # at least one customer
        ("[bot]\n", "customers", "missing; expected one [customers.<key>] table per customer"),
        ("customers = {}\n", "customers", "no customers configured"),
        ("[[customers]]\nx = 1\n", "customers", "got an array"),
    ],
)  # fmt: skip
def test_each_rule_names_the_key_path(text: str, path: str, expected: str) -> None:
    problems = problems_of(text)
    matching = [line for line in problems if line.startswith(f"{path}: ")]
    assert matching, f"no problem at {path}: {problems}"
    assert any(expected in line for line in matching), problems


@pytest.mark.parametrize(
    ("text", "path", "variable"),
    [
        (toml(cx=CX + 'client_secret = "s3cr3t-value"'), "customers.customer-x.client_secret", "AZURE_CLIENT_SECRET"),
        (toml(bot='slack_bot_token = "s3cr3t-value"'), "bot.slack_bot_token", "SLACK_BOT_TOKEN"),
        (toml(bot='signing_secret = "s3cr3t-value"'), "bot.signing_secret", "SLACK_SIGNING_SECRET"),
        (toml(defaults='password = "s3cr3t-value"'), "defaults.password", "MICROSOFT_APP_PASSWORD"),
        (toml(more='[cloudflare]\napi_token = "s3cr3t-value"'), "cloudflare.api_token", "CLOUDFLARE_API_TOKEN"),
        (toml(more='[cloudflare]\nAPI-TOKEN = "s3cr3t-value"'), "cloudflare.API-TOKEN", "CLOUDFLARE_API_TOKEN"),
        (toml(defaults='access_token = "s3cr3t-value"'), "defaults.access_token", "come from the environment"),
        (toml(cx=CX + 'approval_channel = { slack = "C0", token = "s3cr3t-value" }'),
         "customers.customer-x.approval_channel.token", "come from the environment"),
        (toml(cx=CX + 'display_name = "xoxb-s3cr3t-value"'), "customers.customer-x.display_name",
         "looks like a token or private key"),
        (toml(bot='summary_channel = { slack = "xapp-1-s3cr3t-value" }'), "bot.summary_channel.slack",
         "looks like a token"),
    ],
)  # fmt: skip
def test_secrets_are_rejected_and_never_echoed(text: str, path: str, variable: str) -> None:
    problems = problems_of(text)
    assert [line for line in problems if line.startswith(f"{path}: ")], problems
    assert any("secret" in line and variable in line for line in problems), problems
    assert not any("unknown key" in line for line in problems)  # reported once, as a secret
    assert "s3cr3t" not in "\n".join(problems)


def test_a_customer_named_like_a_secret_is_only_a_name() -> None:
    config = parse_config(toml(more='[customers.tokens]\ngroup_id = "g"\napprovers = ["a@contoso.example"]'))
    assert config.catalog.get("tokens").group_id == "g"


def test_every_problem_is_reported_at_once_one_line_each() -> None:
    text = toml(bot='timezone = "Nowhere/Else"', cx=CX + 'max_duration = "99x"\ncolour = "red"')
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="accessbot.toml")
    lines = str(caught.value).splitlines()
    assert lines == [
        'accessbot.toml: bot.timezone: "Nowhere/Else" is not an IANA time zone name; use e.g. "Europe/Prague" or "UTC"',
        'accessbot.toml: customers.customer-x.max_duration: "99x" is not a duration; use e.g. 30m, 4h, 1h30m, 2d',
        "accessbot.toml: customers.customer-x.colour: unknown key; allowed keys: aliases, allow_self_approval, "
        "approval_channel, approvals_required, approver_group_id, approvers, default_duration, display_name, "
        "group_id, max_duration, min_duration, pending_timeout, require_reason, virtual_network_id",
    ]


# --- reading the file ------------------------------------------------------------------------------


def test_invalid_toml_gives_the_parsers_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^bad\.toml: invalid TOML: .*\(at line 3, column \d+\)"):
        parse_config('[bot]\ntimezone = "UTC"\nsummary_time = \n', source="bad.toml")


def test_a_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "--config" in message and "ACCESSBOT_CONFIG" in message


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path)


def test_load_config_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(toml(), encoding="utf-8")
    bad.write_text(toml(cx=CX + "approvals_required = 0"), encoding="utf-8")
    assert load_config(str(good)).catalog.keys() == ["customer-x"]
    with pytest.raises(ConfigError, match=f"^{bad}: customers.customer-x.approvals_required: "):
        load_config(bad)
