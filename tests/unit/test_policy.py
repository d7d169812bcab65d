"""Policy decisions, table-driven: lookup, duration range, reasons, approvers, backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import customer
from workflows.errors import DurationOutOfRange, NotAllowed, ReasonRequired, UnknownCustomer
from workflows.model import Person
from workflows.policy import Catalog, resolve_duration, retry_delay

CATALOG = Catalog([customer(), customer("customer-y", aliases=("Why", "cy"))])
ALICE = Person("a", "Alice@Contoso.example", "alice@contoso.example")


@pytest.mark.parametrize(
    ("name", "key"),
    [("customer-x", "customer-x"), ("CUSTOMER-X", "customer-x"), ("cx", "customer-x"), ("why", "customer-y"),
     (" cy ", "customer-y")],
)  # fmt: skip
def test_lookup_by_key_or_alias(name: str, key: str) -> None:
    assert CATALOG.find(name).key == key


def test_unknown_customer_lists_the_choices() -> None:
    with pytest.raises(UnknownCustomer, match="customers: customer-x, customer-y"):
        CATALOG.find("customer-z")


@pytest.mark.parametrize(
    ("text", "ok"),
    [(None, True), ("15m", True), ("4h", True), ("14m", False), ("4h1s", False), ("1d", False)],
)
def test_duration_range(text: str | None, ok: bool) -> None:
    policy = CATALOG.get("customer-x")
    if ok:
        assert resolve_duration(policy, text) >= timedelta(minutes=15)
    else:
        with pytest.raises(DurationOutOfRange, match="allows 15m to 4h"):
            resolve_duration(policy, text)


@pytest.mark.parametrize(("required", "reason", "ok"), [(True, "", False), (True, "x", True), (False, "", True)])
def test_reason(required: bool, reason: str, ok: bool) -> None:
    policy = customer(require_reason=required)
    if ok:
        policy.check_reason(reason)
    else:
        with pytest.raises(ReasonRequired):
            policy.check_reason(reason)


@pytest.mark.parametrize(
    ("person", "listed"),
    [
        (ALICE, True),
        (Person("b", "bob@contoso.example", ""), True),
        (Person("c", "carol@contoso.example", "alice@contoso.example"), True),  # listed by e-mail
        (Person("m", "mallory@contoso.example", "mallory@contoso.example"), False),
    ],
)
def test_listed_approvers(person: Person, listed: bool) -> None:
    assert customer().is_listed_approver(person) is listed


@pytest.mark.parametrize(("allow", "ok"), [(False, False), (True, True)])
def test_self_approval(allow: bool, ok: bool) -> None:
    policy = customer(allow_self_approval=allow)
    if ok:
        policy.check_not_self(ALICE, ALICE)
    else:
        with pytest.raises(NotAllowed, match="own request"):
            policy.check_not_self(ALICE, ALICE)


@pytest.mark.parametrize(("attempt", "seconds"), [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (60, 300)])
def test_capped_backoff(attempt: int, seconds: int) -> None:
    assert retry_delay(attempt, base=timedelta(seconds=10), cap=timedelta(minutes=5)) == timedelta(seconds=seconds)
