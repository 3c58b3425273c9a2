"""``AuthService`` over a real SQLite auth store: logins, sessions and CSRF, tokens, device keys, lock-out, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factorytwin.auth import (
    AlreadyExists,
    AuditQuery,
    AuthService,
    Context,
    Forbidden,
    LockedOut,
    Outcome,
    PasswordProblem,
    PrincipalKind,
    Role,
    Unauthenticated,
)
from factorytwin.errors import NotFound
from tests.unit.auth.conftest import Clock

ADMIN = Context("root", PrincipalKind.CLI, "cli")
PASSWORD = "a long enough password"


async def actions(service: AuthService) -> list[tuple[str, str, Outcome]]:
    """The audit trail as (actor, action, outcome), oldest first."""
    return [(e.actor, e.action, e.outcome) for e in reversed(await service.audit(AuditQuery()))]


async def test_a_user_logs_in_and_the_session_carries_their_current_role(service: AuthService) -> None:
    await service.add_user("amir", Role.VIEWER, PASSWORD, ADMIN)
    login = await service.login("amir", PASSWORD, "10.0.0.7")
    assert login.user.role is Role.VIEWER
    principal = await service.session_principal(login.session_secret, None, write=False, source="10.0.0.7")
    assert (principal.name, principal.role, principal.kind) == ("amir", Role.VIEWER, PrincipalKind.SESSION)
    await service.set_role("amir", Role.OPERATOR, ADMIN)
    again = await service.session_principal(login.session_secret, None, write=False, source="10.0.0.7")
    assert again.role is Role.OPERATOR
    entries = await service.audit(AuditQuery(action="auth.login"))
    assert [(e.actor, e.source, e.outcome) for e in entries] == [("amir", "10.0.0.7", Outcome.SUCCESS)]


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_and_are_audited(service: AuthService) -> None:
    await service.add_user("amir", Role.VIEWER, PASSWORD, ADMIN)
    with pytest.raises(Unauthenticated) as wrong:
        await service.login("amir", "not the password", "10.0.0.7")
    with pytest.raises(Unauthenticated) as unknown:
        await service.login("nobody", PASSWORD, "10.0.0.7")
    assert str(wrong.value) == str(unknown.value) == "wrong user name or password"
    failures = await service.audit(AuditQuery(action="auth.login", outcome=Outcome.FAILURE))
    assert [e.actor for e in failures] == ["nobody", "amir"]


async def test_writes_over_a_session_need_its_csrf_token(service: AuthService) -> None:
    await service.add_user("amir", Role.OPERATOR, PASSWORD, ADMIN)
    login = await service.login("amir", PASSWORD, "h")
    other = await service.login("amir", PASSWORD, "h")
    with pytest.raises(Forbidden, match="CSRF"):
        await service.session_principal(login.session_secret, None, write=True, source="h")
    with pytest.raises(Forbidden, match="CSRF"):  # another session's token does not do
        await service.session_principal(login.session_secret, other.csrf_token, write=True, source="h")
    ok = await service.session_principal(login.session_secret, login.csrf_token, write=True, source="h")
    assert ok.name == "amir"
    assert ("amir", "auth.csrf", Outcome.DENIED) in await actions(service)


async def test_a_session_ends_at_logout_at_expiry_and_with_its_user(service: AuthService, clock: Clock) -> None:
    await service.add_user("amir", Role.VIEWER, PASSWORD, ADMIN)
    first, second, third = [await service.login("amir", PASSWORD, "h") for _ in range(3)]
    await service.logout(first.session_secret, "h")
    with pytest.raises(Unauthenticated):
        await service.session_principal(first.session_secret, None, write=False, source="h")
    clock.advance(service.policy.session_ttl.total_seconds())
    with pytest.raises(Unauthenticated):
        await service.session_principal(second.session_secret, None, write=False, source="h")
    clock.advance(-60)
    await service.remove_user("amir", ADMIN)
    with pytest.raises(Unauthenticated):
        await service.session_principal(third.session_secret, None, write=False, source="h")
    with pytest.raises(Unauthenticated):  # a forged cookie
        await service.session_principal("fts_forged", None, write=False, source="h")


async def test_repeated_failures_lock_the_user_out_even_with_the_right_password(
    service: AuthService, clock: Clock
) -> None:
    await service.add_user("amir", Role.VIEWER, PASSWORD, ADMIN)
    for _ in range(service.policy.per_user.max_failures):
        with pytest.raises(Unauthenticated):
            await service.login("amir", "wrong password!", "10.0.0.1")
    with pytest.raises(LockedOut) as locked:
        await service.login("amir", PASSWORD, "10.0.0.2")
    assert locked.value.retry_after_s == service.policy.per_user.lockout_s
    assert ("amir", "auth.login", Outcome.DENIED) in await actions(service)
    clock.advance(service.policy.per_user.lockout_s)
    assert (await service.login("amir", PASSWORD, "10.0.0.2")).user.username == "amir"


async def test_many_bad_credentials_from_one_address_lock_that_address_out(service: AuthService) -> None:
    await service.add_user("amir", Role.VIEWER, PASSWORD, ADMIN)
    for i in range(service.policy.per_source.max_failures):
        with pytest.raises(Unauthenticated):
            await service.bearer_principal(f"ftt_guess{i}", "10.6.6.6")
    with pytest.raises(LockedOut):
        await service.bearer_principal("ftt_another", "10.6.6.6")
    with pytest.raises(LockedOut):
        await service.login("amir", PASSWORD, "10.6.6.6")
    assert (await service.login("amir", PASSWORD, "10.0.0.1")).user.username == "amir"
    # A valid token still works from the locked address: nothing to guess, and no shutting out a whole NAT.
    secret, _ = await service.create_token("ci", Role.VIEWER, ADMIN)
    assert (await service.bearer_principal(secret, "10.6.6.6")).name == "ci"


async def test_tokens_carry_their_role_until_they_expire_or_are_revoked(service: AuthService, clock: Clock) -> None:
    secret, token = await service.create_token("ci", Role.ENGINEER, ADMIN, expires_at=clock.now() + timedelta(days=1))
    assert secret.startswith("ftt_")
    assert token.created_by == "root"
    principal = await service.bearer_principal(secret, "h")
    assert (principal.kind, principal.name, principal.role) == (PrincipalKind.TOKEN, "ci", Role.ENGINEER)
    [listed] = await service.tokens()
    assert listed.last_used_at == clock.now()
    with pytest.raises(AlreadyExists):
        await service.create_token("ci", Role.VIEWER, ADMIN)
    clock.advance(86400)
    with pytest.raises(Unauthenticated, match="invalid, expired or revoked credential"):
        await service.bearer_principal(secret, "h")
    other, _ = await service.create_token("ci2", Role.VIEWER, ADMIN)
    await service.revoke_token("ci2", ADMIN)
    with pytest.raises(Unauthenticated, match="invalid, expired or revoked credential"):
        await service.bearer_principal(other, "h")
    with pytest.raises(NotFound):
        await service.revoke_token("ci2", ADMIN)
    with pytest.raises(ValueError, match="future"):
        await service.create_token("old", Role.VIEWER, ADMIN, expires_at=clock.now())
    trail = await actions(service)
    assert ("ci", "auth.token", Outcome.FAILURE) in trail
    assert ("root", "tokens.revoke", Outcome.SUCCESS) in trail


async def test_a_rotated_device_key_works_through_the_grace_period_then_only_the_new_one(
    service: AuthService, clock: Clock
) -> None:
    old, _ = await service.issue_device_key("mill-01", ADMIN)
    device = await service.bearer_principal(old, "plc")
    assert device.machine_ids == frozenset({"mill-01"})
    assert device.role is None
    new, key = await service.issue_device_key("mill-01", ADMIN)
    assert key.machine_id == "mill-01"
    clock.advance(service.policy.device_key_grace.total_seconds() - 1)
    assert (await service.device_principal(old, "plc")).name == "device:mill-01"
    assert (await service.device_principal(new, "plc")).name == "device:mill-01"
    clock.advance(1)
    with pytest.raises(Unauthenticated):
        await service.device_principal(old, "plc")
    assert (await service.device_principal(new, "plc")).name == "device:mill-01"
    assert await service.revoke_device_keys("mill-01", ADMIN) == 2
    with pytest.raises(Unauthenticated):
        await service.device_principal(new, "plc")


async def test_user_management_checks_the_policy_and_names(service: AuthService) -> None:
    with pytest.raises(PasswordProblem):
        await service.add_user("amir", Role.VIEWER, "short", ADMIN)
    await service.add_user("amir", Role.VIEWER, PASSWORD, ADMIN)
    with pytest.raises(AlreadyExists):
        await service.add_user("amir", Role.ADMIN, PASSWORD, ADMIN)
    before = await service.login("amir", PASSWORD, "h")
    await service.set_password("amir", "another long password", ADMIN)
    with pytest.raises(Unauthenticated):  # the old password's session ended with it
        await service.session_principal(before.session_secret, None, write=False, source="h")
    with pytest.raises(Unauthenticated):
        await service.login("amir", PASSWORD, "h")
    assert (await service.login("amir", "another long password", "h")).user.username == "amir"
    with pytest.raises(NotFound):
        await service.set_password("nobody", "another long password", ADMIN)
    with pytest.raises(NotFound):
        await service.remove_user("nobody", ADMIN)
    assert [u.username for u in await service.users()] == ["amir"]


async def test_an_unknown_bearer_kind_is_refused_and_audited(service: AuthService) -> None:
    with pytest.raises(Unauthenticated):
        await service.bearer_principal("eyJhbGciOi.not-a-factorytwin-token", "h")
    assert await actions(service) == [("(bearer)", "auth.bearer", Outcome.FAILURE)]


async def test_a_login_link_opens_one_session_once_within_its_lifetime(service: AuthService, clock: Clock) -> None:
    await service.add_user("ada", Role.ADMIN, PASSWORD, ADMIN)
    link = await service.create_login_link("ada", ADMIN)
    assert link.startswith("ftl_")
    login = await service.redeem_login_link(link, "127.0.0.1")
    assert login.user.username == "ada"
    assert (await service.session_principal(login.session_secret, None, False, "h")).role is Role.ADMIN
    with pytest.raises(Unauthenticated):
        await service.redeem_login_link(link, "127.0.0.1")
    late = await service.create_login_link("ada", ADMIN, ttl=timedelta(minutes=1))
    clock.advance(60)
    with pytest.raises(Unauthenticated):
        await service.redeem_login_link(late, "127.0.0.1")
    with pytest.raises(NotFound):
        await service.create_login_link("nobody", ADMIN)
    trail = await actions(service)
    assert ("ada", "auth.link", Outcome.SUCCESS) in trail
    assert ("(login link)", "auth.link", Outcome.FAILURE) in trail
