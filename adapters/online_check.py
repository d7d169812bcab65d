"""`accessbot check --online`: does the live setup actually protect every customer?

For each configured customer it asks the real services what a grant relies on:

* Entra: the customer's group exists, is not a dynamic-membership group (members of those
  cannot be added), and the app may write its members; every approver UPN and the approver
  group resolve.
* Cloudflare: the API token works, and, where `virtual_network_id` is set, an enabled
  Gateway network (`l4`) rule ties that virtual network to the customer's group. Without
  one, adding people to the group changes nothing and removing them ends nothing: the
  customer is UNPROTECTED.

The result is a list of rows (customer, check, ok/warn/fail, detail); `ok` is False if any
row failed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

from adapters.cloudflare import CloudflareError, CloudflareSessions, GatewayRule
from adapters.graph import MEMBER_WRITE_ROLES, REVOKE_ROLES, USER_READ_ROLES, GraphDirectory, GroupInfo
from workflows.errors import DirectoryError
from workflows.policy import CustomerPolicy

Status = Literal["ok", "warn", "fail"]
ALL = "*"  # the customer column of rows that concern the whole setup
_CONCURRENCY = 8  # customers checked at once: a few dozen reads, well under Graph's limits


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One finding: which customer (or `*`), what was checked, and what came out."""

    customer: str
    check: str
    status: Status
    detail: str


