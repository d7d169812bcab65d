"""The operator commands, run as the real console script against a SQLite database."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sandbox import SandboxDirectory
from adapters.store.engine import create_engine
from adapters.store.migrate import upgrade
from adapters.store.repository import SqlStore
from tests.e2e.process import accessbot_executable, clean_env
from workflows.model import Grant, GrantState

pytestmark = pytest.mark.slow

GROUP_X = "3f2b8c1e-6d4a-4e57-9a0b-1c2d3e4f5a01"  # customer-x in examples/accessbot.toml


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [accessbot_executable(), *args], cwd=tmp_path, env=clean_env(tmp_path, COLUMNS="200"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def _seed(tmp_path: Path, count: int) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'accessbot.db'}")
    await upgrade(engine)
    directory = SandboxDirectory(engine)
    now = datetime.now(UTC)
    people = [await directory.add_user(f"eng{i}@contoso.example") for i in range(count)]
    async with SqlStore(engine).transaction() as tx:
        for i, person in enumerate(people):
            await tx.add_grant(
                Grant(
                    id=i + 1, customer="customer-x", group_id=GROUP_X, person=person, duration=timedelta(hours=2),
                    state=GrantState.ACTIVE, created_at=now, starts_at=now, ends_at=now + timedelta(hours=2),
                    approved_by=("alice@contoso.example",),
                )
            )  # fmt: skip
    for person in people:
        await directory.add_member(GROUP_X, person.id)
    await engine.dispose()


def test_db_upgrade_on_a_fresh_database(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "was empty" in result.stdout
    again = run(tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "was empty" not in again.stdout


def test_emergency_revoke_of_a_whole_customer(tmp_path: Path) -> None:
    asyncio.run(_seed(tmp_path, 25))
    listing = run(tmp_path, "grants", "--active")
    assert listing.returncode == 0, listing.stderr
    assert "25 grant(s)" in listing.stdout and "eng24@contoso.example" in listing.stdout

    result = run(tmp_path, "revoke", "--customer", "CX", "--all", "--sandbox", "--as", "oncall", "--reason", "breach")
    assert result.returncode == 0, result.stderr
    assert "revoking 25 grant(s)" in result.stderr  # the progress bar
    assert result.stdout.count(": revoked") == 25

    listing = run(tmp_path, "grants", "--active")
    assert "0 grant(s)" in listing.stdout
    with sqlite3.connect(tmp_path / "accessbot.db") as db:
        members = db.execute("SELECT count(*) FROM sandbox_members WHERE group_id = ?", (GROUP_X,)).fetchone()[0]
        query = "SELECT actor_id FROM audit_events WHERE action = 'grant.revoke_requested'"
        actors = {row[0] for row in db.execute(query)}
    assert members == 0
    assert actors == {"oncall"}

    again = run(tmp_path, "revoke", "--customer", "customer-x", "--all", "--sandbox")
    assert again.returncode == 0 and "nothing to revoke" in again.stdout


def test_revoke_refuses_bad_input(tmp_path: Path) -> None:
    asyncio.run(_seed(tmp_path, 1))
    unknown = run(tmp_path, "revoke", "999", "--sandbox")
    assert unknown.returncode == 2 and "no access #999" in unknown.stderr
    customer = run(tmp_path, "revoke", "--customer", "nope", "--all", "--sandbox")
    assert customer.returncode == 2 and "unknown customer 'nope'" in customer.stderr
    both = run(tmp_path, "revoke", "1", "--customer", "cx", "--all")
    assert both.returncode == 2
    assert "1 grant(s)" in run(tmp_path, "grants", "--active").stdout  # nothing changed


def test_audit_verify_export_and_tampering(tmp_path: Path) -> None:
    asyncio.run(_seed(tmp_path, 3))
    assert run(tmp_path, "revoke", "2", "--sandbox").returncode == 0
    verify = run(tmp_path, "audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout
    exported = tmp_path / "audit.csv"
    export = run(tmp_path, "audit", "export", "--format", "csv", "--output", str(exported), "--customer", "cx")
    assert export.returncode == 0, export.stderr
    lines = exported.read_text().splitlines()
    assert lines[0].startswith("seq,at,") and "prev_hash" in lines[0] and len(lines) > 3
    with sqlite3.connect(tmp_path / "accessbot.db") as db:
        db.execute("UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 2")
    broken = run(tmp_path, "audit", "verify")
    assert broken.returncode == 1 and "broken at event 2" in broken.stdout


def test_check_without_credentials_reports_what_is_missing(tmp_path: Path) -> None:
    result = run(tmp_path, "check")
    assert result.returncode == 1
    assert "configuration: ok (2 customers: customer-x, customer-y)" in result.stdout
    assert "AZURE_TENANT_ID" in result.stdout and "CLOUDFLARE_API_TOKEN" in result.stdout


def test_operator_commands_on_an_empty_database_say_what_to_do(tmp_path: Path) -> None:
    result = run(tmp_path, "grants")
    assert result.returncode == 2
    assert "Run `accessbot db upgrade` first" in result.stderr and "Traceback" not in result.stderr
