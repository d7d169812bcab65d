"""Every (state, command) pair of both transition tables: the allowed ones move, the rest raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.errors import InvalidTransition
from workflows.model import (
    AccessRequest,
    Grant,
    GrantCommand,
    GrantState,
    Person,
    RequestCommand,
    RequestKind,
    RequestState,
    next_grant_state,
    next_request_state,
)

EXPECTED_REQUEST = {
    (RequestState.PENDING, RequestCommand.APPROVE): RequestState.APPROVED,
    (RequestState.PENDING, RequestCommand.DENY): RequestState.DENIED,
    (RequestState.PENDING, RequestCommand.CANCEL): RequestState.CANCELLED,
    (RequestState.PENDING, RequestCommand.TIME_OUT): RequestState.TIMED_OUT,
}

EXPECTED_GRANT = {
    (GrantState.GRANTING, GrantCommand.ACTIVATE): GrantState.ACTIVE,
    (GrantState.GRANTING, GrantCommand.END): GrantState.REVOKING,
    (GrantState.GRANTING, GrantCommand.FAIL): GrantState.FAILED,
    (GrantState.ACTIVE, GrantCommand.END): GrantState.REVOKING,
    (GrantState.REVOKING, GrantCommand.COMPLETE_EXPIRY): GrantState.EXPIRED,
    (GrantState.REVOKING, GrantCommand.COMPLETE_REVOCATION): GrantState.REVOKED,
    (GrantState.REVOKING, GrantCommand.FAIL): GrantState.FAILED,
    (GrantState.FAILED, GrantCommand.ACTIVATE): GrantState.ACTIVE,
    (GrantState.FAILED, GrantCommand.END): GrantState.REVOKING,
    (GrantState.FAILED, GrantCommand.COMPLETE_EXPIRY): GrantState.EXPIRED,
    (GrantState.FAILED, GrantCommand.COMPLETE_REVOCATION): GrantState.REVOKED,
}

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVE = Person("id-eve", "eve@x.example", "eve@x.example")


@pytest.mark.parametrize("state", list(RequestState))
@pytest.mark.parametrize("command", list(RequestCommand))
def test_request_pair(state: RequestState, command: RequestCommand) -> None:
    request = AccessRequest(
        None, RequestKind.ACCESS, "c", EVE, timedelta(hours=1), "", state, T0, T0 + timedelta(hours=2)
    )
    expected = EXPECTED_REQUEST.get((state, command))
    if expected is None:
        with pytest.raises(InvalidTransition):
            request.transition(command)
        assert request.state is state  # a refused transition changes nothing
    else:
        assert request.transition(command) is state
        assert request.state is expected
        assert next_request_state(state, command) is expected


@pytest.mark.parametrize("state", list(GrantState))
@pytest.mark.parametrize("command", list(GrantCommand))
def test_grant_pair(state: GrantState, command: GrantCommand) -> None:
    grant = Grant(1, "c", "g", EVE, timedelta(hours=1), state, T0)
    expected = EXPECTED_GRANT.get((state, command))
    if expected is None:
        with pytest.raises(InvalidTransition):
            grant.transition(command)
        assert grant.state is state
    else:
        assert grant.transition(command) is state
        assert grant.state is expected
        assert next_grant_state(state, command) is expected


def test_terminal_states_have_no_way_out() -> None:
    for state in (GrantState.EXPIRED, GrantState.REVOKED):
        assert not [c for c in GrantCommand if (state, c) in EXPECTED_GRANT]
    for rstate in RequestState:
        if rstate is not RequestState.PENDING:
            assert not [c for c in RequestCommand if (rstate, c) in EXPECTED_REQUEST]


def test_due_times_follow_the_state() -> None:
    grant = Grant(1, "c", "g", EVE, timedelta(hours=1), GrantState.GRANTING, T0, retry_at=T0)
    assert grant.next_due() == T0
    grant.state, grant.ends_at, grant.remind_at = GrantState.ACTIVE, T0 + timedelta(hours=1), T0 + timedelta(minutes=45)
    assert grant.next_due() == T0 + timedelta(minutes=45)
    grant.reminded = True
    assert grant.next_due() == T0 + timedelta(hours=1)
    grant.state = GrantState.EXPIRED
    assert grant.next_due() is None
