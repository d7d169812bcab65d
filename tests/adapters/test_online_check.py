"""`check_online` against the fake Entra, Graph and Cloudflare."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from adapters.cloudflare import CloudflareSessions
from adapters.graph import GraphDirectory
from adapters.online_check import check_online, references_group, references_vnet
from tests.fakes.cloudflare_server import FakeCloudflareServer
from tests.fakes.fixtures import EntraSettings
from tests.fakes.graph_server import FakeGraphServer
from tests.fakes.token_server import FakeTokenServer
from workflows.policy import CustomerPolicy

VNET_X = "4b8e7a2c-1f3d-4e5a-9b6c-7d8e9f0a1b2c"
VNET_Y = "5c9f8b3d-2a4e-4f6b-8c7d-8e9fa0b1c2d3"


@dataclass
class Tenant:
    customers: list[CustomerPolicy]
    approver_group: str


@pytest.fixture
def tenant(graph_server: FakeGraphServer, cloudflare_server: FakeCloudflareServer) -> Tenant:
    """Two well-configured customers, one protected by each form of Gateway expression."""
    graph_server.add_user("alice@contoso.example", "alice@contoso.example")
    graph_server.add_user("bob@contoso.example")
    approvers = graph_server.add_group("accessbot-approvers")
    group_x = graph_server.add_group("cf-customer-x")
    group_y = graph_server.add_group("cf-customer-y")
    cloudflare_server.add_rule(
        name="Customer X: members only",
        traffic=f'net.vnet_id == "{VNET_X}"',
        identity=f'not(any(identity.groups.id[*] in {{"{group_x}"}}))',
        action="block",
    )
    cloudflare_server.add_rule(
        name="Customer Y allow",
        traffic=f'net.vnet_id in {{"{VNET_Y}" "00000000-0000-0000-0000-000000000000"}}',
        identity=f'identity.groups.id == "{group_y}"',
        action="allow",
    )
    customers = [
        CustomerPolicy(
            key="customer-x",
            display_name="Customer X",
            group_id=group_x,
            virtual_network_id=VNET_X,
            approvers=("alice@contoso.example",),
        ),
        CustomerPolicy(
            key="customer-y",
            display_name="Customer Y",
            group_id=group_y,
            virtual_network_id=VNET_Y,
            approvers=("bob@contoso.example",),
            approver_group_id=approvers,
        ),
    ]
    return Tenant(customers, approvers)


async def test_correct_setup_is_all_green(
    tenant: Tenant, graph_directory: GraphDirectory, cloudflare_sessions: CloudflareSessions
) -> None:
    report = await check_online(tenant.customers, graph_directory, cloudflare_sessions)
    assert report.ok, report.to_table()
    assert {row.status for row in report.rows} == {"ok"}
    assert report.unprotected() == []
    gateway = [row for row in report.rows if row.check == "gateway policy"]
    assert [row.customer for row in gateway] == ["customer-x", "customer-y"]
    assert json.loads(report.to_json())["ok"] is True


async def test_broken_setup_names_what_is_wrong(
    tenant: Tenant,
    graph_server: FakeGraphServer,
    graph_directory: GraphDirectory,
    cloudflare_sessions: CloudflareSessions,
) -> None:
    dynamic = graph_server.add_group("cf-dynamic", dynamic=True)
    broken = [
        *tenant.customers,
        # a virtual network no Gateway rule looks at
        CustomerPolicy(
            key="customer-z",
            display_name="Customer Z",
            group_id=graph_server.add_group("cf-z"),
            virtual_network_id="6da09c4e-3b5f-4a7c-9d8e-9fa0b1c2d3e4",
            approvers=("alice@contoso.example",),
        ),
        # an approver who left
        CustomerPolicy(
            key="customer-w",
            display_name="Customer W",
            group_id=graph_server.add_group("cf-w"),
            approvers=("carol.gone@contoso.example",),
        ),
        # the group was deleted, and the approver group never existed
        CustomerPolicy(
            key="customer-v",
            display_name="Customer V",
            group_id="8f1e2d3c-4b5a-4968-8776-655443322110",
            approvers=("alice@contoso.example",),
            approver_group_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        ),
        CustomerPolicy(
            key="customer-u", display_name="Customer U", group_id=dynamic, approvers=("alice@contoso.example",)
        ),
    ]
    report = await check_online(broken, graph_directory, cloudflare_sessions)
    assert not report.ok
    assert report.unprotected() == ["customer-z"]
    failed = {(row.customer, row.check): row.detail for row in report.failures()}
    assert "UNPROTECTED" in failed[("customer-z", "gateway policy")]
    assert "unknown approver" in failed[("customer-w", "approver carol.gone@contoso.example")]
    assert "missing group" in failed[("customer-v", "access group")]
    assert "missing group" in failed[("customer-v", "approver group")]
    assert "dynamic membership" in failed[("customer-u", "access group")]
    assert len(failed) == 5, report.to_table()
    table = report.to_table()
    for name in ("customer-z", "carol.gone@contoso.example", "customer-v", "FAILED"):
        assert name in table
    # customers without a virtual network are reported as not checked, not as failures
    assert any(r.customer == "customer-w" and r.check == "gateway policy" and r.status == "warn" for r in report.rows)


async def test_disabled_rule_and_unrelated_group_are_unprotected(
    tenant: Tenant,
    cloudflare_server: FakeCloudflareServer,
    graph_directory: GraphDirectory,
    cloudflare_sessions: CloudflareSessions,
) -> None:
    cloudflare_server.rules[0]["enabled"] = False
    cloudflare_server.rules[1]["identity"] = 'identity.groups.id == "someone-else"'
    report = await check_online(tenant.customers, graph_directory, cloudflare_sessions)
    assert report.unprotected() == ["customer-x", "customer-y"]
    details = " ".join(row.detail for row in report.failures())
    assert "disabled" in details and "do not check the group" in details


async def test_missing_write_permission_fails(
    tenant: Tenant,
    token_server: FakeTokenServer,
    entra_settings: EntraSettings,
    cloudflare_sessions: CloudflareSessions,
) -> None:
    token_server.apps[entra_settings.client_id].roles = ("User.Read.All", "GroupMember.Read.All")
    async with entra_settings.directory() as directory:
        report = await check_online(tenant.customers, directory, cloudflare_sessions)
    failed = {(row.customer, row.check) for row in report.failures()}
    assert ("*", "graph permission: write members") in failed
    assert ("*", "graph permission: revoke sessions") in failed
    assert ("customer-x", "access group") in failed


async def test_without_cloudflare_only_warns(tenant: Tenant, graph_directory: GraphDirectory) -> None:
    report = await check_online(tenant.customers, graph_directory, None)
    assert report.ok
    assert {(r.check, r.status) for r in report.rows if r.status != "ok"} == {
        ("cloudflare token", "warn"),
        ("gateway policy", "warn"),
    }


async def test_bad_graph_credentials_fail_once(tenant: Tenant, entra_settings: EntraSettings) -> None:
    async with entra_settings.directory(client_secret="wrong") as directory:
        report = await check_online(tenant.customers, directory, None)
    assert [r.check for r in report.failures()] == ["graph token"]
    assert "AZURE_CLIENT_SECRET" in report.failures()[0].detail


async def test_bad_cloudflare_token_fails(
    tenant: Tenant, graph_directory: GraphDirectory, cloudflare_server: FakeCloudflareServer
) -> None:
    sessions = CloudflareSessions(
        api_token="nope", account_id=cloudflare_server.account_id, base_url=cloudflare_server.base_url
    )
    async with sessions:
        report = await check_online(tenant.customers, graph_directory, sessions)
    assert ("*", "cloudflare token") in {(r.customer, r.check) for r in report.failures()}


def test_expression_matching() -> None:
    assert references_vnet('net.vnet_id == "abc"', "abc")
    assert references_vnet('net.vnet_id in {"x" "ABC"}', "abc")
    assert not references_vnet('net.vnet_id == "abcd"', "abc")
    assert references_group('any(identity.groups.id[*] in {"g1" "g2"})', "g2")
    assert references_group('identity.groups.id == "g1"', "g1")
    assert not references_group('identity.groups.name == "g1"', "g1")
