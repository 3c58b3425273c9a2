"""Secrets and their hashes: Argon2id for passwords, SHA-256 of 32 random bytes for tokens, keys and sessions.

A password is low-entropy, so it gets a slow, salted, memory-hard hash (Argon2id). A generated secret has 256 bits
of entropy, so a fast hash is enough and lets the server find the record by its hash in one index lookup; the
secret itself is shown once and never stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "ftt_"
"""Bearer API tokens start with this, so a leaked one is recognisable (secret scanners) and routable."""
DEVICE_KEY_PREFIX = "ftd_"
"""Device ingest keys start with this."""
SESSION_PREFIX = "fts_"
"""Session cookie values start with this."""
LINK_PREFIX = "ftl_"
"""One-time login links start with this."""
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # Argon2 is fine with long inputs, but an unbounded one is a cheap way to burn CPU


def new_secret(prefix: str) -> str:
    """A fresh secret: ``prefix`` and 32 random bytes, URL-safe base64 (43 characters)."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """The hex SHA-256 of a generated secret, as stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(given: str, expected_hash: str) -> bool:
    """Constant-time check of ``given`` against a stored SHA-256 hash."""
    return hmac.compare_digest(secret_hash(given), expected_hash)


class PasswordProblem(ValueError):
    """A new password that breaks the policy; the message says which rule."""


def check_password_policy(password: str, username: str = "") -> None:
    """Raise ``PasswordProblem`` unless ``password`` is 10-1024 characters and not the user name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordProblem(f"password: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordProblem(f"password: use at most {MAX_PASSWORD_LENGTH} characters")
    if username and password.lower() == username.lower():
        raise PasswordProblem("password: must not be the user name")


class Passwords:
    """Argon2id hashing and verification; the slow work runs in a thread so the event loop keeps serving.

    The default cost is argon2-cffi's (RFC 9106 "low memory": t=3, m=64 MiB, p=4), about 50 ms; tests pass a cheaper
    ``PasswordHasher``.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """The Argon2id hash of ``password`` (salted, PHC string format)."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored_hash``; with no hash, spends the same time and says False."""
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        if self._dummy is None:
            # Verifying against this when the user does not exist takes as long as a real check: timing does not
            # tell whether a user name exists. Made on first use, so commands that never log in do not pay for it.
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        target = stored_hash if stored_hash is not None else self._dummy
        try:
            ok = await asyncio.to_thread(self.hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when ``stored_hash`` was made with other parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
