"""The errors of authentication and authorisation; the API maps them to 401, 403, 409 and 429."""

from __future__ import annotations

from factorytwin.errors import FactoryTwinError


class AuthError(FactoryTwinError):
    """Base of the auth errors."""


class Unauthenticated(AuthError):
    """No credential, or one that is wrong, expired, revoked or forged (401). The message never says which part
    of a credential was right."""


class Forbidden(AuthError):
    """A valid credential without the right to do this (403)."""


class AlreadyExists(AuthError):
    """A user or token name that is taken (409)."""


class LockedOut(AuthError):
    """Too many failed attempts from this user name or address (429); retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed attempts; try again in {int(retry_after_s) + 1} s")
        self.retry_after_s = retry_after_s
