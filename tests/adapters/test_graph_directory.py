"""GraphDirectory against the fake Entra token service and fake Graph, over real msal, httpx and TLS."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.graph import GraphDirectory
from adapters.http_retry import RetryPolicy
from tests.contract.directory_contract import DirectoryContract
from tests.fakes.fixtures import EntraSettings
from tests.fakes.graph_server import FakeGraphServer
from tests.fakes.token_server import AppRegistration, FakeTokenServer
from workflows.errors import ConfigError, DirectoryError
from workflows.ports import MembershipChange


class GraphHarness:
    """The directory under test plus a back door into the fake Graph's tables."""

    def __init__(self, directory: GraphDirectory, server: FakeGraphServer) -> None:
        self.directory = directory
        self.server = server

    async def create_user(self, upn: str, mail: str | None = None, *, guest: bool = False) -> str:
        return self.server.add_user(upn, mail, guest=guest)

    async def create_group(self, name: str) -> str:
        return self.server.add_group(name)

    async def nest(self, parent_group: str, child_group: str) -> None:
        self.server.nest(parent_group, child_group)

    async def members(self, group_id: str) -> set[str]:
        return self.server.members(group_id)

    async def session_revocations(self, user_id: str) -> int:
        return self.server.users[user_id].revocations

    async def membership_writes(self, group_id: str) -> int:
        return self.server.groups[group_id].writes


@pytest.fixture
def harness(graph_directory: GraphDirectory, graph_server: FakeGraphServer) -> GraphHarness:
    return GraphHarness(graph_directory, graph_server)


class TestGraphDirectoryContract(DirectoryContract):
    """The shared Directory contract, run on Microsoft Graph."""


# -- idempotency ---------------------------------------------------------------------------


async def test_add_remove_revoke_twice_change_once(
    graph_directory: GraphDirectory, graph_server: FakeGraphServer
) -> None:
    user = graph_server.add_user("idem@contoso.example")
    group = graph_server.add_group("customer-idem")

    await graph_directory.add_member(group, user)
    await graph_directory.add_member(group, user)  # Graph: 400 "already exist ... 'members'"
    assert graph_server.groups[group].writes == 1
    await graph_directory.remove_member(group, user)
    await graph_directory.remove_member(group, user)  # Graph: 404 not a member
    await graph_directory.revoke_sign_in_sessions(user)
    await graph_directory.revoke_sign_in_sessions(user)

    assert graph_server.members(group) == set()
    assert graph_server.groups[group].writes == 2  # one add, one remove
    assert graph_server.users[user].revocations == 2
    adds = [r.status for r in graph_server.operations if r.method == "POST" and r.path.endswith("/members/$ref")]
    removes = [r.status for r in graph_server.operations if r.method == "DELETE"]
    assert adds == [204, 400]
    assert removes == [204, 404]
    assert all(r.path.endswith("/$ref") for r in graph_server.operations if r.method == "DELETE")


async def test_one_token_for_many_calls(
    graph_directory: GraphDirectory, graph_server: FakeGraphServer, token_server: FakeTokenServer
) -> None:
    user = graph_server.add_user("cache@contoso.example")
    for _ in range(5):
        assert await graph_directory.resolve_user(user) is not None
    assert token_server.tokens_issued == 1  # one long-lived msal app: its cache serves the rest


# -- throttling and outage (this one really waits: 3 x Retry-After 2 s, then 5 s of 503) -------


async def test_add_and_remove_survive_throttling_then_outage(
    entra_settings: EntraSettings, graph_server: FakeGraphServer
) -> None:
    user = graph_server.add_user("throttled@contoso.example")
    group = graph_server.add_group("customer-throttled")
    graph_server.faults.push(429, retry_after=2, times=3)
    graph_server.faults.push(503, seconds=5)

    retry = RetryPolicy(budget=60, wait_initial=0.25, wait_max=1.0, wait_jitter=0.1)
    async with entra_settings.directory(retry=retry) as directory:
        await directory.add_member(group, user)
        assert graph_server.members(group) == {user}
        await directory.remove_member(group, user)

    assert graph_server.members(group) == set()
    assert graph_server.groups[group].writes == 2
    statuses = [r.status for r in graph_server.requests]
    assert statuses[:3] == [429, 429, 429]
    assert 503 in statuses
    # exactly once each reached the directory; the fake also checked that no retry came early
    assert [r.status for r in graph_server.operations] == [204, 204]


