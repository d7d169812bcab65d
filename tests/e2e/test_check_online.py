"""`accessbot check --online` as a real process against the fake Entra, Graph and Cloudflare (over TLS)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.e2e.process import accessbot_executable, clean_env
from tests.fakes.cloudflare_server import FakeCloudflareServer
from tests.fakes.fixtures import EntraSettings
from tests.fakes.graph_server import FakeGraphServer

pytestmark = pytest.mark.slow

VNET_X = "4b8e7a2c-1f3d-4e5a-9b6c-7d8e9f0a1b2c"
VNET_Y = "5c9f8b3d-2a4e-4f6b-8c7d-8e9fa0b1c2d3"


async def _check(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    # Not subprocess.run: the fakes live on this test's event loop and must keep answering.
    process = await asyncio.create_subprocess_exec(
        accessbot_executable(), "check", "--online", *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _config(tmp_path: Path, group_x: str, group_y: str, approver: str) -> Path:
    path = tmp_path / "accessbot.toml"
    path.write_text(
        f"""
[customers.customer-x]
group_id = "{group_x}"
virtual_network_id = "{VNET_X}"
approvers = ["{approver}"]

[customers.customer-y]
group_id = "{group_y}"
virtual_network_id = "{VNET_Y}"
approvers = ["alice@contoso.example"]
"""
    )
    return path


async def test_check_online_green_then_broken(
    tmp_path: Path,
    graph_server: FakeGraphServer,
    cloudflare_server: FakeCloudflareServer,
    entra_settings: EntraSettings,
    cloudflare_env: dict[str, str],
) -> None:
    graph_server.add_user("alice@contoso.example", "alice@contoso.example")
    group_x, group_y = graph_server.add_group("cf-customer-x"), graph_server.add_group("cf-customer-y")
    cloudflare_server.add_rule(
        name="Customer X", traffic=f'net.vnet_id == "{VNET_X}"',
        identity=f'not(any(identity.groups.id[*] in {{"{group_x}"}}))', action="block",
    )  # fmt: skip
    cloudflare_server.add_rule(
        name="Customer Y", traffic=f'net.vnet_id == "{VNET_Y}"', identity=f'identity.groups.id == "{group_y}"',
        action="allow",
    )  # fmt: skip
    slack = {"SLACK_BOT_TOKEN": "xoxb-0000-fake", "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef"}
    env = clean_env(tmp_path, **entra_settings.as_env(), **cloudflare_env, **slack)
    env["ACCESSBOT_CONFIG"] = str(_config(tmp_path, group_x, group_y, "alice@contoso.example"))
    code, out, err = await _check(tmp_path, env, "--json")
    report = json.loads(out)
    assert code == 0 and report["online"]["ok"] is True and report["missing_settings"] == [], out + err
    assert entra_settings.client_secret not in out + err

    # broken: customer-y's group is gone (so its rule guards nothing that exists), an approver left
    env["ACCESSBOT_CONFIG"] = str(
        _config(tmp_path, group_x, "8f1e2d3c-4b5a-4968-8776-655443322110", "carol.gone@contoso.example")
    )
    code, out, err = await _check(tmp_path, env)
    assert code == 1
    assert "carol.gone@contoso.example" in out
    assert "customer-y" in out and "missing group" in out
    assert "UNPROTECTED" in out
