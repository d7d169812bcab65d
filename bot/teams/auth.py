"""Bot Framework authentication for the Teams endpoint: inbound JWT validation and outbound tokens.

Two botbuilder 4.17 pitfalls are handled here (see reference/API_NOTES.md, section F):

* inbound: a missing token, a bad signature, an unknown key or an expired token surface from
  botbuilder as arbitrary exceptions (HTTP 500). `StrictAuthentication` turns every failure of
  the authentication step into `PermissionError`, which the route answers with 401.
* outbound: botbuilder's app credentials build msal without ``instance_discovery=False``, so a
  non-public login URL (sovereign cloud, proxy, tests) cannot issue the connector token.
  `MsalCredentialsFactory` builds its own long-lived msal app per authority and scope.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from msal import ConfidentialClientApplication
from msrest.authentication import Authentication

from bot.settings import Settings

log = logging.getLogger("accessbot.teams.auth")

PUBLIC_LOGIN_URL = "https://login.microsoftonline.com/botframework.com"
PUBLIC_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
PUBLIC_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
PUBLIC_OPENID_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
PUBLIC_EMULATOR_METADATA_URL = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
PUBLIC_OAUTH_URL = AuthenticationConstants.OAUTH_URL
_TOKEN_PATH = "/oauth2/v2.0/token"


@dataclass(frozen=True)
class BotFrameworkConfig:
    """The object botbuilder's `ConfigurationBotFrameworkAuthentication` reads by attribute name.

    BOTFRAMEWORK_* settings map onto botbuilder's own names. Setting any of the
    parameterized ones selects botbuilder's parameterized authentication, which then needs
    all of them: the ones not given are filled with the public-cloud values.
    """

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str | None
    CHANNEL_SERVICE: str | None = None
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str | None = None
    OAUTH_URL: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BotFrameworkConfig:
        password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
        base: dict[str, Any] = {
            "APP_ID": settings.microsoft_app_id or "",
            "APP_PASSWORD": password,
            "APP_TYPE": settings.microsoft_app_type,
            "APP_TENANTID": settings.microsoft_app_tenant_id,
            "CHANNEL_SERVICE": settings.botframework_channel_service,
        }
        parameterized = (
            settings.botframework_openid_metadata_url,
            settings.botframework_token_issuer,
            settings.botframework_login_url,
            settings.botframework_oauth_scope,
        )
        if any(parameterized):
            base.update(
                TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.botframework_openid_metadata_url
                or PUBLIC_OPENID_METADATA_URL,
                TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.botframework_token_issuer or PUBLIC_TOKEN_ISSUER,
                TO_CHANNEL_FROM_BOT_LOGIN_URL=settings.botframework_login_url or PUBLIC_LOGIN_URL,
                TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=settings.botframework_oauth_scope or PUBLIC_OAUTH_SCOPE,
                TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=PUBLIC_EMULATOR_METADATA_URL,
                OAUTH_URL=PUBLIC_OAUTH_URL,
            )
        return cls(**base)


def msal_authority(login_endpoint: str | None, tenant_id: str | None) -> str:
    """The msal authority for a botbuilder login endpoint.

    botbuilder hands over either an authority (``https://host/tenant``) or the deprecated full
    token URL; a single-tenant bot signs in to its own tenant instead of ``botframework.com``.
    """
    authority = (login_endpoint or PUBLIC_LOGIN_URL).rstrip("/").removesuffix(_TOKEN_PATH)
    host, _, tenant = authority.rpartition("/")
    if tenant_id and tenant.casefold() == AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT:
        return f"{host}/{tenant_id}"
    return authority


class MsalAppCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """Bot-to-connector credentials on one long-lived msal app built with ``instance_discovery=False``.

    msal is synchronous; botbuilder calls `get_access_token` from its request pipeline. The
    token cache makes that a network call only about once an hour.
    """

    def __init__(self, app_id: str, password: str, authority: str, oauth_scope: str) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.oauth_endpoint = authority
        self._authority = authority
        self._msal: ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def get_access_token(self, force_refresh: bool = False) -> str:
        scope = self.oauth_scope if self.oauth_scope.endswith("/.default") else f"{self.oauth_scope}/.default"
        with self._lock:
            if self._msal is None:
                # Built on first use: msal reads the authority's OpenID metadata at construction.
                self._msal = ConfidentialClientApplication(
                    client_id=self.microsoft_app_id,
                    client_credential=self.microsoft_app_password,
                    authority=self._authority,
                    instance_discovery=False,
                )
            result = self._msal.acquire_token_for_client(scopes=[scope])
        token = result.get("access_token") if isinstance(result, dict) else None
        if token:
            return str(token)
        error = result.get("error", "unknown error") if isinstance(result, dict) else "unknown error"
        description = result.get("error_description", "") if isinstance(result, dict) else ""
        raise PermissionError(f"cannot get a Bot Connector token from {self._authority}: {error} {description}")


async def prefetch_token(credentials: object) -> None:
    """Get (or refresh) the connector token in a worker thread.

    botbuilder asks for the token synchronously inside its request pipeline; fetching it here
    first keeps the network call off the event loop, and the pipeline then hits msal's cache.
    """
    if isinstance(credentials, MsalAppCredentials):
        await asyncio.to_thread(credentials.get_access_token)


class MsalCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """botbuilder's credentials factory contract, with `MsalAppCredentials` cached per authority and scope."""

    def __init__(self, app_id: str, password: str, tenant_id: str | None) -> None:
        self._app_id = app_id
        self._password = password
        self._tenant_id = tenant_id
        self._cache: dict[tuple[str, str], MsalAppCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self._app_id) and app_id == self._app_id

    async def prefetch(self) -> None:
        """Refresh every connector token in use off the event loop (see `prefetch_token`)."""
        for credentials in list(self._cache.values()):
            try:
                await prefetch_token(credentials)
            except PermissionError as error:  # the turn itself will fail and report it
                log.warning("%s", error)

    async def is_authentication_disabled(self) -> bool:
        return not self._app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        if not self._app_id:
            empty: Authentication = MicrosoftAppCredentials.empty()  # emulator mode: no token is sent
            return empty
        if app_id != self._app_id:
            raise PermissionError("credentials requested for another app id")
        authority = msal_authority(login_endpoint, self._tenant_id)
        scope = oauth_scope or PUBLIC_OAUTH_SCOPE
        key = (authority, scope)
        if key not in self._cache:
            self._cache[key] = MsalAppCredentials(self._app_id, self._password, authority, scope)
        return self._cache[key]


class StrictAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Delegates to botbuilder, but every failure to authenticate an inbound request is a `PermissionError`."""

    def __init__(self, inner: BotFrameworkAuthentication, credentials: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._credentials = credentials

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        if not auth_header and not await self._credentials.is_authentication_disabled():
            raise PermissionError("no Authorization header")
        try:
            return await self._inner.authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as error:  # bad signature, unknown key, expired, malformed: all mean "not authenticated"
            log.warning("Teams activity refused: %s: %s", type(error).__name__, error)
            raise PermissionError(f"invalid token: {type(error).__name__}") from error

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        except PermissionError:
            raise
        except Exception as error:
            raise PermissionError(f"invalid token: {type(error).__name__}") from error

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self._inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            return await self._inner.authenticate_channel_request(auth_header)
        except PermissionError:
            raise
        except Exception as error:
            raise PermissionError(f"invalid token: {type(error).__name__}") from error


def build_authentication(settings: Settings) -> tuple[StrictAuthentication, ServiceClientCredentialsFactory]:
    """botbuilder's configuration-driven authentication, with our credentials and strict failures
    (and the credentials factory, whose tokens the route refreshes off the event loop).

    A user-assigned managed identity has no password and no msal app: botbuilder's own
    factory handles it.
    """
    config = BotFrameworkConfig.from_settings(settings)
    credentials: ServiceClientCredentialsFactory
    if config.APP_TYPE == "UserAssignedMSI":
        credentials = ConfigurationServiceClientCredentialFactory(config)
    else:
        tenant = config.APP_TENANTID if config.APP_TYPE == "SingleTenant" else None
        credentials = MsalCredentialsFactory(config.APP_ID, config.APP_PASSWORD, tenant)
    inner = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials)
    return StrictAuthentication(inner, credentials), credentials
