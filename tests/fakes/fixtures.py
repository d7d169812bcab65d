"""Pytest fixtures for the fake Entra token service, Microsoft Graph and Cloudflare API.

Register with `pytest_plugins = ["tests.fakes.fixtures"]` in the top-level conftest.

Each fake is a real HTTPS server on 127.0.0.1 (random port) with a trustme certificate.
Clients trust it only through `SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE`, set here with
monkeypatch. At teardown each server fixture fails the test if the fake recorded a request
the real service would reject (`violations`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.cloudflare import CloudflareSessions
from adapters.graph import GraphDirectory
from adapters.http_retry import RetryPolicy
from tests.fakes.base import FakeServer
from tests.fakes.cloudflare_server import FakeCloudflareServer, FakeToken
from tests.fakes.graph_server import DEFAULT_APP_ROLES, FakeGraphServer
from tests.fakes.tls import FakeTLS, make_tls
from tests.fakes.token_server import AppRegistration, FakeTokenServer

# Fast backoff for tests: real Retry-After values are still honoured as given.
FAST_RETRY = RetryPolicy(budget=20.0, attempts=20, wait_initial=0.01, wait_max=0.2, wait_jitter=0.01)


@dataclass(frozen=True)
class EntraSettings:
    """What the AZURE_* / GRAPH_API_URL settings would hold to reach the fakes."""

    tenant_id: str
    client_id: str
    client_secret: str
    authority_host: str
    graph_url: str

    def as_env(self) -> dict[str, str]:
        """The environment variables a subprocess (`accessbot serve`) needs to reach the fakes."""
        return {
            "AZURE_TENANT_ID": self.tenant_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_CLIENT_SECRET": self.client_secret,
            "AZURE_AUTHORITY_HOST": self.authority_host,
            "GRAPH_API_URL": self.graph_url,
        }

    def directory(self, *, retry: RetryPolicy | None = FAST_RETRY, **overrides: object) -> GraphDirectory:
        """A GraphDirectory for the fakes (any constructor argument can be overridden)."""
        kwargs: dict[str, object] = {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authority_host": self.authority_host,
            "graph_url": self.graph_url,
            "retry": retry,
        }
        kwargs.update(overrides)
        return GraphDirectory(**kwargs)  # type: ignore[arg-type]


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


@pytest.fixture(scope="session")
def fake_tls(tmp_path_factory: pytest.TempPathFactory) -> FakeTLS:
    """One CA and server certificate for the whole session (key generation is the slow part)."""
    return make_tls(Path(tmp_path_factory.mktemp("fake-tls")))


@pytest.fixture
def fake_ca_env(fake_tls: FakeTLS, monkeypatch: pytest.MonkeyPatch) -> FakeTLS:
    """Make every outbound client trust the fakes' CA the standard way."""
    monkeypatch.setenv("SSL_CERT_FILE", str(fake_tls.ca_bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_tls.ca_bundle))
    return fake_tls


@pytest.fixture
async def token_server(fake_ca_env: FakeTLS) -> AsyncIterator[FakeTokenServer]:
    """The fake Entra ID token endpoint for one tenant."""
    async for server in _serve(FakeTokenServer(fake_ca_env)):
        assert isinstance(server, FakeTokenServer)
        yield server


@pytest.fixture
def graph_app(token_server: FakeTokenServer) -> AppRegistration:
    """The bot's app registration: a client secret and the permissions the bot needs."""
    return token_server.register(
        AppRegistration(client_id=str(uuid.uuid4()), secret="s3cret-" + uuid.uuid4().hex, roles=DEFAULT_APP_ROLES)
    )


@pytest.fixture
async def graph_server(fake_ca_env: FakeTLS, token_server: FakeTokenServer) -> AsyncIterator[FakeGraphServer]:
    """The fake Microsoft Graph, accepting tokens from `token_server`."""
    async for server in _serve(FakeGraphServer(fake_ca_env, token_server=token_server)):
        assert isinstance(server, FakeGraphServer)
        yield server


@pytest.fixture
def entra_settings(
    token_server: FakeTokenServer, graph_server: FakeGraphServer, graph_app: AppRegistration
) -> EntraSettings:
    assert graph_app.secret is not None
    return EntraSettings(
        tenant_id=token_server.tenant_id,
        client_id=graph_app.client_id,
        client_secret=graph_app.secret,
        authority_host=token_server.authority_host,
        graph_url=graph_server.graph_url,
    )


@pytest.fixture
async def graph_directory(entra_settings: EntraSettings) -> AsyncIterator[GraphDirectory]:
    """A real GraphDirectory (msal + httpx + TLS) wired to the fakes, with fast backoff."""
    async with entra_settings.directory() as directory:
        yield directory


@pytest.fixture
async def cloudflare_server(fake_ca_env: FakeTLS) -> AsyncIterator[FakeCloudflareServer]:
    """The fake Cloudflare API with one account-owned API token (`cloudflare_token`)."""
    server = FakeCloudflareServer(fake_ca_env)
    server.add_token()
    async for started in _serve(server):
        assert isinstance(started, FakeCloudflareServer)
        yield started


@pytest.fixture
def cloudflare_token(cloudflare_server: FakeCloudflareServer) -> FakeToken:
    return next(iter(cloudflare_server.tokens.values()))


@pytest.fixture
def cloudflare_env(cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken) -> dict[str, str]:
    """The environment variables a subprocess needs to reach the fake Cloudflare API."""
    return {
        "CLOUDFLARE_API_TOKEN": cloudflare_token.value,
        "CLOUDFLARE_ACCOUNT_ID": cloudflare_server.account_id,
        "CLOUDFLARE_API_URL": cloudflare_server.base_url,
    }


@pytest.fixture
async def cloudflare_sessions(
    cloudflare_server: FakeCloudflareServer, cloudflare_token: FakeToken
) -> AsyncIterator[CloudflareSessions]:
    """A real CloudflareSessions wired to the fake, with fast backoff."""
    async with CloudflareSessions(
        api_token=cloudflare_token.value,
        account_id=cloudflare_server.account_id,
        base_url=cloudflare_server.base_url,
        retry=FAST_RETRY,
    ) as sessions:
        yield sessions
