"""Errors the core raises. Each carries a message fit to show the user who caused it."""

from __future__ import annotations


class AccessError(Exception):
    """Base class: a refusal with a clear, user-facing message. Nothing was changed."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class InvalidDuration(AccessError):
    """Text that is not a duration in the grammar."""


class DurationOutOfRange(AccessError):
    """A duration outside the customer's min..max."""


class UnknownCustomer(AccessError):
    """No customer has that key or alias."""


class ReasonRequired(AccessError):
    """The customer requires a reason and none was given."""


class NotAllowed(AccessError):
    """The actor may not do this (not an approver, self-approval, someone else's grant)."""


class NotFound(AccessError):
    """No request or grant with that id (or not one the actor can see)."""


class AlreadyDecided(AccessError):
    """The request was already approved, denied, cancelled or timed out."""


class UnknownUser(AccessError):
    """A chat user with no matching directory account."""


class InvalidCommand(AccessError):
    """Text that does not follow the command grammar."""


class InvalidTransition(AccessError):
    """A state-machine transition that the table does not allow. A programming error upstream."""


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key at fault."""


class StaleState(Exception):
    """A compare-and-swap lost: someone else changed the row first. The use case re-reads and retries."""


class DirectoryError(Exception):
    """A directory (Entra) call failed after its own retries. ``transient`` says whether to try again later."""

    def __init__(self, message: str, *, transient: bool = True, request_id: str | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.request_id = request_id


class SessionRevocationError(Exception):
    """Revoking Zero Trust sessions failed after the adapter's own retries."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient
