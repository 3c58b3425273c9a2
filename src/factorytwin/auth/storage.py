"""The ``AuthStore`` protocol: persistence of users, tokens, sessions, device keys and the audit trail.

Both backends implement it in ``factorytwin.store`` (SQL stays there); ``factorytwin.store.auth.auth_store_for``
gives the one that shares an open ``Store``'s database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

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


class AuthStore(Protocol):
    """Users, credentials and audit entries; every method is safe to call from the event loop."""

    async def add_user(self, user: UserRecord) -> None:
        """Insert a user; ``AlreadyExists`` when the name is taken."""

    async def user(self, username: str) -> UserRecord | None:
        """The user named ``username`` (exact match), or None."""

    async def users(self) -> list[User]:
        """Every user, by name."""

    async def update_user(self, username: str, at: datetime, password_hash: str | None, role: Role | None) -> bool:
        """Set a new password hash and/or role; False when there is no such user."""

    async def remove_user(self, username: str) -> bool:
        """Delete a user and their sessions; False when there is no such user."""

    async def add_token(self, token: ApiTokenRecord) -> None:
        """Insert a token; ``AlreadyExists`` when the name is taken."""

    async def token_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """The token whose secret hashes to ``token_hash``, or None."""

    async def tokens(self) -> list[ApiToken]:
        """Every token (revoked and expired included), by name."""

    async def revoke_token(self, name: str, at: datetime) -> bool:
        """Mark a token revoked; False when there is no such token or it was already revoked."""

    async def touch_token(self, name: str, at: datetime) -> None:
        """Record that a token was used."""

    async def add_session(self, session: SessionRecord) -> None:
        """Insert a dashboard session."""

    async def session_by_hash(self, session_hash: str) -> SessionRecord | None:
        """The session whose cookie hashes to ``session_hash``, or None."""

    async def remove_session(self, session_hash: str) -> None:
        """Delete one session (logout)."""

    async def remove_sessions(self, username: str) -> int:
        """Delete every session of a user (a password change ends them); return how many."""

    async def remove_expired_sessions(self, now: datetime) -> int:
        """Delete sessions past their expiry; return how many."""

    async def add_login_link(self, link: LoginLinkRecord) -> None:
        """Insert a one-time login link."""

    async def take_login_link(self, link_hash: str, now: datetime) -> str | None:
        """Delete the link and return its user name when it exists and is unexpired (once only), else None."""

    async def add_device_key(self, key: DeviceKeyRecord, grace_until: datetime | None) -> None:
        """Insert a machine's new key; with ``grace_until`` the machine's other valid keys expire then (rotation)."""

    async def device_key_by_hash(self, key_hash: str) -> DeviceKeyRecord | None:
        """The device key whose secret hashes to ``key_hash``, or None."""

    async def device_keys(self, machine_id: str | None = None) -> list[DeviceKey]:
        """Device keys (of one machine, or all), by machine then age."""

    async def revoke_device_keys(self, machine_id: str, at: datetime) -> int:
        """Revoke every key of a machine; return how many were valid."""

    async def add_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry to the audit trail; returns it with its id."""

    async def audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Audit entries matching ``query``, newest first."""
