"""The Bot Framework settings mapping and the outbound (bot -> connector) credentials."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.settings import Settings
from bot.teams.auth import (
    PUBLIC_LOGIN_URL,
    PUBLIC_OAUTH_SCOPE,
    PUBLIC_OPENID_METADATA_URL,
    BotFrameworkConfig,
    MsalAppCredentials,
    MsalCredentialsFactory,
    msal_authority,
)
from tests.fakes.token_server import AppRegistration, FakeTokenServer


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_botframework_settings_map_to_botbuilder_names_and_fill_the_rest() -> None:
    settings = _settings(microsoft_app_id="app", microsoft_app_password="pw", microsoft_app_type="singletenant",
                         microsoft_app_tenant_id="t1", botframework_token_issuer="https://issuer.example")  # fmt: skip
    config = BotFrameworkConfig.from_settings(settings)
    assert (config.APP_ID, config.APP_PASSWORD, config.APP_TYPE, config.APP_TENANTID) == ("app", "pw", "SingleTenant",
                                                                                        "t1")  # fmt: skip
    assert config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://issuer.example"
    # one parameterized value selects botbuilder's parameterized mode, which needs all of them
    assert config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == PUBLIC_OPENID_METADATA_URL
    assert config.TO_CHANNEL_FROM_BOT_LOGIN_URL == PUBLIC_LOGIN_URL
    assert config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE == PUBLIC_OAUTH_SCOPE
    plain = BotFrameworkConfig.from_settings(_settings(microsoft_app_id="app"))
    assert plain.TO_CHANNEL_FROM_BOT_LOGIN_URL is None and plain.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER is None


@pytest.mark.parametrize(
    ("endpoint", "tenant", "authority"),
    [
        (None, None, "https://login.microsoftonline.com/botframework.com"),
        ("https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token", None,
         "https://login.microsoftonline.com/botframework.com"),
        ("https://login.microsoftonline.com/botframework.com", "t1", "https://login.microsoftonline.com/t1"),
        ("https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us", "t1",
         "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us"),
        ("https://127.0.0.1:8443/tenant/", None, "https://127.0.0.1:8443/tenant"),
    ],
)  # fmt: skip
def test_msal_authority(endpoint: str | None, tenant: str | None, authority: str) -> None:
    assert msal_authority(endpoint, tenant) == authority


async def test_connector_token_from_a_non_public_login_url(token_server: FakeTokenServer) -> None:
    """With a private authority, msal must not call login.microsoftonline.com for instance discovery
    (there is no network here): the token comes from the fake Entra, and the second one from the cache."""
    app = token_server.register(AppRegistration(client_id=str(uuid.uuid4()), secret="pw-" + uuid.uuid4().hex))
    assert app.secret is not None
    factory = MsalCredentialsFactory(app.client_id, app.secret, None)
    login_url = f"{token_server.origin}/{token_server.tenant_id}"
    credentials = await factory.create_credentials(app.client_id, PUBLIC_OAUTH_SCOPE, login_url, True)
    assert isinstance(credentials, MsalAppCredentials)
    # one long-lived credentials object (and msal token cache) per authority and scope
    assert await factory.create_credentials(app.client_id, PUBLIC_OAUTH_SCOPE, login_url, True) is credentials
    token = await asyncio.to_thread(credentials.get_access_token)
    claims = token_server.validate(token, PUBLIC_OAUTH_SCOPE)
    assert claims["appid"] == app.client_id
    await factory.prefetch()
    assert token_server.tokens_issued == 1
    with pytest.raises(PermissionError):
        await factory.create_credentials("someone-else", PUBLIC_OAUTH_SCOPE, token_server.origin, True)


async def test_a_wrong_password_is_a_clear_error(token_server: FakeTokenServer) -> None:
    app = token_server.register(AppRegistration(client_id=str(uuid.uuid4()), secret="right"))
    credentials = MsalAppCredentials(app.client_id, "wrong", f"{token_server.origin}/{token_server.tenant_id}",
                                     PUBLIC_OAUTH_SCOPE)  # fmt: skip
    with pytest.raises(PermissionError, match="invalid_client"):
        await asyncio.to_thread(credentials.get_access_token)


async def test_without_app_id_authentication_is_off_and_no_token_is_sent() -> None:
    factory = MsalCredentialsFactory("", "", None)
    assert await factory.is_authentication_disabled()
    credentials = await factory.create_credentials("", PUBLIC_OAUTH_SCOPE, PUBLIC_LOGIN_URL, True)
    assert not isinstance(credentials, MsalAppCredentials)
    assert not credentials.microsoft_app_id  # botbuilder's empty credentials: no Authorization header
