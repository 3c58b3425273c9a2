"""Hostile text in logins and audit filters is refused or stored, never a crash, on SQLite and PostgreSQL.

PostgreSQL text cannot hold NUL and neither backend takes lone surrogates; a login name is not looked up unless it
could be a user name, and what the audit trail records is made storable first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError

from factorytwin.auth import AuditQuery, AuthService, Context, LockedOut, PrincipalKind, Role, Unauthenticated
from factorytwin.store import Store, open_store
from factorytwin.store.auth import auth_store_for
from tests.unit.auth.conftest import Clock, cheap_passwords

pytestmark = pytest.mark.integration
HOSTILE = ["nul\x00name", "\ud800lone", "ctl\x1b[31m", "é" * 300, "", " ", "'; DROP TABLE users; --", "=1+1"]


@pytest.fixture
async def service(backend_url: str) -> AsyncIterator[AuthService]:
    """An auth service over the fresh database."""
    store: Store = open_store(backend_url)
    await store.open()
    clock = Clock()
    try:
        yield AuthService(
            auth_store_for(store), passwords=cheap_passwords(), now=clock.now, limiter_clock=clock.monotonic
        )
    finally:
        await store.close()


@pytest.mark.parametrize("name", HOSTILE)
async def test_a_hostile_login_name_is_a_plain_failure_and_audited(service: AuthService, name: str) -> None:
    await service.add_user("ada", Role.ADMIN, "a long enough password", Context("t", PrincipalKind.CLI, "cli"))
    with pytest.raises((Unauthenticated, LockedOut)):
        await service.login(name, "a long enough password\x00", f"src\x00{name}")
    entries = await service.audit(AuditQuery(action="auth.login"))
    assert len(entries) == 1
    assert "\x00" not in entries[0].actor + entries[0].source


@pytest.mark.parametrize("bad", ["a\x00b", "\udfff"])
def test_an_audit_filter_that_cannot_be_stored_is_a_validation_error(bad: str) -> None:
    with pytest.raises(ValidationError, match="NUL or lone surrogate"):
        AuditQuery(actor=bad)
    with pytest.raises(ValidationError):
        AuditQuery(action=bad)
