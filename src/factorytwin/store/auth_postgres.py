"""The PostgreSQL ``AuthStore``: the auth tables in the store's database, over its connection pool."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from factorytwin.auth.errors import AlreadyExists
from factorytwin.auth.models import (
    ApiToken,
    ApiTokenRecord,
    AuditEntry,
    AuditQuery,
    DeviceKey,
    DeviceKeyRecord,
    LoginLinkRecord,
    SessionRecord,
    User,
    UserRecord,
)
from factorytwin.auth.roles import Role
from factorytwin.store._rows import to_ms
from factorytwin.store.auth_rows import (
    AUDIT_COLS,
    DEVICE_COLS,
    SESSION_COLS,
    TOKEN_COLS,
    USER_COLS,
    audit_from_row,
    audit_row,
    audit_select,
    device_from_row,
    device_row,
    session_from_row,
    session_row,
    token_from_row,
    token_row,
    user_from_row,
    user_row,
)
from factorytwin.store.postgres import PostgresStore


def _marks(cols: str) -> str:
    return ", ".join(f"${i}" for i in range(1, len(cols.split(",")) + 1))


def _count(status: str) -> int:
    """Rows affected, from a command status such as ``UPDATE 3``."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresAuthStore:
    """Users, credentials and the audit trail of a ``PostgresStore``'s database (migrated by the store)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def _insert(self, sql: str, args: tuple[object, ...], what: str) -> None:
        try:
            await self.store.pool.execute(sql, *args)
        except asyncpg.UniqueViolationError:
            raise AlreadyExists(what) from None

    # --- users ----------------------------------------------------------------------------------------------
    async def add_user(self, user: UserRecord) -> None:
        """Insert a user; ``AlreadyExists`` when the name is taken."""
        sql = f"INSERT INTO users ({USER_COLS}) VALUES ({_marks(USER_COLS)})"
        await self._insert(sql, user_row(user), f"user {user.username!r} already exists")

    async def user(self, username: str) -> UserRecord | None:
        """The user named ``username``, or None."""
        row = await self.store.pool.fetchrow(f"SELECT {USER_COLS} FROM users WHERE username = $1", username)
        return None if row is None else user_from_row(row)

    async def users(self) -> list[User]:
        """Every user, by name."""
        rows = await self.store.pool.fetch(f"SELECT {USER_COLS} FROM users ORDER BY username")
        return [user_from_row(r).public() for r in rows]

    async def update_user(self, username: str, at: datetime, password_hash: str | None, role: Role | None) -> bool:
        """Set a new password hash and/or role; False when there is no such user."""
        sql = (
            "UPDATE users SET password_hash = coalesce($1, password_hash), role = coalesce($2, role), "
            "updated_at = $3 WHERE username = $4"
        )
        status = await self.store.pool.execute(sql, password_hash, role and role.value, to_ms(at), username)
        return _count(status) > 0

    async def remove_user(self, username: str) -> bool:
        """Delete a user and their sessions; False when there is no such user."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM sessions WHERE username = $1", username)
            status = await conn.execute("DELETE FROM users WHERE username = $1", username)
        return _count(status) > 0

    # --- tokens ---------------------------------------------------------------------------------------------
    async def add_token(self, token: ApiTokenRecord) -> None:
        """Insert a token; ``AlreadyExists`` when the name is taken."""
        sql = f"INSERT INTO api_tokens ({TOKEN_COLS}) VALUES ({_marks(TOKEN_COLS)})"
        await self._insert(sql, token_row(token), f"token {token.name!r} already exists")

    async def token_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """The token whose secret hashes to ``token_hash``, or None."""
        row = await self.store.pool.fetchrow(f"SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1", token_hash)
        return None if row is None else token_from_row(row)

    async def tokens(self) -> list[ApiToken]:
        """Every token, by name."""
        rows = await self.store.pool.fetch(f"SELECT {TOKEN_COLS} FROM api_tokens ORDER BY name")
        return [token_from_row(r).public() for r in rows]

    async def revoke_token(self, name: str, at: datetime) -> bool:
        """Mark a token revoked; False when there is no such unrevoked token."""
        sql = "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL"
        return _count(await self.store.pool.execute(sql, to_ms(at), name)) > 0

    async def touch_token(self, name: str, at: datetime) -> None:
        """Record that a token was used."""
        await self.store.pool.execute("UPDATE api_tokens SET last_used_at = $1 WHERE name = $2", to_ms(at), name)

    # --- sessions -------------------------------------------------------------------------------------------
    async def add_session(self, session: SessionRecord) -> None:
        """Insert a dashboard session."""
        sql = f"INSERT INTO sessions ({SESSION_COLS}) VALUES ({_marks(SESSION_COLS)})"
        await self.store.pool.execute(sql, *session_row(session))

    async def session_by_hash(self, session_hash: str) -> SessionRecord | None:
        """The session whose cookie hashes to ``session_hash``, or None."""
        sql = f"SELECT {SESSION_COLS} FROM sessions WHERE session_hash = $1"
        row = await self.store.pool.fetchrow(sql, session_hash)
        return None if row is None else session_from_row(row)

    async def remove_session(self, session_hash: str) -> None:
        """Delete one session."""
        await self.store.pool.execute("DELETE FROM sessions WHERE session_hash = $1", session_hash)

    async def remove_sessions(self, username: str) -> int:
        """Delete every session of a user; return how many."""
        return _count(await self.store.pool.execute("DELETE FROM sessions WHERE username = $1", username))

    async def remove_expired_sessions(self, now: datetime) -> int:
        """Delete sessions past their expiry; return how many."""
        return _count(await self.store.pool.execute("DELETE FROM sessions WHERE expires_at <= $1", to_ms(now)))

    async def add_login_link(self, link: LoginLinkRecord) -> None:
        """Insert a one-time login link."""
        sql = "INSERT INTO login_links (link_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4)"
        await self.store.pool.execute(
            sql, link.link_hash, link.username, to_ms(link.created_at), to_ms(link.expires_at)
        )

    async def take_login_link(self, link_hash: str, now: datetime) -> str | None:
        """Delete the link and return its user name when it was unexpired; once only (one statement)."""
        sql = "DELETE FROM login_links WHERE link_hash = $1 RETURNING username, expires_at"
        row = await self.store.pool.fetchrow(sql, link_hash)
        return str(row[0]) if row is not None and row[1] > to_ms(now) else None

    # --- device keys ----------------------------------------------------------------------------------------
    async def add_device_key(self, key: DeviceKeyRecord, grace_until: datetime | None) -> None:
        """Insert a machine's new key; with ``grace_until`` its other valid keys expire then."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            if grace_until is not None:
                await conn.execute(
                    "UPDATE device_keys SET expires_at = $1 WHERE machine_id = $2 AND revoked_at IS NULL "
                    "AND (expires_at IS NULL OR expires_at > $1)",
                    to_ms(grace_until),
                    key.machine_id,
                )
            await conn.execute(
                f"INSERT INTO device_keys ({DEVICE_COLS}) VALUES ({_marks(DEVICE_COLS)})", *device_row(key)
            )

    async def device_key_by_hash(self, key_hash: str) -> DeviceKeyRecord | None:
        """The device key whose secret hashes to ``key_hash``, or None."""
        row = await self.store.pool.fetchrow(f"SELECT {DEVICE_COLS} FROM device_keys WHERE key_hash = $1", key_hash)
        return None if row is None else device_from_row(row)

    async def device_keys(self, machine_id: str | None = None) -> list[DeviceKey]:
        """Device keys (of one machine, or all), by machine then age."""
        if machine_id is None:
            rows = await self.store.pool.fetch(f"SELECT {DEVICE_COLS} FROM device_keys ORDER BY machine_id, created_at")
        else:
            sql = f"SELECT {DEVICE_COLS} FROM device_keys WHERE machine_id = $1 ORDER BY machine_id, created_at"
            rows = await self.store.pool.fetch(sql, machine_id)
        return [device_from_row(r).public() for r in rows]

    async def revoke_device_keys(self, machine_id: str, at: datetime) -> int:
        """Revoke every unrevoked key of a machine; return how many."""
        sql = "UPDATE device_keys SET revoked_at = $1 WHERE machine_id = $2 AND revoked_at IS NULL"
        return _count(await self.store.pool.execute(sql, to_ms(at), machine_id))

    # --- audit ----------------------------------------------------------------------------------------------
    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry to the audit trail; returns it with its id."""
        sql = f"INSERT INTO audit ({AUDIT_COLS}) VALUES ({_marks(AUDIT_COLS)}) RETURNING id"
        new_id = await self.store.pool.fetchval(sql, *audit_row(entry))
        return entry.model_copy(update={"id": int(new_id)})

    async def audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Audit entries matching ``query``, newest first."""
        sql, args = audit_select(query, lambda n: f"${n}")
        return [audit_from_row(r) for r in await self.store.pool.fetch(sql, *args)]
