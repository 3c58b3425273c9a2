"""The one suite every ``AuthStore`` passes: users, tokens, sessions, device keys, audit (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factorytwin.auth import AlreadyExists, AuditEntry, AuditQuery, Outcome, PrincipalKind, Role
from factorytwin.auth.models import ApiTokenRecord, DeviceKeyRecord, LoginLinkRecord, SessionRecord, UserRecord
from factorytwin.auth.storage import AuthStore
from factorytwin.store import Store
from factorytwin.store.auth import auth_store_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def auth(store: Store) -> AuthStore:
    """The auth store beside the open test store."""
    return auth_store_for(store)


def user(name: str, role: Role = Role.VIEWER) -> UserRecord:
    """A user record with a made-up hash."""
    return UserRecord(username=name, role=role, created_at=T0, updated_at=T0, password_hash=f"$argon2id$fake-{name}")


async def test_users_are_added_listed_updated_and_removed(auth: AuthStore) -> None:
    await auth.add_user(user("zoe", Role.ADMIN))
    await auth.add_user(user("amir"))
    with pytest.raises(AlreadyExists):
        await auth.add_user(user("amir", Role.ADMIN))
    assert [(u.username, u.role) for u in await auth.users()] == [("amir", Role.VIEWER), ("zoe", Role.ADMIN)]
    assert await auth.user("amir") == user("amir")
    assert await auth.user("AMIR") is None
    later = T0 + timedelta(hours=1)
    assert await auth.update_user("amir", later, "$argon2id$new", None)
    assert await auth.update_user("amir", later, None, Role.OPERATOR)
    got = await auth.user("amir")
    assert got is not None
    assert (got.password_hash, got.role, got.updated_at, got.created_at) == ("$argon2id$new", Role.OPERATOR, later, T0)
    assert not await auth.update_user("nobody", later, "x", None)
    assert await auth.remove_user("amir")
    assert not await auth.remove_user("amir")
    assert [u.username for u in await auth.users()] == ["zoe"]


async def test_tokens_are_found_by_hash_revoked_once_and_touched(auth: AuthStore) -> None:
    token = ApiTokenRecord(
        name="ci",
        role=Role.OPERATOR,
        created_by="zoe",
        created_at=T0,
        expires_at=T0 + timedelta(days=1),
        token_hash="h1",
    )
    await auth.add_token(token)
    with pytest.raises(AlreadyExists):
        await auth.add_token(token.model_copy(update={"token_hash": "h2"}))
    assert await auth.token_by_hash("h1") == token
    assert await auth.token_by_hash("h2") is None
    await auth.touch_token("ci", T0 + timedelta(minutes=5))
    assert await auth.revoke_token("ci", T0 + timedelta(hours=1))
    assert not await auth.revoke_token("ci", T0 + timedelta(hours=2))
    assert not await auth.revoke_token("nope", T0)
    [listed] = await auth.tokens()
    assert listed.revoked_at == T0 + timedelta(hours=1)
    assert listed.last_used_at == T0 + timedelta(minutes=5)
    assert not listed.valid_at(T0 + timedelta(hours=1))
    assert "token_hash" not in listed.model_dump()


async def test_sessions_end_at_logout_expiry_or_when_their_user_is_removed(auth: AuthStore) -> None:
    await auth.add_user(user("amir"))

    def session(h: str, hours: int) -> SessionRecord:
        return SessionRecord(
            session_hash=h, csrf_hash="c" + h, username="amir", created_at=T0, expires_at=T0 + timedelta(hours=hours)
        )

    for h, hours in [("s1", 1), ("s2", 2), ("s3", 3)]:
        await auth.add_session(session(h, hours))
    assert await auth.session_by_hash("s1") == session("s1", 1)
    await auth.remove_session("s1")
    assert await auth.session_by_hash("s1") is None
    assert await auth.remove_expired_sessions(T0 + timedelta(hours=2)) == 1
    assert await auth.session_by_hash("s2") is None
    assert await auth.session_by_hash("s3") is not None
    await auth.add_session(session("s4", 4))
    assert await auth.remove_sessions("amir") == 2
    assert await auth.session_by_hash("s3") is None
    await auth.add_session(session("s5", 5))
    await auth.remove_user("amir")
    assert await auth.session_by_hash("s5") is None


async def test_a_rotated_device_key_stays_valid_for_the_grace_period_only(auth: AuthStore) -> None:
    def key(h: str, machine: str, at: datetime) -> DeviceKeyRecord:
        return DeviceKeyRecord(key_id=h, machine_id=machine, created_at=at, key_hash=h)

    await auth.add_device_key(key("k1", "mill-01", T0), grace_until=None)
    await auth.add_device_key(key("p1", "pump-01", T0), grace_until=None)
    grace = T0 + timedelta(hours=2)
    await auth.add_device_key(key("k2", "mill-01", T0 + timedelta(hours=1)), grace_until=grace)
    old, new = await auth.device_key_by_hash("k1"), await auth.device_key_by_hash("k2")
    assert old is not None
    assert new is not None
    assert old.expires_at == grace
    assert new.expires_at is None
    assert old.valid_at(grace - timedelta(seconds=1))
    assert not old.valid_at(grace)
    pump = await auth.device_key_by_hash("p1")
    assert pump is not None
    assert pump.expires_at is None
    # A second rotation inside the grace period does not extend the first key's life.
    await auth.add_device_key(key("k3", "mill-01", T0 + timedelta(hours=1)), grace_until=T0 + timedelta(hours=3))
    again = await auth.device_key_by_hash("k1")
    assert again is not None
    assert again.expires_at == grace
    assert [k.key_id for k in await auth.device_keys("mill-01")] == ["k1", "k2", "k3"]
    assert len(await auth.device_keys()) == 4
    assert await auth.revoke_device_keys("mill-01", T0 + timedelta(hours=1)) == 3
    assert await auth.revoke_device_keys("mill-01", T0 + timedelta(hours=1)) == 0
    assert all(k.revoked_at is not None for k in await auth.device_keys("mill-01"))


async def test_the_audit_trail_filters_by_actor_action_prefix_outcome_and_time(auth: AuthStore) -> None:
    def entry(minute: int, actor: str, action: str, outcome: Outcome) -> AuditEntry:
        return AuditEntry(
            ts=T0 + timedelta(minutes=minute),
            actor=actor,
            actor_kind=PrincipalKind.SESSION,
            source="10.0.0.7",
            action=action,
            target="mill-01",
            outcome=outcome,
            detail="d",
        )

    stored = [
        await auth.add_audit(entry(0, "amir", "auth.login", Outcome.FAILURE)),
        await auth.add_audit(entry(1, "amir", "auth.login", Outcome.SUCCESS)),
        await auth.add_audit(entry(2, "amir", "machines.command", Outcome.SUCCESS)),
        await auth.add_audit(entry(3, "zoe", "auth.logout", Outcome.SUCCESS)),
        await auth.add_audit(entry(3, "zoe", "auth.login_x", Outcome.SUCCESS)),
    ]
    assert len({e.id for e in stored}) == 5
    assert all(e.id is not None for e in stored)

    async def ids(**filters: object) -> list[int | None]:
        return [e.id for e in await auth.audit(AuditQuery.model_validate(filters))]

    assert await ids() == [e.id for e in reversed(stored)]  # newest first, ties by id
    assert await auth.audit(AuditQuery(limit=1)) == [stored[4]]
    assert await ids(actor="amir") == [stored[2].id, stored[1].id, stored[0].id]
    assert await ids(action="auth.login") == [stored[1].id, stored[0].id]
    assert await ids(action="auth.") == [stored[4].id, stored[3].id, stored[1].id, stored[0].id]
    assert await ids(outcome="failure") == [stored[0].id]
    assert await ids(start=T0 + timedelta(minutes=1), end=T0 + timedelta(minutes=3)) == [stored[2].id, stored[1].id]


async def test_a_login_link_is_taken_once_and_only_before_it_expires(auth: AuthStore) -> None:
    for h in ("l1", "l2"):
        await auth.add_login_link(
            LoginLinkRecord(link_hash=h, username="ada", created_at=T0, expires_at=T0 + timedelta(minutes=10))
        )
    assert await auth.take_login_link("l1", T0 + timedelta(minutes=9)) == "ada"
    assert await auth.take_login_link("l1", T0 + timedelta(minutes=9)) is None
    assert await auth.take_login_link("l2", T0 + timedelta(minutes=10)) is None  # expired
    assert await auth.take_login_link("l2", T0) is None  # and gone
    assert await auth.take_login_link("nope", T0) is None
