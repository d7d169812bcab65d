"""Fixtures of the Teams tests: the fake Bot Connector and the fake Bot Framework OpenID/JWKS server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.fakes.base import FakeServer
from tests.fakes.connector_server import FakeConnectorServer
from tests.fakes.openid_server import FakeOpenIdServer
from tests.fakes.tls import FakeTLS
from tests.fakes.token_server import AppRegistration, FakeTokenServer


async def _serve(server: FakeServer) -> AsyncIterator[FakeServer]:
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    violations = server.take_violations()
    assert not violations, f"{type(server).__name__} saw requests the real service would reject:\n" + "\n".join(
        violations
    )


@pytest.fixture
async def openid_server(fake_ca_env: FakeTLS) -> AsyncIterator[FakeOpenIdServer]:
    """The Bot Framework's OpenID metadata and signing keys (keys generated here)."""
    async for server in _serve(FakeOpenIdServer(fake_ca_env)):
        assert isinstance(server, FakeOpenIdServer)
        yield server


@pytest.fixture
def bot_app(token_server: FakeTokenServer) -> AppRegistration:
    """The bot's Microsoft App registration (MICROSOFT_APP_ID / MICROSOFT_APP_PASSWORD)."""
    return token_server.register(AppRegistration(client_id=str(uuid.uuid4()), secret="bot-" + uuid.uuid4().hex))


@pytest.fixture
async def connector_server(
    fake_ca_env: FakeTLS, token_server: FakeTokenServer, bot_app: AppRegistration
) -> AsyncIterator[FakeConnectorServer]:
    """The fake Bot Connector, accepting only tokens the fake Entra issued to the bot's app."""
    server = FakeConnectorServer(fake_ca_env, token_server=token_server, app_id=bot_app.client_id)
    async for started in _serve(server):
        assert isinstance(started, FakeConnectorServer)
        yield started


@pytest.fixture
async def emulator_connector(fake_ca_env: FakeTLS) -> AsyncIterator[FakeConnectorServer]:
    """The fake connector as the Bot Framework Emulator's: no app id, so no token expected."""
    async for started in _serve(FakeConnectorServer(fake_ca_env)):
        assert isinstance(started, FakeConnectorServer)
        yield started
