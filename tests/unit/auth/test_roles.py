"""Roles are ordered, and ``Principal.may`` is the one permission check."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from factorytwin.auth import REQUIRED_ROLE, Action, Principal, PrincipalKind, Role


def user(role: Role) -> Principal:
    """A logged-in user with ``role``."""
    return Principal(kind=PrincipalKind.SESSION, name="u", role=role)


def test_each_role_includes_the_roles_below_it_and_no_role_above() -> None:
    order = [Role.VIEWER, Role.OPERATOR, Role.ENGINEER, Role.ADMIN]
    for i, lower in enumerate(order):
        for j, higher in enumerate(order):
            assert higher.includes(lower) == (j >= i)


@pytest.mark.parametrize("action", list(Action))
def test_an_action_is_allowed_from_its_required_role_upwards_only(action: Action) -> None:
    required = REQUIRED_ROLE[action]
    for role in Role:
        assert user(role).may(action) == role.includes(required), (role, action)


def test_the_map_of_actions_is_complete_and_commands_need_an_operator() -> None:
    assert set(REQUIRED_ROLE) == set(Action)
    assert not user(Role.VIEWER).may(Action.COMMAND)
    assert user(Role.OPERATOR).may(Action.HANDLE_ALARM)
    assert not user(Role.OPERATOR).may(Action.CONFIGURE)
    assert not user(Role.ENGINEER).may(Action.ADMINISTER)


def test_a_device_may_only_ingest_for_its_own_machines() -> None:
    device = Principal(kind=PrincipalKind.DEVICE, name="device:mill-01", machine_ids=frozenset({"mill-01"}))
    assert device.may(Action.INGEST, "mill-01")
    assert not device.may(Action.INGEST, "mill-02")
    assert not device.may(Action.INGEST)
    assert not device.may(Action.READ)
    assert not device.has_role(Role.VIEWER)
    assert user(Role.OPERATOR).may(Action.INGEST, "any-machine")


def test_a_device_has_no_role_and_a_user_must_have_one() -> None:
    with pytest.raises(ValidationError):
        Principal(kind=PrincipalKind.DEVICE, name="d", role=Role.ADMIN)
    with pytest.raises(ValidationError):
        Principal(kind=PrincipalKind.TOKEN, name="t")
