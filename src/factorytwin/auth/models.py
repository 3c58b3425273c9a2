"""The pydantic models of users, credentials, sessions, the audit trail and the authenticated caller.

``*Record`` models carry the stored secrets' hashes and never leave the server; the others are what the API and the
CLI show. Every time is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from factorytwin.auth.roles import REQUIRED_ROLE, Action, Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
"""User and token names: 1-64 characters, letters, digits and ``._@-``, not starting with a symbol."""


class User(BaseModel):
    """A person who logs in (dashboard) and the role they hold."""

    model_config = ConfigDict(frozen=True)

    username: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    created_at: AwareDatetime
    updated_at: AwareDatetime


class UserRecord(User):
    """A stored user with the Argon2id hash of their password."""

    password_hash: str = Field(repr=False)

    def public(self) -> User:
        """The user without the hash."""
        return User.model_validate(self.model_dump(exclude={"password_hash"}))


class ApiToken(BaseModel):
    """A bearer token for scripts and integrations: named, scoped to a role, expiring, revocable."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=USERNAME_PATTERN)
    role: Role
    created_by: str
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None
    last_used_at: AwareDatetime | None = None

    def valid_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class ApiTokenRecord(ApiToken):
    """A stored token: SHA-256 of its secret (the secret itself is shown once and never stored)."""

    token_hash: str = Field(repr=False)

    def public(self) -> ApiToken:
        """The token without its hash."""
        return ApiToken.model_validate(self.model_dump(exclude={"token_hash"}))


class SessionRecord(BaseModel):
    """A dashboard login: the hashes of the session cookie and of its CSRF token."""

    model_config = ConfigDict(frozen=True)

    session_hash: str = Field(repr=False)
    csrf_hash: str = Field(repr=False)
    username: str
    created_at: AwareDatetime
    expires_at: AwareDatetime
    source: str = ""


class LoginLinkRecord(BaseModel):
    """A one-time login link (the demo's "open the dashboard" link): the hash of its secret, whom it logs in."""

    model_config = ConfigDict(frozen=True)

    link_hash: str = Field(repr=False)
    username: str
    created_at: AwareDatetime
    expires_at: AwareDatetime


class DeviceKey(BaseModel):
    """An ingest key of one machine; after a rotation the old key stays valid until ``expires_at`` (grace)."""

    model_config = ConfigDict(frozen=True)

    key_id: str = Field(description="short public identifier of the key (first characters of its hash)")
    machine_id: str
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    def valid_at(self, now: datetime) -> bool:
        """Neither revoked nor past its grace period at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class DeviceKeyRecord(DeviceKey):
    """A stored device key: SHA-256 of its secret."""

    key_hash: str = Field(repr=False)

    def public(self) -> DeviceKey:
        """The key without its hash."""
        return DeviceKey.model_validate(self.model_dump(exclude={"key_hash"}))


class PrincipalKind(StrEnum):
    """How a caller proved who they are."""

    SESSION = "session"
    TOKEN = "token"
    DEVICE = "device"
    OIDC = "oidc"
    CLI = "cli"


class Principal(BaseModel):
    """The authenticated caller of a request (or a CLI operator), and what they may do."""

    model_config = ConfigDict(frozen=True)

    kind: PrincipalKind
    name: str = Field(description="user name, token name, or device:<machine id>")
    role: Role | None = Field(default=None, description="None for devices: they may only ingest their machines")
    machine_ids: frozenset[str] = Field(default=frozenset(), description="machines a device may write")

    @model_validator(mode="after")
    def _device_has_machines(self) -> Principal:
        if (self.kind is PrincipalKind.DEVICE) != (self.role is None):
            raise ValueError("a device has machines and no role; everyone else has a role")
        return self

    def has_role(self, role: Role) -> bool:
        """True when the caller holds ``role`` or a higher one."""
        return self.role is not None and self.role.includes(role)

    def may(self, action: Action, machine_id: str | None = None) -> bool:
        """May this caller do ``action`` (on ``machine_id``, for ingest)?"""
        if self.kind is PrincipalKind.DEVICE:
            return action is Action.INGEST and machine_id is not None and machine_id in self.machine_ids
        return self.has_role(REQUIRED_ROLE[action])


class Outcome(StrEnum):
    """How an audited attempt ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    """Wrong credentials or bad input."""
    DENIED = "denied"
    """Authenticated but not allowed, or locked out."""


class AuditEntry(BaseModel):
    """One line of the audit trail: who, when, from where, what, and the outcome."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    ts: AwareDatetime
    actor: str = Field(max_length=200, description="user, token or device name; the claimed name for failures")
    actor_kind: PrincipalKind | None = None
    source: str = Field(default="", max_length=200, description="client address, or 'cli'")
    action: str = Field(max_length=100, description="e.g. auth.login, tokens.create, machines.command")
    target: str = Field(default="", max_length=200, description="what was acted on (machine id, user name, ...)")
    outcome: Outcome
    detail: str = Field(default="", max_length=1000)


class AuditQuery(BaseModel):
    """Filter for the audit trail, newest first."""

    actor: str | None = None
    action: str | None = Field(default=None, description="exact action, or a prefix ending in '.' (e.g. 'auth.')")
    outcome: Outcome | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    limit: int = Field(default=200, ge=1, le=10_000)

    @field_validator("actor", "action")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is not None and ("\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)):
            raise ValueError("must not contain NUL or lone surrogate characters")
        return value
