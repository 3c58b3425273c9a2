"""What both auth backends share: column lists, rows to models and back, the audit filter.

Placeholders differ (``?`` in SQLite, ``$n`` in PostgreSQL), so SQL with parameters is built by a function taking
a placeholder maker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from factorytwin.auth.models import (
    ApiTokenRecord,
    AuditEntry,
    AuditQuery,
    DeviceKeyRecord,
    Outcome,
    PrincipalKind,
    SessionRecord,
    UserRecord,
)
from factorytwin.auth.roles import Role
from factorytwin.store._rows import from_ms, opt_dt, opt_ms, to_ms

USER_COLS = "username, role, password_hash, created_at, updated_at"
TOKEN_COLS = "name, role, token_hash, created_by, created_at, expires_at, revoked_at, last_used_at"
SESSION_COLS = "session_hash, csrf_hash, username, created_at, expires_at, source"
DEVICE_COLS = "key_hash, key_id, machine_id, created_at, expires_at, revoked_at"
AUDIT_COLS = "ts, actor, actor_kind, source, action, target, outcome, detail"

Placeholder = Callable[[int], str]
"""The SQL placeholder of the n-th (1-based) parameter."""


def user_row(u: UserRecord) -> tuple[Any, ...]:
    """The column values of a user, in ``USER_COLS`` order."""
    return (u.username, u.role.value, u.password_hash, to_ms(u.created_at), to_ms(u.updated_at))


def user_from_row(r: Any) -> UserRecord:
    """A user from a row of ``USER_COLS``."""
    return UserRecord(
        username=r[0], role=Role(r[1]), password_hash=r[2], created_at=from_ms(r[3]), updated_at=from_ms(r[4])
    )


def token_row(t: ApiTokenRecord) -> tuple[Any, ...]:
    """The column values of a token, in ``TOKEN_COLS`` order."""
    return (
        t.name,
        t.role.value,
        t.token_hash,
        t.created_by,
        to_ms(t.created_at),
        opt_ms(t.expires_at),
        opt_ms(t.revoked_at),
        opt_ms(t.last_used_at),
    )


def token_from_row(r: Any) -> ApiTokenRecord:
    """A token from a row of ``TOKEN_COLS``."""
    return ApiTokenRecord(
        name=r[0],
        role=Role(r[1]),
        token_hash=r[2],
        created_by=r[3],
        created_at=from_ms(r[4]),
        expires_at=opt_dt(r[5]),
        revoked_at=opt_dt(r[6]),
        last_used_at=opt_dt(r[7]),
    )


def session_row(s: SessionRecord) -> tuple[Any, ...]:
    """The column values of a session, in ``SESSION_COLS`` order."""
    return (s.session_hash, s.csrf_hash, s.username, to_ms(s.created_at), to_ms(s.expires_at), s.source)


def session_from_row(r: Any) -> SessionRecord:
    """A session from a row of ``SESSION_COLS``."""
    return SessionRecord(
        session_hash=r[0],
        csrf_hash=r[1],
        username=r[2],
        created_at=from_ms(r[3]),
        expires_at=from_ms(r[4]),
        source=r[5],
    )


def device_row(k: DeviceKeyRecord) -> tuple[Any, ...]:
    """The column values of a device key, in ``DEVICE_COLS`` order."""
    return (k.key_hash, k.key_id, k.machine_id, to_ms(k.created_at), opt_ms(k.expires_at), opt_ms(k.revoked_at))


def device_from_row(r: Any) -> DeviceKeyRecord:
    """A device key from a row of ``DEVICE_COLS``."""
    return DeviceKeyRecord(
        key_hash=r[0],
        key_id=r[1],
        machine_id=r[2],
        created_at=from_ms(r[3]),
        expires_at=opt_dt(r[4]),
        revoked_at=opt_dt(r[5]),
    )


def audit_row(e: AuditEntry) -> tuple[Any, ...]:
    """The column values of an audit entry, in ``AUDIT_COLS`` order."""
    kind = None if e.actor_kind is None else e.actor_kind.value
    return (to_ms(e.ts), e.actor, kind, e.source, e.action, e.target, e.outcome.value, e.detail)


def audit_from_row(r: Any) -> AuditEntry:
    """An audit entry from a row of ``id, AUDIT_COLS``."""
    return AuditEntry(
        id=r[0],
        ts=from_ms(r[1]),
        actor=r[2],
        actor_kind=None if r[3] is None else PrincipalKind(r[3]),
        source=r[4],
        action=r[5],
        target=r[6],
        outcome=Outcome(r[7]),
        detail=r[8],
    )


def audit_select(query: AuditQuery, ph: Placeholder) -> tuple[str, list[Any]]:
    """``SELECT id, AUDIT_COLS FROM audit`` filtered by ``query``, newest first, and its parameters."""
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return ph(len(args))

    if query.actor is not None:
        where.append(f"actor = {arg(query.actor)}")
    if query.action is not None:
        if query.action.endswith("."):  # a prefix: substr works alike on both backends, no LIKE escaping
            where.append(f"substr(action, 1, {len(query.action)}) = {arg(query.action)}")
        else:
            where.append(f"action = {arg(query.action)}")
    if query.outcome is not None:
        where.append(f"outcome = {arg(query.outcome.value)}")
    if query.start is not None:
        where.append(f"ts >= {arg(to_ms(query.start))}")
    if query.end is not None:
        where.append(f"ts < {arg(to_ms(query.end))}")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT id, {AUDIT_COLS} FROM audit{clause} ORDER BY ts DESC, id DESC LIMIT {arg(query.limit)}"
    return sql, args
