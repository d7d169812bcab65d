"""Settings from the environment (and a `.env` file): credentials, endpoints, process options.

Everything secret lives here and nowhere else: the TOML file (`bot.config`) rejects secrets.
Field names are the environment variable names in lower case (``slack_bot_token`` <-
``SLACK_BOT_TOKEN``), so an operator can map one to the other without a table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_serializer, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflows.errors import ConfigError

__all__ = ["Settings"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///accessbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_GRAPH_API_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AZURE_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4"

_APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SECRET_FIELDS = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "microsoft_app_password",
    "azure_client_secret",
    "cloudflare_api_token",
)


class Settings(BaseSettings):
    """The bot's environment, validated. Build it with `Settings.load()` in the composition root.

    Secrets are `SecretStr`: `repr()`, `str()` and tracebacks show ``'**********'``; call
    ``.get_secret_value()`` only where the value is handed to a client.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",  # a shared .env may hold other tools' variables
        env_ignore_empty=True,  # `SLACK_APP_TOKEN=` in a .env means "not set", not an empty token
        validate_default=True,
    )

    # Storage. May hold a password (postgresql://user:pass@...): masked in repr, redacted in logs.
    database_url: str = DEFAULT_DATABASE_URL

    # Slack: HTTP mode needs the bot token and the signing secret; Socket Mode the bot and app tokens.
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None

    # Teams (Bot Framework). Without an app id the endpoint is unauthenticated: sandbox only.
    microsoft_app_id: str | None = None
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str | None = None
    microsoft_app_type: str = "MultiTenant"
    botframework_channel_service: str | None = None
    botframework_openid_metadata_url: str | None = None
    botframework_token_issuer: str | None = None
    botframework_login_url: str | None = None
    botframework_oauth_scope: str | None = None

    # Microsoft Graph, app-only (client credentials): a secret or a certificate.
    azure_tenant_id: str | None = None
    azure_client_id: str | None = None
    azure_client_secret: SecretStr | None = None
    azure_client_certificate_path: str | None = None

    # Cloudflare Zero Trust session revocation (optional).
    cloudflare_api_token: SecretStr | None = None
    cloudflare_account_id: str | None = None

    # Endpoint overrides: sovereign clouds, proxies, and tests against local fakes.
    slack_api_url: str = DEFAULT_SLACK_API_URL
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    azure_authority_host: str = DEFAULT_AZURE_AUTHORITY_HOST
    cloudflare_api_url: str = DEFAULT_CLOUDFLARE_API_URL

    # The process.
    accessbot_config: str = "accessbot.toml"
    port: int = Field(default=3978, ge=1, le=65535)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    accessbot_sandbox_faults: str | None = None
    accessbot_scheduler_lease_seconds: float = Field(default=120.0, gt=0)
    accessbot_scheduler_poll_seconds: float = Field(default=2.0, gt=0)

    @classmethod
    def load(cls, env_file: str | None = ".env") -> Settings:
        """Read the environment (and `env_file`, if it exists; the real environment wins).

        Raises `ConfigError` naming each bad variable; a secret's value is never echoed.
        """
        try:
            return cls(_env_file=env_file)
        except ValidationError as error:
            raise ConfigError("\n".join(_describe(error))) from None

    # --- validation -------------------------------------------------------------------------

    @field_validator("slack_api_url", "graph_api_url", "azure_authority_host", "cloudflare_api_url")
    @classmethod
    def _is_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s):// URL, got {value!r}")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        level = "WARNING" if level == "WARN" else level
        if level not in _LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}, got {value!r}")
        return level

    @field_validator("microsoft_app_type")
    @classmethod
    def _app_type(cls, value: str) -> str:
        # botbuilder compares these case-sensitively; accept any case, hand on the canonical one.
        canonical = _APP_TYPES.get(value.strip().casefold())
        if canonical is None:
            raise ValueError(f"expected one of {', '.join(_APP_TYPES.values())}, got {value!r}")
        return canonical

    # --- what is configured -----------------------------------------------------------------

    def missing_for_production(self) -> list[str]:
        """The variables a non-sandbox `serve` still needs, as exact names (empty: nothing missing).

        Graph is always needed. At least one chat front end must be complete, and a front end
        that is partly configured is named with its missing half (it was clearly meant to run).
        """
        missing: list[str] = []
        if not self.azure_tenant_id:
            missing.append("AZURE_TENANT_ID")
        if not self.azure_client_id:
            missing.append("AZURE_CLIENT_ID")
        if not self.azure_client_secret and not self.azure_client_certificate_path:
            missing.append("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")

        slack_started = any((self.slack_bot_token, self.slack_signing_secret, self.slack_app_token))
        teams_started = any((self.microsoft_app_id, self.microsoft_app_password))
        if not slack_started and not teams_started:
            missing.append(
                "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Slack) "
                "or MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (Teams)"
            )
        if slack_started:
            if not self.slack_bot_token:
                missing.append("SLACK_BOT_TOKEN")
            if not self.slack_signing_secret and not self.slack_app_token:
                missing.append("SLACK_SIGNING_SECRET or SLACK_APP_TOKEN")
        if teams_started:
            if not self.microsoft_app_id:
                missing.append("MICROSOFT_APP_ID")
            if not self.microsoft_app_password:
                missing.append("MICROSOFT_APP_PASSWORD")
        if teams_started and self.microsoft_app_type == "SingleTenant" and not self.microsoft_app_tenant_id:
            missing.append("MICROSOFT_APP_TENANT_ID")  # a single-tenant bot validates tokens of its own tenant
        if self.cloudflare_api_token and not self.cloudflare_account_id:
            missing.append("CLOUDFLARE_ACCOUNT_ID")  # the token alone cannot name the account to act on
        return missing

    def warnings(self) -> list[str]:
        """Things that work but not fully: worth a line in the start-up log and `accessbot check`."""
        notes: list[str] = []
        if not self.cloudflare_api_token:
            notes.append("CLOUDFLARE_API_TOKEN not set: Zero Trust sessions will not be revoked at the end of access")
        path = self.azure_client_certificate_path
        if path and not self.azure_client_secret and not Path(path).is_file():
            notes.append(f"AZURE_CLIENT_CERTIFICATE_PATH {path!r} is not a readable file: Graph sign-in will fail")
        return notes

    def secret_values(self) -> list[str]:
        """The plain values of every secret that is set, for the log redaction filter."""
        secrets: list[SecretStr | None] = [getattr(self, name) for name in _SECRET_FIELDS]
        values = [secret.get_secret_value() for secret in secrets if secret is not None and secret.get_secret_value()]
        password = urlsplit(self.database_url).password
        if password:
            # The URL (as logged by a driver) carries it percent-encoded; redact both spellings.
            values.extend(dict.fromkeys((password, unquote(password))))
        return values

    @property
    def graph_scope(self) -> str:
        """The Graph token scope: ``{origin of GRAPH_API_URL}/.default`` (sovereign clouds differ)."""
        parts = urlsplit(self.graph_api_url)
        host = parts.netloc.rpartition("@")[2]  # the origin never includes credentials
        return f"{parts.scheme}://{host}/.default"

    @property
    def authority(self) -> str:
        """The msal authority: ``{AZURE_AUTHORITY_HOST}/{AZURE_TENANT_ID}``. `ConfigError` without a tenant."""
        if not self.azure_tenant_id:
            raise ConfigError("AZURE_TENANT_ID is not set; it is needed to sign in to Microsoft Graph")
        return f"{self.azure_authority_host.rstrip('/')}/{self.azure_tenant_id}"

    @property
    def log_level_number(self) -> int:
        """LOG_LEVEL as the `logging` module's number."""
        return int(logging.getLevelName(self.log_level))

    @field_serializer("database_url", when_used="json")
    def _database_url_for_json(self, value: str) -> str:
        # Like SecretStr: a JSON dump (e.g. printed by `accessbot check`) must not carry the password.
        return _mask_url_password(value)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # SecretStr already masks itself; the database URL is a plain str and may carry a password.
        for name, value in super().__repr_args__():
            yield name, (_mask_url_password(value) if name == "database_url" else value)


def _mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def _describe(error: ValidationError) -> list[str]:
    """One line per bad variable: ``PORT: <what is wrong>``. Inputs of secret fields are never shown."""
    lines = []
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]) if item["loc"] else ""
        message = item["msg"].removeprefix("Value error, ")
        if (
            name not in (*_SECRET_FIELDS, "database_url")
            and "got" not in message
            and isinstance(item.get("input"), str)
        ):
            message = f"{message} (got {item['input']!r})"
        lines.append(f"{name.upper()}: {message}")
    return lines