async def test_gives_up_within_budget_keeping_request_id(
    entra_settings: EntraSettings, graph_server: FakeGraphServer
) -> None:
    group = graph_server.add_group("customer-down")
    user = graph_server.add_user("down@contoso.example")
    graph_server.faults.push(503, seconds=60)
    async with entra_settings.directory(retry=RetryPolicy(budget=0.5, wait_initial=0.05, wait_max=0.1)) as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.add_member(group, user)
    assert caught.value.transient is True
    assert caught.value.request_id is not None
    assert caught.value.request_id in str(caught.value)
    graph_server.faults.clear()


async def test_retry_after_beyond_budget_fails_fast(
    entra_settings: EntraSettings, graph_server: FakeGraphServer
) -> None:
    user = graph_server.add_user("patient@contoso.example")
    graph_server.faults.push(429, retry_after=120)
    async with entra_settings.directory(retry=RetryPolicy(budget=5)) as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.revoke_sign_in_sessions(user)
    assert caught.value.transient is True
    assert graph_server.count() == 1  # no retry that ignores the server's Retry-After
    graph_server.take_violations()  # nothing was sent early; nothing to report either way


# -- errors --------------------------------------------------------------------------------


async def test_missing_group_error_keeps_graph_request_id(
    graph_directory: GraphDirectory, graph_server: FakeGraphServer
) -> None:
    user = graph_server.add_user("lost@contoso.example")
    with pytest.raises(DirectoryError) as caught:
        await graph_directory.add_member("0b5e7b6e-0000-4000-8000-000000000000", user)
    assert caught.value.transient is False
    assert caught.value.request_id
    assert "Request_ResourceNotFound" in str(caught.value)


async def test_missing_permission_is_a_clear_permanent_error(
    entra_settings: EntraSettings, graph_server: FakeGraphServer, token_server: FakeTokenServer
) -> None:
    token_server.apps[entra_settings.client_id].roles = ("User.Read.All",)
    user = graph_server.add_user("noperm@contoso.example")
    group = graph_server.add_group("customer-noperm")
    async with entra_settings.directory() as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.add_member(group, user)
    assert caught.value.transient is False
    assert "GroupMember.ReadWrite.All" in str(caught.value)
    assert caught.value.request_id


# -- batching ------------------------------------------------------------------------------


async def test_hundred_removals_and_revocations_cost_at_most_ten_requests(
    graph_directory: GraphDirectory, graph_server: FakeGraphServer
) -> None:
    groups = [graph_server.add_group(f"customer-{i}") for i in range(4)]
    users = [graph_server.add_user(f"bulk{i}@contoso.example") for i in range(100)]
    for i, user in enumerate(users):
        graph_server.groups[groups[i % 4]].members.add(user)
    changes = [MembershipChange(groups[i % 4], user) for i, user in enumerate(users)]
    await graph_directory.resolve_user(users[0])  # token and connection warmed up
    graph_server.requests.clear()

    removed = await graph_directory.remove_members(changes)
    revoked = await graph_directory.revoke_sign_in_sessions_many(users)

    assert removed.failed == {} and revoked.failed == {}
    assert graph_server.count() <= 10
    assert all(size <= 20 for size in graph_server.batches)
    assert all(graph_server.members(g) == set() for g in groups)
    assert all(graph_server.users[u].revocations == 1 for u in users)


async def test_throttled_batch_items_are_retried_on_their_own(
    graph_directory: GraphDirectory, graph_server: FakeGraphServer
) -> None:
    users = [graph_server.add_user(f"item{i}@contoso.example") for i in range(30)]
    graph_server.batch_item_faults.push(429, retry_after=1, times=3)
    graph_server.batch_item_faults.push(503, times=1)

    result = await graph_directory.revoke_sign_in_sessions_many([*users, users[0]])  # duplicates collapse

    assert result.failed == {}
    assert all(graph_server.users[u].revocations == 1 for u in users)
    # first round: 2 batches (20 + 10); second round: only the 4 failed items, in one batch
    assert graph_server.batches == [20, 10, 4]


