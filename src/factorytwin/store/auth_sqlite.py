"""The SQLite ``AuthStore``: the auth tables in the store's own file, writes on its single writer thread.

Sharing the ``SQLiteStore``'s writer keeps every write of the file serialised on one connection (no
``database is locked`` between telemetry and logins); reads go to its reader pool.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

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
from factorytwin.store.sqlite import SQLiteStore


def _marks(cols: str) -> str:
    return ", ".join("?" for _ in cols.split(","))


class SQLiteAuthStore:
    """Users, credentials and the audit trail of a ``SQLiteStore``'s database (opened by the store)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    # --- plumbing -------------------------------------------------------------------------------------------
    async def _write(self, sql: str, args: tuple[object, ...] = ()) -> int:
        def run() -> int:
            return self.store._w().execute(sql, args).rowcount

        return await self.store._on_writer(run)

    async def _insert(self, sql: str, args: tuple[object, ...], what: str) -> None:
        try:
            await self._write(sql, args)
        except sqlite3.IntegrityError:
            raise AlreadyExists(what) from None

    async def _rows(self, sql: str, args: tuple[object, ...] | list[object] = ()) -> list[tuple[object, ...]]:
        def run() -> list[tuple[object, ...]]:
            return self.store._r().execute(sql, args).fetchall()

        return await self.store._on_reader(run)

    async def _transaction(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        def run() -> list[int]:
            conn = self.store._w()
            conn.execute("BEGIN IMMEDIATE")
            try:
                counts = [conn.execute(sql, args).rowcount for sql, args in statements]
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return counts

        return await self.store._on_writer(run)

    # --- users ----------------------------------------------------------------------------------------------
    async def add_user(self, user: UserRecord) -> None:
        """Insert a user; ``AlreadyExists`` when the name is taken."""
        sql = f"INSERT INTO users ({USER_COLS}) VALUES ({_marks(USER_COLS)})"
        await self._insert(sql, user_row(user), f"user {user.username!r} already exists")

    async def user(self, username: str) -> UserRecord | None:
        """The user named ``username``, or None."""
        rows = await self._rows(f"SELECT {USER_COLS} FROM users WHERE username = ?", (username,))
        return user_from_row(rows[0]) if rows else None

    async def users(self) -> list[User]:
        """Every user, by name."""
        rows = await self._rows(f"SELECT {USER_COLS} FROM users ORDER BY username")
        return [user_from_row(r).public() for r in rows]

    async def update_user(self, username: str, at: datetime, password_hash: str | None, role: Role | None) -> bool:
        """Set a new password hash and/or role; False when there is no such user."""
        sql = (
            "UPDATE users SET password_hash = coalesce(?, password_hash), role = coalesce(?, role), updated_at = ? "
            "WHERE username = ?"
        )
        return await self._write(sql, (password_hash, role and role.value, to_ms(at), username)) > 0

    async def remove_user(self, username: str) -> bool:
        """Delete a user and their sessions; False when there is no such user."""
        counts = await self._transaction(
            [
                ("DELETE FROM sessions WHERE username = ?", (username,)),
                ("DELETE FROM users WHERE username = ?", (username,)),
            ]
        )
        return counts[1] > 0

    # --- tokens ---------------------------------------------------------------------------------------------
    async def add_token(self, token: ApiTokenRecord) -> None:
        """Insert a token; ``AlreadyExists`` when the name is taken."""
        sql = f"INSERT INTO api_tokens ({TOKEN_COLS}) VALUES ({_marks(TOKEN_COLS)})"
        await self._insert(sql, token_row(token), f"token {token.name!r} already exists")

    async def token_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """The token whose secret hashes to ``token_hash``, or None."""
        rows = await self._rows(f"SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = ?", (token_hash,))
        return token_from_row(rows[0]) if rows else None

    async def tokens(self) -> list[ApiToken]:
        """Every token, by name."""
        rows = await self._rows(f"SELECT {TOKEN_COLS} FROM api_tokens ORDER BY name")
        return [token_from_row(r).public() for r in rows]

    async def revoke_token(self, name: str, at: datetime) -> bool:
        """Mark a token revoked; False when there is no such unrevoked token."""
        sql = "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL"
        return await self._write(sql, (to_ms(at), name)) > 0

    async def touch_token(self, name: str, at: datetime) -> None:
        """Record that a token was used."""
        await self._write("UPDATE api_tokens SET last_used_at = ? WHERE name = ?", (to_ms(at), name))

    # --- sessions -------------------------------------------------------------------------------------------
    async def add_session(self, session: SessionRecord) -> None:
        """Insert a dashboard session."""
        await self._write(
            f"INSERT INTO sessions ({SESSION_COLS}) VALUES ({_marks(SESSION_COLS)})", session_row(session)
        )

    async def session_by_hash(self, session_hash: str) -> SessionRecord | None:
        """The session whose cookie hashes to ``session_hash``, or None."""
        rows = await self._rows(f"SELECT {SESSION_COLS} FROM sessions WHERE session_hash = ?", (session_hash,))
        return session_from_row(rows[0]) if rows else None

    async def remove_session(self, session_hash: str) -> None:
        """Delete one session."""
        await self._write("DELETE FROM sessions WHERE session_hash = ?", (session_hash,))

    async def remove_sessions(self, username: str) -> int:
        """Delete every session of a user; return how many."""
        return await self._write("DELETE FROM sessions WHERE username = ?", (username,))

    async def remove_expired_sessions(self, now: datetime) -> int:
        """Delete sessions past their expiry; return how many."""
        return await self._write("DELETE FROM sessions WHERE expires_at <= ?", (to_ms(now),))

    async def add_login_link(self, link: LoginLinkRecord) -> None:
        """Insert a one-time login link."""
        sql = "INSERT INTO login_links (link_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)"
        await self._write(sql, (link.link_hash, link.username, to_ms(link.created_at), to_ms(link.expires_at)))

    async def take_login_link(self, link_hash: str, now: datetime) -> str | None:
        """Delete the link and return its user name when it was unexpired; once only (one statement)."""

        def run() -> str | None:
            row = (
                self.store._w()
                .execute("DELETE FROM login_links WHERE link_hash = ? RETURNING username, expires_at", (link_hash,))
                .fetchone()
            )
            return str(row[0]) if row is not None and row[1] > to_ms(now) else None

        return await self.store._on_writer(run)

    # --- device keys ----------------------------------------------------------------------------------------
    async def add_device_key(self, key: DeviceKeyRecord, grace_until: datetime | None) -> None:
        """Insert a machine's new key; with ``grace_until`` its other valid keys expire then."""
        statements: list[tuple[str, tuple[object, ...]]] = []
        if grace_until is not None:
            until = to_ms(grace_until)
            statements.append(
                (
                    "UPDATE device_keys SET expires_at = ? WHERE machine_id = ? AND revoked_at IS NULL "
                    "AND (expires_at IS NULL OR expires_at > ?)",
                    (until, key.machine_id, until),
                )
            )
        statements.append((f"INSERT INTO device_keys ({DEVICE_COLS}) VALUES ({_marks(DEVICE_COLS)})", device_row(key)))
        await self._transaction(statements)

    async def device_key_by_hash(self, key_hash: str) -> DeviceKeyRecord | None:
        """The device key whose secret hashes to ``key_hash``, or None."""
        rows = await self._rows(f"SELECT {DEVICE_COLS} FROM device_keys WHERE key_hash = ?", (key_hash,))
        return device_from_row(rows[0]) if rows else None

    async def device_keys(self, machine_id: str | None = None) -> list[DeviceKey]:
        """Device keys (of one machine, or all), by machine then age."""
        where, args = ("WHERE machine_id = ?", (machine_id,)) if machine_id is not None else ("", ())
        rows = await self._rows(f"SELECT {DEVICE_COLS} FROM device_keys {where} ORDER BY machine_id, created_at", args)
        return [device_from_row(r).public() for r in rows]

    async def revoke_device_keys(self, machine_id: str, at: datetime) -> int:
        """Revoke every unrevoked key of a machine; return how many."""
        sql = "UPDATE device_keys SET revoked_at = ? WHERE machine_id = ? AND revoked_at IS NULL"
        return await self._write(sql, (to_ms(at), machine_id))

    # --- audit ----------------------------------------------------------------------------------------------
    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry to the audit trail; returns it with its id."""

        def run() -> int:
            sql = f"INSERT INTO audit ({AUDIT_COLS}) VALUES ({_marks(AUDIT_COLS)})"
            rowid = self.store._w().execute(sql, audit_row(entry)).lastrowid
            assert rowid is not None
            return rowid

        return entry.model_copy(update={"id": await self.store._on_writer(run)})

    async def audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Audit entries matching ``query``, newest first."""
        sql, args = audit_select(query, lambda _: "?")
        return [audit_from_row(r) for r in await self._rows(sql, args)]