@dataclass
class OnlineReport:
    """All findings of an online check, in a stable order (global rows first)."""

    rows: list[CheckRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings allowed)."""
        return not any(row.status == "fail" for row in self.rows)

    def failures(self) -> list[CheckRow]:
        return [row for row in self.rows if row.status == "fail"]

    def unprotected(self) -> list[str]:
        """Customers without a Gateway rule that ties their virtual network to their group."""
        return [row.customer for row in self.rows if row.check == "gateway policy" and row.status == "fail"]

    def to_table(self) -> str:
        """A plain-text table for the terminal."""
        header = ("CUSTOMER", "CHECK", "STATUS", "DETAIL")
        lines = [(r.customer, r.check, r.status.upper(), r.detail) for r in self.rows]
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(3)]
        out = []
        for row in [header, *lines]:
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
            out.append("  ".join([*cells, row[3]]))
        verdict = "all checks passed" if self.ok else f"{len(self.failures())} check(s) FAILED"
        return "\n".join([*out, "", verdict])

    def to_json(self) -> str:
        """The report as JSON: `{"ok": bool, "checks": [{customer, check, status, detail}, ...]}`."""
        return json.dumps({"ok": self.ok, "checks": [asdict(row) for row in self.rows]}, indent=2)


async def check_online(
    customers: Iterable[CustomerPolicy],
    directory: GraphDirectory,
    cloudflare: CloudflareSessions | None,
) -> OnlineReport:
    """Check every customer against live Entra ID and Cloudflare; never raises for a finding."""
    customers = list(customers)
    report = OnlineReport()
    roles, graph_usable = await _check_graph_app(directory, report.rows)
    rules = await _check_cloudflare(cloudflare, report.rows)
    groups = _GroupCache(directory)
    semaphore = asyncio.Semaphore(_CONCURRENCY)

    async def one(customer: CustomerPolicy) -> list[CheckRow]:
        async with semaphore:
            rows: list[CheckRow] = []
            if graph_usable:
                await _check_group(customer, groups, roles, rows)
                await _check_approvers(customer, directory, groups, rows)
            rows.append(_check_gateway(customer, rules, cloudflare))
            return rows

    for rows in await asyncio.gather(*(one(c) for c in customers)):
        report.rows.extend(rows)
    return report


# -- global checks -----------------------------------------------------------------------


async def _check_graph_app(directory: GraphDirectory, rows: list[CheckRow]) -> tuple[frozenset[str] | None, bool]:
    try:
        roles = await directory.app_roles()
    except DirectoryError as exc:
        rows.append(CheckRow(ALL, "graph token", "fail", str(exc)))
        return None, False
    rows.append(CheckRow(ALL, "graph token", "ok", f"token for {directory.graph_url}"))
    if roles is None:
        rows.append(CheckRow(ALL, "graph permissions", "warn", "the token's roles claim is unreadable; not checked"))
        return None, True
    for check, needed, purpose in (
        ("graph permission: read users", USER_READ_ROLES, "resolve requesters and approvers"),
        ("graph permission: write members", MEMBER_WRITE_ROLES, "add and remove group members"),
        ("graph permission: revoke sessions", REVOKE_ROLES, "revoke sign-in sessions when access ends"),
    ):
        held = sorted(roles & needed)
        if held:
            rows.append(CheckRow(ALL, check, "ok", ", ".join(held)))
        else:
            rows.append(
                CheckRow(
                    ALL,
                    check,
                    "fail",
                    f"the app needs one of {', '.join(sorted(needed))} (application, admin-consented) to {purpose}",
                )
            )
    return roles, True


async def _check_cloudflare(cloudflare: CloudflareSessions | None, rows: list[CheckRow]) -> list[GatewayRule] | None:
    if cloudflare is None or not cloudflare.enabled:
        rows.append(
            CheckRow(
                ALL,
                "cloudflare token",
                "warn",
                "CLOUDFLARE_API_TOKEN not set: Access and WARP "
                "sessions are not revoked when a grant ends, and Gateway policies are not checked",
            )
        )
        return None
    try:
        token = await cloudflare.verify_token()
    except CloudflareError as exc:
        rows.append(CheckRow(ALL, "cloudflare token", "fail", str(exc)))
        return None
    rows.append(CheckRow(ALL, "cloudflare token", "ok" if token.ok else "fail", token.detail))
    if not token.ok:
        return None
    try:
        rules = await cloudflare.list_gateway_rules()
    except CloudflareError as exc:
        rows.append(CheckRow(ALL, "cloudflare gateway rules", "fail", f"cannot read Gateway rules: {exc}"))
        return None
    network_rules = sum(1 for rule in rules if "l4" in rule.filters)
    rows.append(CheckRow(ALL, "cloudflare gateway rules", "ok", f"{len(rules)} rule(s), {network_rules} network"))
    return rules


# -- per-customer checks -----------------------------------------------------------------


class _GroupCache:
    """Groups are often shared (one approver group for many customers): read each once."""

    def __init__(self, directory: GraphDirectory) -> None:
        self._directory = directory
        self._tasks: dict[str, asyncio.Task[GroupInfo | None]] = {}

    async def get(self, group_id: str) -> GroupInfo | None:
        key = group_id.casefold()
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(self._directory.get_group(group_id))
        return await asyncio.shield(self._tasks[key])


async def _check_group(
    customer: CustomerPolicy, groups: _GroupCache, roles: frozenset[str] | None, rows: list[CheckRow]
) -> None:
    def add(status: Status, detail: str) -> None:
        rows.append(CheckRow(customer.key, "access group", status, detail))

    try:
        group = await groups.get(customer.group_id)
    except DirectoryError as exc:
        add("fail", f"cannot read group {customer.group_id}: {exc}")
        return
    if group is None:
        add("fail", f"group {customer.group_id} does not exist in Entra ID (missing group)")
    elif group.dynamic:
        add("fail", f"group '{group.display_name}' has dynamic membership: members cannot be added or removed")
    elif group.role_assignable and roles is not None and "RoleManagement.ReadWrite.Directory" not in roles:
        add(
            "fail",
            f"group '{group.display_name}' is role-assignable: changing its members also needs "
            "RoleManagement.ReadWrite.Directory",
        )
    elif roles is not None and not roles & MEMBER_WRITE_ROLES:
        add("fail", f"group '{group.display_name}' exists but the app cannot write its members")
    elif not group.security_enabled:
        add("warn", f"group '{group.display_name}' is not a security group; Gateway may not see it")
    else:
        add("ok", f"'{group.display_name}' ({group.id}), members writable")


async def _check_approvers(
    customer: CustomerPolicy, directory: GraphDirectory, groups: _GroupCache, rows: list[CheckRow]
) -> None:
    if not customer.approvers and not customer.approver_group_id:
        rows.append(
            CheckRow(customer.key, "approvers", "fail", "no approvers and no approver group: nobody can approve")
        )
    for upn in customer.approvers:
        try:
            person = await directory.resolve_user(upn)
        except DirectoryError as exc:
            rows.append(CheckRow(customer.key, f"approver {upn}", "fail", f"cannot look up: {exc}"))
            continue
        if person is None:
            rows.append(CheckRow(customer.key, f"approver {upn}", "fail", f"unknown approver: no user {upn}"))
        else:
            rows.append(CheckRow(customer.key, f"approver {upn}", "ok", f"{person.label} ({person.id})"))
    if customer.approver_group_id:
        try:
            group = await groups.get(customer.approver_group_id)
        except DirectoryError as exc:
            rows.append(CheckRow(customer.key, "approver group", "fail", f"cannot read: {exc}"))
            return
        if group is None:
            rows.append(
                CheckRow(
                    customer.key,
                    "approver group",
                    "fail",
                    f"approver group {customer.approver_group_id} does not exist (missing group)",
                )
            )
        else:
            rows.append(CheckRow(customer.key, "approver group", "ok", f"'{group.display_name}' ({group.id})"))


def _check_gateway(
    customer: CustomerPolicy, rules: list[GatewayRule] | None, cloudflare: CloudflareSessions | None
) -> CheckRow:
    def row(status: Status, detail: str) -> CheckRow:
        return CheckRow(customer.key, "gateway policy", status, detail)

    vnet = customer.virtual_network_id
    if not vnet:
        return row("warn", "no virtual_network_id configured: the Gateway policy is not checked")
    if rules is None:
        reason = "Cloudflare is not configured" if cloudflare is None or not cloudflare.enabled else "rules unreadable"
        return row("warn", f"not verified ({reason})")
    for_vnet = [r for r in rules if "l4" in r.filters and references_vnet(r.traffic, vnet)]
    for rule in for_vnet:
        if rule.enabled and references_group(rule.identity, customer.group_id):
            return row(
                "ok",
                f"rule '{rule.name}' ({rule.action}, precedence {rule.precedence}) ties virtual "
                f"network {vnet} to group {customer.group_id}",
            )
    if any(references_group(r.identity, customer.group_id) for r in for_vnet):
        why = "the rule tying it to the group is disabled"
    elif for_vnet:
        why = f"rules for the virtual network ({', '.join(repr(r.name) for r in for_vnet)}) do not check the group"
    else:
        why = "no Gateway network rule mentions the virtual network"
    return row(
        "fail", f"UNPROTECTED: {why}; access to virtual network {vnet} does not depend on group {customer.group_id}"
    )


def references_vnet(traffic: str, vnet_id: str) -> bool:
    """Does a Gateway traffic expression select this virtual network (`==` or the `in {...}` set form)?"""
    return _references(traffic, r"net\.vnet_id", vnet_id)


def references_group(identity: str, group_id: str) -> bool:
    """Does a Gateway identity expression test membership of this group id?"""
    return _references(identity, r"identity\.groups\.id(?:\[\*\])?", group_id)


def _references(expression: str, field_pattern: str, value: str) -> bool:
    quoted = f'"{re.escape(value)}"'
    equals = rf"{field_pattern}\s*==\s*{quoted}"
    in_set = rf"{field_pattern}\s+in\s+\{{[^}}]*{quoted}[^}}]*\}}"
    return re.search(f"{equals}|{in_set}", expression, flags=re.IGNORECASE) is not None
