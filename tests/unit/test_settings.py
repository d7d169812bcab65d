"""Settings from the environment: defaults, .env, validation, what production still needs, no leaked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from workflows.errors import ConfigError

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-bot-token-value",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "SLACK_APP_TOKEN": "xapp-app-token-value",
    "MICROSOFT_APP_PASSWORD": "teams-password-value",
    "AZURE_CLIENT_SECRET": "azure-secret-value",
    "CLOUDFLARE_API_TOKEN": "cloudflare-token-value",
}
GRAPH = {"AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "client-1", "AZURE_CLIENT_SECRET": "azure-secret-value"}
SLACK_HTTP = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sig"}
TEAMS = {"MICROSOFT_APP_ID": "app-1", "MICROSOFT_APP_PASSWORD": "pw"}
NEITHER = "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Slack) or MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (Teams)"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean environment: none of the bot's variables set, and a working directory without .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def load(env: pytest.MonkeyPatch, values: dict[str, str]) -> Settings:
    for name, value in values.items():
        env.setenv(name, value)
    return Settings.load()


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("database_url", "sqlite+aiosqlite:///accessbot.db"),
        ("microsoft_app_type", "MultiTenant"),
        ("slack_api_url", "https://slack.com/api/"),
        ("graph_api_url", "https://graph.microsoft.com/v1.0"),
        ("azure_authority_host", "https://login.microsoftonline.com"),
        ("cloudflare_api_url", "https://api.cloudflare.com/client/v4"),
        ("accessbot_config", "accessbot.toml"),
        ("port", 3978),
        ("log_format", "text"),
        ("log_level", "INFO"),
        ("accessbot_sandbox_faults", None),
        ("accessbot_scheduler_lease_seconds", 120.0),
        ("accessbot_scheduler_poll_seconds", 2.0),
        ("slack_bot_token", None),
        ("azure_tenant_id", None),
    ],
)
def test_defaults(env: pytest.MonkeyPatch, attribute: str, expected: object) -> None:
    assert getattr(Settings.load(), attribute) == expected


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("DATABASE_URL", "postgresql+asyncpg://db/accessbot", "database_url", "postgresql+asyncpg://db/accessbot"),
        ("PORT", "8080", "port", 8080),
        ("LOG_FORMAT", "JSON", "log_format", "json"),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("LOG_LEVEL", "warn", "log_level", "WARNING"),
        ("MICROSOFT_APP_TYPE", "singletenant", "microsoft_app_type", "SingleTenant"),
        ("MICROSOFT_APP_ID", "app-1", "microsoft_app_id", "app-1"),
        ("MICROSOFT_APP_TENANT_ID", "tenant-1", "microsoft_app_tenant_id", "tenant-1"),
        ("BOTFRAMEWORK_CHANNEL_SERVICE", "https://botframework.azure.us", "botframework_channel_service",
         "https://botframework.azure.us"),
        ("BOTFRAMEWORK_OPENID_METADATA_URL", "https://127.0.0.1:9/openid", "botframework_openid_metadata_url",
         "https://127.0.0.1:9/openid"),
        ("BOTFRAMEWORK_TOKEN_ISSUER", "https://issuer", "botframework_token_issuer", "https://issuer"),
        ("BOTFRAMEWORK_LOGIN_URL", "https://login", "botframework_login_url", "https://login"),
        ("BOTFRAMEWORK_OAUTH_SCOPE", "https://scope", "botframework_oauth_scope", "https://scope"),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/bot.pem", "azure_client_certificate_path", "/etc/bot.pem"),
        ("CLOUDFLARE_ACCOUNT_ID", "acct", "cloudflare_account_id", "acct"),
        ("SLACK_API_URL", "http://127.0.0.1:8000/api/", "slack_api_url", "http://127.0.0.1:8000/api/"),
        ("GRAPH_API_URL", "https://graph.microsoft.us/v1.0", "graph_api_url", "https://graph.microsoft.us/v1.0"),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us", "azure_authority_host",
         "https://login.microsoftonline.us"),
        ("CLOUDFLARE_API_URL", "https://127.0.0.1:8443/client/v4", "cloudflare_api_url",
         "https://127.0.0.1:8443/client/v4"),
        ("ACCESSBOT_CONFIG", "/etc/accessbot/accessbot.toml", "accessbot_config", "/etc/accessbot/accessbot.toml"),
        ("ACCESSBOT_SANDBOX_FAULTS", "add_member=fail:3", "accessbot_sandbox_faults", "add_member=fail:3"),
        ("ACCESSBOT_SCHEDULER_LEASE_SECONDS", "30.5", "accessbot_scheduler_lease_seconds", 30.5),
        ("ACCESSBOT_SCHEDULER_POLL_SECONDS", "0.1", "accessbot_scheduler_poll_seconds", 0.1),
    ],
)  # fmt: skip
def test_read_from_the_environment(
    env: pytest.MonkeyPatch, variable: str, value: str, attribute: str, expected: object
) -> None:
    assert getattr(load(env, {variable: value}), attribute) == expected


@pytest.mark.parametrize("variable", sorted(SECRETS))
def test_secrets_are_secret_strings(env: pytest.MonkeyPatch, variable: str) -> None:
    secret = getattr(load(env, {variable: SECRETS[variable]}), variable.lower())
    assert secret.get_secret_value() == SECRETS[variable]
    assert SECRETS[variable] not in str(secret)


def test_dotenv_is_read_and_the_real_environment_wins(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=from-dotenv\nPORT=4000\nSLACK_APP_TOKEN=\nOTHER_TOOL=x\n")
    env.setenv("PORT", "5000")
    settings = Settings.load()
    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == "from-dotenv"
    assert settings.port == 5000
    assert settings.slack_app_token is None  # an empty value means "not set"


def test_dotenv_can_be_skipped_or_named(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=4000\n")
    (tmp_path / "other.env").write_text("PORT=4001\n")
    assert Settings.load(env_file=None).port == 3978
    assert Settings.load(env_file=str(tmp_path / "other.env")).port == 4001


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "abc", "PORT: Input should be a valid integer"),
        ("PORT", "0", "PORT: Input should be greater than or equal to 1"),
        ("PORT", "70000", "PORT: "),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: Input should be 'text' or 'json'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'"),
        ("MICROSOFT_APP_TYPE", "Weird", "MICROSOFT_APP_TYPE: expected one of MultiTenant, SingleTenant"),
        ("GRAPH_API_URL", "graph.microsoft.com", "GRAPH_API_URL: expected an http(s):// URL"),
        ("CLOUDFLARE_API_URL", "ftp://x", "CLOUDFLARE_API_URL: expected an http(s):// URL"),
        ("AZURE_AUTHORITY_HOST", "https://", "AZURE_AUTHORITY_HOST: expected an http(s):// URL"),
        ("ACCESSBOT_SCHEDULER_LEASE_SECONDS", "0", "ACCESSBOT_SCHEDULER_LEASE_SECONDS: Input should be greater than 0"),
        (
            "ACCESSBOT_SCHEDULER_POLL_SECONDS",
            "soon",
            "ACCESSBOT_SCHEDULER_POLL_SECONDS: Input should be a valid number",
        ),
    ],
)
def test_bad_values_name_the_variable(env: pytest.MonkeyPatch, variable: str, value: str, expected: str) -> None:
    env.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        Settings.load()
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({}, ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH", NEITHER]),
        ({**GRAPH, **SLACK_HTTP}, []),
        ({**GRAPH, **TEAMS}, []),
        ({**GRAPH, **SLACK_HTTP, **TEAMS}, []),
        ({**GRAPH, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, []),  # Socket Mode
        ({**GRAPH, "AZURE_CLIENT_SECRET": "", "AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem", **TEAMS}, []),
        ({**GRAPH}, [NEITHER]),
        ({**SLACK_HTTP, "AZURE_TENANT_ID": "t"},
         ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH"]),
        ({**GRAPH, "SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_SIGNING_SECRET or SLACK_APP_TOKEN"]),
        ({**GRAPH, "SLACK_SIGNING_SECRET": "sig"}, ["SLACK_BOT_TOKEN"]),
        ({**GRAPH, "SLACK_APP_TOKEN": "xapp-1"}, ["SLACK_BOT_TOKEN"]),
        ({**GRAPH, "MICROSOFT_APP_ID": "app"}, ["MICROSOFT_APP_PASSWORD"]),
        ({**GRAPH, "MICROSOFT_APP_PASSWORD": "pw"}, ["MICROSOFT_APP_ID"]),
        ({**GRAPH, **SLACK_HTTP, "MICROSOFT_APP_ID": "app"}, ["MICROSOFT_APP_PASSWORD"]),  # half a Teams is a mistake
        ({**GRAPH, **TEAMS, "MICROSOFT_APP_TYPE": "SingleTenant"}, ["MICROSOFT_APP_TENANT_ID"]),
        ({**GRAPH, **TEAMS, "MICROSOFT_APP_TYPE": "SingleTenant", "MICROSOFT_APP_TENANT_ID": "t"}, []),
        ({**GRAPH, **SLACK_HTTP, "CLOUDFLARE_API_TOKEN": "cf"}, ["CLOUDFLARE_ACCOUNT_ID"]),
        ({**GRAPH, **SLACK_HTTP, "CLOUDFLARE_API_TOKEN": "cf", "CLOUDFLARE_ACCOUNT_ID": "a"}, []),
    ],
)  # fmt: skip
def test_missing_for_production(env: pytest.MonkeyPatch, values: dict[str, str], missing: list[str]) -> None:
    assert load(env, values).missing_for_production() == missing


def test_cloudflare_is_a_warning_not_missing(env: pytest.MonkeyPatch) -> None:
    settings = load(env, {**GRAPH, **SLACK_HTTP})
    assert settings.missing_for_production() == []
    assert settings.warnings() == [
        "CLOUDFLARE_API_TOKEN not set: Zero Trust sessions will not be revoked at the end of access"
    ]
    configured = load(env, {"CLOUDFLARE_API_TOKEN": "cf", "CLOUDFLARE_ACCOUNT_ID": "a"})
    assert configured.warnings() == []


def test_a_certificate_path_that_is_not_a_file_is_a_warning(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load(env, {"AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "missing.pem")})
    assert any(line.startswith("AZURE_CLIENT_CERTIFICATE_PATH") for line in settings.warnings())
    (tmp_path / "bot.pem").write_text("-")
    settings = load(env, {"AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "bot.pem")})
    assert not any(line.startswith("AZURE_CLIENT_CERTIFICATE_PATH") for line in settings.warnings())


def test_secret_values_lists_every_secret_that_is_set(env: pytest.MonkeyPatch) -> None:
    assert Settings.load().secret_values() == []
    settings = load(env, {**SECRETS, "DATABASE_URL": "postgresql+asyncpg://bot:p%40ss@db/accessbot"})
    assert sorted(settings.secret_values()) == sorted([*SECRETS.values(), "p%40ss", "p@ss"])


@pytest.mark.parametrize(
    ("graph_url", "scope"),
    [
        ("https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/.default"),
        ("https://graph.microsoft.us/v1.0/", "https://graph.microsoft.us/.default"),
        ("https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn/.default"),
        ("https://127.0.0.1:8443/v1.0", "https://127.0.0.1:8443/.default"),
    ],
)
def test_graph_scope_is_the_origin_of_the_graph_url(env: pytest.MonkeyPatch, graph_url: str, scope: str) -> None:
    assert load(env, {"GRAPH_API_URL": graph_url}).graph_scope == scope


@pytest.mark.parametrize(
    ("host", "authority"),
    [
        (None, "https://login.microsoftonline.com/tenant-1"),
        ("https://login.microsoftonline.us/", "https://login.microsoftonline.us/tenant-1"),
        ("https://127.0.0.1:9443", "https://127.0.0.1:9443/tenant-1"),
    ],
)
def test_authority_appends_the_tenant(env: pytest.MonkeyPatch, host: str | None, authority: str) -> None:
    values = {"AZURE_TENANT_ID": "tenant-1"} | ({"AZURE_AUTHORITY_HOST": host} if host else {})
    assert load(env, values).authority == authority


def test_authority_needs_a_tenant(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="AZURE_TENANT_ID"):
        _ = Settings.load().authority


def test_secrets_never_show_in_repr_str_or_dumps(env: pytest.MonkeyPatch) -> None:
    settings = load(env, {**SECRETS, "DATABASE_URL": "postgresql+asyncpg://bot:db-password-value@db/accessbot"})
    shown = "\n".join([repr(settings), str(settings), settings.model_dump_json(), f"{settings}", f"{settings!r}"])
    for value in [*SECRETS.values(), "db-password-value"]:
        assert value not in shown
    assert "postgresql+asyncpg://bot:***@db/accessbot" in repr(settings)


def test_a_bad_secret_is_never_echoed_in_errors(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "postgresql+asyncpg://bot:db-password-value@db/accessbot")
    env.setenv("PORT", "nope")
    with pytest.raises(ConfigError) as caught:
        Settings.load()
    assert "db-password-value" not in str(caught.value)