async def test_bulk_reports_permanent_failures_per_item(
    graph_directory: GraphDirectory, graph_server: FakeGraphServer
) -> None:
    users = [graph_server.add_user(f"mixed{i}@contoso.example") for i in range(3)]
    ghost = "7f6f3b84-1111-4222-8333-944455556666"
    result = await graph_directory.revoke_sign_in_sessions_many([*users, ghost])
    assert set(result.failed) == {ghost}
    assert "404" in result.failed[ghost] and "request-id" in result.failed[ghost]
    assert all(graph_server.users[u].revocations == 1 for u in users)


# -- tokens --------------------------------------------------------------------------------


async def test_wrong_secret_names_the_setting_and_hides_the_secret(entra_settings: EntraSettings) -> None:
    wrong = "definitely-not-the-secret-" + "x" * 8
    async with entra_settings.directory(client_secret=wrong) as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.resolve_user("anyone@contoso.example")
    message = str(caught.value)
    assert caught.value.transient is False
    assert "AZURE_CLIENT_SECRET" in message and "AADSTS7000215" in message
    assert wrong not in message and entra_settings.client_secret not in message


async def test_unknown_tenant_names_the_setting(entra_settings: EntraSettings) -> None:
    async with entra_settings.directory(tenant_id="11111111-2222-3333-4444-555555555555") as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.resolve_user("anyone@contoso.example")
    assert caught.value.transient is False
    assert "AZURE_TENANT_ID" in str(caught.value) and "AADSTS90002" in str(caught.value)


async def test_unknown_client_names_the_setting(entra_settings: EntraSettings) -> None:
    async with entra_settings.directory(client_id="22222222-3333-4444-5555-666666666666") as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.resolve_user("anyone@contoso.example")
    assert "AZURE_CLIENT_ID" in str(caught.value) and "AADSTS700016" in str(caught.value)


def test_constructor_checks_settings_without_io() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        GraphDirectory(tenant_id="t", client_id="c")
    with pytest.raises(ConfigError, match="GRAPH_API_URL"):
        GraphDirectory(tenant_id="t", client_id="c", client_secret="s", graph_url="http://graph.local/v1.0")
    directory = GraphDirectory(tenant_id="t", client_id="c", client_secret="hunter2")
    assert "hunter2" not in repr(directory)


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / f"{name}.pem"
    path.write_bytes(key_pem + cert_pem)
    return path, cert_pem


async def test_certificate_credential(
    tmp_path: Path, token_server: FakeTokenServer, graph_server: FakeGraphServer, entra_settings: EntraSettings
) -> None:
    path, cert_pem = _self_signed(tmp_path, "accessbot")
    app = token_server.register(
        AppRegistration(client_id="cert-app", certificate_pem=cert_pem, roles=("User.Read.All",))
    )
    user = graph_server.add_user("cert@contoso.example")
    async with entra_settings.directory(
        client_id=app.client_id, client_secret=None, client_certificate_path=path
    ) as directory:
        person = await directory.resolve_user("cert@contoso.example")
    assert person is not None and person.id == user

    other, _ = _self_signed(tmp_path, "stranger")
    async with entra_settings.directory(
        client_id=app.client_id, client_secret=None, client_certificate_path=other
    ) as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.resolve_user("cert@contoso.example")
    assert "AZURE_CLIENT_CERTIFICATE_PATH" in str(caught.value) and "AADSTS700027" in str(caught.value)

    async with entra_settings.directory(
        client_id=app.client_id, client_secret=None, client_certificate_path=tmp_path / "missing.pem"
    ) as directory:
        with pytest.raises(DirectoryError, match="AZURE_CLIENT_CERTIFICATE_PATH"):
            await directory.resolve_user("cert@contoso.example")


async def test_untrusted_tls_is_a_configuration_error(
    entra_settings: EntraSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # msal (requests) trusts the fakes only through REQUESTS_CA_BUNDLE ...
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    async with entra_settings.directory() as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.resolve_user("anyone@contoso.example")
    assert caught.value.transient is False and "REQUESTS_CA_BUNDLE" in str(caught.value)

    # ... and httpx only through SSL_CERT_FILE, read when the client is created.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", os.environ["SSL_CERT_FILE"])
    monkeypatch.delenv("SSL_CERT_FILE")
    async with entra_settings.directory() as directory:
        with pytest.raises(DirectoryError) as caught:
            await directory.resolve_user("anyone@contoso.example")
    assert caught.value.transient is False and "SSL_CERT_FILE" in str(caught.value)
