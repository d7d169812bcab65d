"""Per-customer access policy and the decisions made from it (durations, approvers, reasons)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from workflows.durations import format_duration, parse_duration
from workflows.errors import DurationOutOfRange, NotAllowed, ReasonRequired, UnknownCustomer
from workflows.model import Person


@dataclass(frozen=True, slots=True)
class CustomerPolicy:
    """One customer's network: the Entra group that opens it, and who may approve for how long."""

    key: str
    display_name: str
    group_id: str
    aliases: tuple[str, ...] = ()
    virtual_network_id: str | None = None
    approvers: tuple[str, ...] = ()  # UPNs, compared case-insensitively
    approver_group_id: str | None = None
    approval_channels: Mapping[str, str] = field(default_factory=dict)  # surface -> channel id
    default_duration: timedelta = timedelta(hours=1)
    min_duration: timedelta = timedelta(minutes=15)
    max_duration: timedelta = timedelta(hours=8)
    approvals_required: int = 1
    pending_timeout: timedelta = timedelta(hours=2)
    allow_self_approval: bool = False
    require_reason: bool = False

    def check_duration(self, duration: timedelta) -> None:
        """Raise `DurationOutOfRange` unless min_duration <= duration <= max_duration."""
        if not self.min_duration <= duration <= self.max_duration:
            raise DurationOutOfRange(
                f"{self.display_name} allows {format_duration(self.min_duration)} to "
                f"{format_duration(self.max_duration)}; you asked for {format_duration(duration)}"
            )

    def check_reason(self, reason: str) -> None:
        if self.require_reason and not reason.strip():
            raise ReasonRequired(f"{self.display_name} requires a reason: `/access {self.key} 1h <why>`")

    def is_listed_approver(self, person: Person) -> bool:
        """True if the person's UPN (or e-mail) is in the configured approver list."""
        listed = {upn.casefold() for upn in self.approvers}
        return person.upn.casefold() in listed or (bool(person.email) and person.email.casefold() in listed)

    def check_not_self(self, approver: Person, requester: Person) -> None:
        if approver.id == requester.id and not self.allow_self_approval:
            raise NotAllowed("you cannot approve your own request; another approver has to")


@dataclass(frozen=True, slots=True)
class Defaults:
    """Settings that apply to every customer unless it overrides them."""

    reminder_before_end: timedelta = timedelta(minutes=15)
    approver_reminder_first: timedelta = timedelta(minutes=15)


class Catalog:
    """The configured customers, looked up by key or alias (case-insensitive)."""

    def __init__(self, customers: Iterable[CustomerPolicy]) -> None:
        self._by_key: dict[str, CustomerPolicy] = {}
        self._by_name: dict[str, CustomerPolicy] = {}
        for customer in customers:
            self._by_key[customer.key] = customer
            for name in (customer.key, *customer.aliases):
                self._by_name[name.casefold()] = customer

    def __iter__(self) -> Iterator[CustomerPolicy]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def keys(self) -> list[str]:
        return sorted(self._by_key)

    def get(self, key: str) -> CustomerPolicy:
        """The customer with exactly this configured key (used for stored records)."""
        try:
            return self._by_key[key]
        except KeyError:
            raise UnknownCustomer(f"customer {key!r} is no longer configured") from None

    def find(self, name: str) -> CustomerPolicy:
        """The customer a user means by `name` (key or alias); `UnknownCustomer` lists the choices."""
        found = self._by_name.get(name.strip().casefold())
        if found is None:
            choices = ", ".join(self.keys()) or "(none configured)"
            raise UnknownCustomer(f"unknown customer {name!r}; customers: {choices}")
        return found


def resolve_duration(policy: CustomerPolicy, text: str | None) -> timedelta:
    """The requested duration (or the customer's default), checked against its range."""
    duration = policy.default_duration if not text else parse_duration(text)
    policy.check_duration(duration)
    return duration


def retry_delay(attempt: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """Capped exponential backoff for scheduler retries: base, 2*base, 4*base ... at most cap."""
    exponent = max(0, min(attempt - 1, 30))
    delay: timedelta = base * (2**exponent)
    return min(cap, delay)
