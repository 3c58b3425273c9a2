"""``AuthService``: users, logins and sessions, API tokens, device keys and the audit trail, over an ``AuthStore``.

Every attempt to prove an identity goes through here, so every failure is counted (rate limit, lock-out) and
audited in one place. Clocks are injected: ``now`` for stored times (UTC), the limiter's monotonic clock for
lock-outs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from factorytwin.auth.credentials import (
    DEVICE_KEY_PREFIX,
    LINK_PREFIX,
    SESSION_PREFIX,
    TOKEN_PREFIX,
    Passwords,
    check_password_policy,
    new_secret,
    same_secret,
    secret_hash,
)
from factorytwin.auth.errors import AlreadyExists, Forbidden, LockedOut, Unauthenticated
from factorytwin.auth.models import (
    USERNAME_PATTERN,
    ApiToken,
    ApiTokenRecord,
    AuditEntry,
    AuditQuery,
    DeviceKey,
    DeviceKeyRecord,
    LoginLinkRecord,
    Outcome,
    Principal,
    PrincipalKind,
    SessionRecord,
    User,
    UserRecord,
)
from factorytwin.auth.oidc import InvalidOidcToken, OidcVerifier
from factorytwin.auth.ratelimit import AttemptLimiter, LimitPolicy
from factorytwin.auth.roles import Role
from factorytwin.auth.storage import AuthStore
from factorytwin.errors import NotFound

Now = Callable[[], datetime]
BAD_LOGIN = "wrong user name or password"
BAD_CREDENTIAL = "invalid, expired or revoked credential"


def storable(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters and made storable on both backends: NUL and other control characters
    (PostgreSQL text cannot hold NUL) and lone surrogates (not UTF-8) become U+FFFD."""
    cleaned = "".join("\ufffd" if (ord(c) < 32 and c not in "\t") or 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return cleaned[:limit]


def check_name(field: str, value: str) -> None:
    """``ValueError`` naming ``field`` unless ``value`` is a valid user or token name."""
    if not re.fullmatch(USERNAME_PATTERN, value):
        raise ValueError(f"{field}: use 1-64 letters, digits and ._@- (starting with a letter or digit)")


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


class AuthPolicy(BaseModel):
    """Lifetimes and limits of credentials."""

    session_ttl: timedelta = Field(default=timedelta(hours=12), gt=timedelta(0))
    device_key_grace: timedelta = Field(
        default=timedelta(hours=1), ge=timedelta(0), description="how long a rotated-out device key stays valid"
    )
    per_user: LimitPolicy = LimitPolicy(max_failures=5, window_s=300, lockout_s=900)
    per_source: LimitPolicy = LimitPolicy(max_failures=20, window_s=300, lockout_s=900)
    touch_every: timedelta = Field(
        default=timedelta(minutes=1), description="a token's last use is written at most this often"
    )


class Login(BaseModel):
    """A successful login: the user, the session cookie's secret and the CSRF token (both shown once)."""

    model_config = ConfigDict(frozen=True)

    user: User
    session_secret: str = Field(repr=False)
    csrf_token: str = Field(repr=False)
    expires_at: AwareDatetime


class Context(BaseModel):
    """Who does something and from where, for the audit trail."""

    model_config = ConfigDict(frozen=True)

    actor: str
    kind: PrincipalKind | None = None
    source: str = ""

    def __init__(self, actor: str, kind: PrincipalKind | None = None, source: str = "") -> None:
        super().__init__(actor=actor, kind=kind, source=source)

    @classmethod
    def of(cls, principal: Principal, source: str) -> Context:
        """The context of an authenticated caller."""
        return cls(principal.name, principal.kind, source)


class AuthService:
    """The one place where identities are proven, credentials issued and attempts audited."""

    def __init__(
        self,
        store: AuthStore,
        passwords: Passwords | None = None,
        policy: AuthPolicy | None = None,
        now: Now = utc_now,
        limiter_clock: Callable[[], float] | None = None,
        oidc: OidcVerifier | None = None,
    ) -> None:
        self.store = store
        self.oidc = oidc
        self.passwords = passwords or Passwords()
        self.policy = policy or AuthPolicy()
        self.now = now
        kwargs = {} if limiter_clock is None else {"clock": limiter_clock}
        self.user_limiter = AttemptLimiter(self.policy.per_user, **kwargs)
        self.source_limiter = AttemptLimiter(self.policy.per_source, **kwargs)
        self._touched: dict[str, datetime] = {}

    # --- audit ----------------------------------------------------------------------------------------------
    async def record(
        self, ctx: Context, action: str, outcome: Outcome, target: str = "", detail: str = ""
    ) -> AuditEntry:
        """Append one entry to the audit trail (times are the service's clock)."""
        entry = AuditEntry(
            ts=self.now(),
            actor=storable(ctx.actor, 200),
            actor_kind=ctx.kind,
            source=storable(ctx.source, 200),
            action=action,
            target=storable(target, 200),
            outcome=outcome,
            detail=storable(detail, 1000),
        )
        return await self.store.add_audit(entry)

    async def audit(self, query: AuditQuery) -> list[AuditEntry]:
        """Audit entries matching ``query``, newest first."""
        return await self.store.audit(query)

    # --- users ----------------------------------------------------------------------------------------------
    async def add_user(self, username: str, role: Role, password: str, ctx: Context) -> User:
        """Create a user (the password must meet the policy); audited."""
        check_name("username", username)
        check_password_policy(password, username)
        now = self.now()
        record = UserRecord(
            username=username,
            role=role,
            created_at=now,
            updated_at=now,
            password_hash=await self.passwords.hash(password),
        )
        try:
            await self.store.add_user(record)
        except AlreadyExists:
            await self.record(ctx, "users.add", Outcome.FAILURE, username, "name taken")
            raise
        await self.record(ctx, "users.add", Outcome.SUCCESS, username, f"role {role}")
        return record.public()

    async def users(self) -> list[User]:
        """Every user, by name."""
        return await self.store.users()

    async def set_password(self, username: str, password: str, ctx: Context) -> None:
        """Give a user a new password and end their sessions (a stolen cookie dies with the old password);
        ``NotFound`` when there is no such user. Audited."""
        check_password_policy(password, username)
        hashed = await self.passwords.hash(password)
        if not await self.store.update_user(username, self.now(), hashed, None):
            raise NotFound(f"no user {username!r}")
        ended = await self.store.remove_sessions(username)
        await self.record(ctx, "users.passwd", Outcome.SUCCESS, username, f"{ended} sessions ended")

    async def set_role(self, username: str, role: Role, ctx: Context) -> None:
        """Give a user another role (their sessions follow at the next request). Audited."""
        if not await self.store.update_user(username, self.now(), None, role):
            raise NotFound(f"no user {username!r}")
        await self.record(ctx, "users.role", Outcome.SUCCESS, username, f"role {role}")

    async def remove_user(self, username: str, ctx: Context) -> None:
        """Delete a user and end their sessions. Audited."""
        if not await self.store.remove_user(username):
            raise NotFound(f"no user {username!r}")
        await self.record(ctx, "users.remove", Outcome.SUCCESS, username)

    # --- login and sessions ---------------------------------------------------------------------------------
    async def login(self, username: str, password: str, source: str) -> Login:
        """Check a user's password and open a session; ``Unauthenticated`` or ``LockedOut`` otherwise. Audited."""
        ctx = Context(username, PrincipalKind.SESSION, source)
        user_key, source_key = [f"user:{username.lower()}"], [f"source:{source}"]
        locked = self.user_limiter.locked(user_key) or self.source_limiter.locked(source_key)
        if locked is not None:
            await self.record(ctx, "auth.login", Outcome.DENIED, username, "locked out")
            raise LockedOut(locked)
        # A name no user can have is never looked up (it might not even be storable), but costs the same time.
        record = await self.store.user(username) if re.fullmatch(USERNAME_PATTERN, username) else None
        if not await self.passwords.verify(record.password_hash if record else None, password) or record is None:
            self.user_limiter.failure(user_key)
            self.source_limiter.failure(source_key)
            await self.record(ctx, "auth.login", Outcome.FAILURE, username, BAD_LOGIN)
            raise Unauthenticated(BAD_LOGIN)
        self.user_limiter.success(user_key)
        if self.passwords.needs_rehash(record.password_hash):  # parameters were raised since: upgrade silently
            await self.store.update_user(username, self.now(), await self.passwords.hash(password), None)
        login = await self._open_session(record, source)
        await self.record(ctx, "auth.login", Outcome.SUCCESS, username)
        return login

    async def create_login_link(self, username: str, ctx: Context, ttl: timedelta = timedelta(minutes=10)) -> str:
        """A one-time secret that opens a session for ``username`` (the demo prints it as a link). Audited."""
        if await self.store.user(username) is None:
            raise NotFound(f"no user {username!r}")
        now = self.now()
        secret = new_secret(LINK_PREFIX)
        await self.store.add_login_link(
            LoginLinkRecord(link_hash=secret_hash(secret), username=username, created_at=now, expires_at=now + ttl)
        )
        await self.record(ctx, "auth.link_create", Outcome.SUCCESS, username)
        return secret

    async def redeem_login_link(self, secret: str, source: str) -> Login:
        """Open a session with a one-time login link; a used, expired or unknown link is ``Unauthenticated``."""
        locked = self.source_limiter.locked([f"source:{source}"])
        if locked is not None:
            raise LockedOut(locked)
        username = await self.store.take_login_link(secret_hash(secret), self.now())
        record = None if username is None else await self.store.user(username)
        if record is None:
            await self._credential_failure(Context("(login link)", PrincipalKind.SESSION, source), "auth.link")
        login = await self._open_session(record, source)
        await self.record(Context(record.username, PrincipalKind.SESSION, source), "auth.link", Outcome.SUCCESS)
        return login

    async def _open_session(self, record: UserRecord, source: str) -> Login:
        now = self.now()
        await self.store.remove_expired_sessions(now)  # logins are rare: a good moment to sweep old sessions
        secret, csrf = new_secret(SESSION_PREFIX), new_secret("")
        expires = now + self.policy.session_ttl
        await self.store.add_session(
            SessionRecord(
                session_hash=secret_hash(secret),
                csrf_hash=secret_hash(csrf),
                username=record.username,
                created_at=now,
                expires_at=expires,
                source=source,
            )
        )
        return Login(user=record.public(), session_secret=secret, csrf_token=csrf, expires_at=expires)

    async def session_principal(self, secret: str, csrf_token: str | None, write: bool, source: str) -> Principal:
        """The user behind a session cookie; a write (unsafe method) also needs the session's CSRF token."""
        session = await self.store.session_by_hash(secret_hash(secret))
        if session is None or session.expires_at <= self.now():
            await self._credential_failure(Context("(session)", PrincipalKind.SESSION, source), "auth.session")
        user = await self.store.user(session.username)
        if user is None:  # removed since login
            await self._credential_failure(Context(session.username, PrincipalKind.SESSION, source), "auth.session")
        principal = Principal(kind=PrincipalKind.SESSION, name=user.username, role=user.role)
        if write and (csrf_token is None or not same_secret(csrf_token, session.csrf_hash)):
            await self.record(Context.of(principal, source), "auth.csrf", Outcome.DENIED, detail="CSRF token")
            raise Forbidden("missing or wrong CSRF token: send the X-CSRF-Token header given at login")
        return principal

    async def logout(self, secret: str, source: str) -> None:
        """End the session of ``secret`` (unknown sessions are ignored). Audited."""
        session_hash = secret_hash(secret)
        session = await self.store.session_by_hash(session_hash)
        await self.store.remove_session(session_hash)
        if session is not None:
            await self.record(Context(session.username, PrincipalKind.SESSION, source), "auth.logout", Outcome.SUCCESS)

    # --- API tokens -----------------------------------------------------------------------------------------
    async def create_token(
        self, name: str, role: Role, ctx: Context, expires_at: datetime | None = None
    ) -> tuple[str, ApiToken]:
        """A new bearer token; returns its secret (shown once, never stored) and its record. Audited."""
        check_name("name", name)
        now = self.now()
        if expires_at is not None and expires_at <= now:
            raise ValueError("expires: must be in the future")
        secret = new_secret(TOKEN_PREFIX)
        record = ApiTokenRecord(
            name=name,
            role=role,
            created_by=ctx.actor,
            created_at=now,
            expires_at=expires_at,
            token_hash=secret_hash(secret),
        )
        try:
            await self.store.add_token(record)
        except AlreadyExists:
            await self.record(ctx, "tokens.create", Outcome.FAILURE, name, "name taken")
            raise
        await self.record(ctx, "tokens.create", Outcome.SUCCESS, name, f"role {role}")
        return secret, record.public()

    async def tokens(self) -> list[ApiToken]:
        """Every token, by name (no secrets)."""
        return await self.store.tokens()

    async def revoke_token(self, name: str, ctx: Context) -> None:
        """Revoke a token at once; ``NotFound`` when there is no such valid token. Audited."""
        if not await self.store.revoke_token(name, self.now()):
            raise NotFound(f"no valid token {name!r}")
        await self.record(ctx, "tokens.revoke", Outcome.SUCCESS, name)

    async def token_principal(self, secret: str, source: str) -> Principal:
        """The caller behind a bearer token; ``Unauthenticated`` when unknown, expired or revoked."""
        token = await self.store.token_by_hash(secret_hash(secret))
        now = self.now()
        if token is None or not token.valid_at(now):
            name = "(token)" if token is None else token.name
            await self._credential_failure(Context(name, PrincipalKind.TOKEN, source), "auth.token")
        last = self._touched.get(token.name)
        if last is None or now - last >= self.policy.touch_every:
            self._touched[token.name] = now
            await self.store.touch_token(token.name, now)
        return Principal(kind=PrincipalKind.TOKEN, name=token.name, role=token.role)

    # --- device keys ----------------------------------------------------------------------------------------
    async def issue_device_key(self, machine_id: str, ctx: Context) -> tuple[str, DeviceKey]:
        """A new ingest key for a machine; its older keys stay valid for the grace period (rotation). Audited."""
        now = self.now()
        secret = new_secret(DEVICE_KEY_PREFIX)
        key_hash = secret_hash(secret)
        record = DeviceKeyRecord(key_id=key_hash[:12], machine_id=machine_id, created_at=now, key_hash=key_hash)
        await self.store.add_device_key(record, grace_until=now + self.policy.device_key_grace)
        await self.record(ctx, "devices.key", Outcome.SUCCESS, machine_id, f"key {record.key_id}")
        return secret, record.public()

    async def device_keys(self, machine_id: str | None = None) -> list[DeviceKey]:
        """Device keys (no secrets)."""
        return await self.store.device_keys(machine_id)

    async def revoke_device_keys(self, machine_id: str, ctx: Context) -> int:
        """Revoke every key of a machine at once (a stolen device). Audited."""
        count = await self.store.revoke_device_keys(machine_id, self.now())
        await self.record(ctx, "devices.revoke", Outcome.SUCCESS, machine_id, f"{count} keys")
        return count

    async def device_principal(self, secret: str, source: str) -> Principal:
        """The device behind an ingest key; ``Unauthenticated`` when unknown, rotated out or revoked."""
        key = await self.store.device_key_by_hash(secret_hash(secret))
        if key is None or not key.valid_at(self.now()):
            name = "(device key)" if key is None else f"device:{key.machine_id}"
            await self._credential_failure(Context(name, PrincipalKind.DEVICE, source), "auth.device")
        return Principal(
            kind=PrincipalKind.DEVICE, name=f"device:{key.machine_id}", machine_ids=frozenset({key.machine_id})
        )

    async def bearer_principal(self, secret: str, source: str) -> Principal:
        """The caller behind an ``Authorization: Bearer`` value: an API token or a device key, by its prefix.

        From an address locked out for too many bad credentials, a bad one is answered ``LockedOut``; a valid one
        still gets in: tokens and keys are 256-bit random, so there is nothing to guess, and a lock-out must not let
        one bad client on a shared address (a NAT, a gateway) shut out every integration behind it.
        """
        locked = self.source_limiter.locked([f"source:{source}"])
        try:
            return await self._bearer(secret, source)
        except Unauthenticated:
            if locked is not None:
                raise LockedOut(locked) from None
            raise

    async def _bearer(self, secret: str, source: str) -> Principal:
        if secret.startswith(TOKEN_PREFIX):
            return await self.token_principal(secret, source)
        if secret.startswith(DEVICE_KEY_PREFIX):
            return await self.device_principal(secret, source)
        if self.oidc is not None and secret.count(".") == 2:
            return await self.oidc_principal(self.oidc, secret, source)
        await self._credential_failure(Context("(bearer)", None, source), "auth.bearer")

    async def oidc_principal(self, verifier: OidcVerifier, token: str, source: str) -> Principal:
        """The caller behind an OpenID Connect token; why it failed goes to the audit trail, not to the caller."""
        try:
            return await verifier.verify(token)
        except InvalidOidcToken as exc:
            await self._credential_failure(Context("(oidc)", PrincipalKind.OIDC, source), "auth.oidc", str(exc))
        except Forbidden as exc:
            await self.record(
                Context("(oidc)", PrincipalKind.OIDC, source), "auth.oidc", Outcome.DENIED, detail=str(exc)
            )
            raise

    async def _credential_failure(self, ctx: Context, action: str, why: str = BAD_CREDENTIAL) -> NoReturn:
        """Count and audit a bad credential, then raise ``Unauthenticated`` (the same message for every cause)."""
        self.source_limiter.failure([f"source:{ctx.source}"])
        await self.record(ctx, action, Outcome.FAILURE, detail=why)
        raise Unauthenticated(BAD_CREDENTIAL)
