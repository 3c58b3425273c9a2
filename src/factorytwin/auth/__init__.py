"""Authentication and authorisation: roles, users, API tokens, dashboard sessions, device keys, the audit trail.

The public face:

- ``Role`` (viewer < operator < engineer < admin), ``Action`` and ``Principal.may(action)``: the permission check;
- ``AuthService``: logins, sessions with CSRF tokens, tokens, device keys, all attempts rate-limited and audited;
- the models (``User``, ``ApiToken``, ``DeviceKey``, ``AuditEntry``, ``AuditQuery``) and errors.

Persistence is an ``AuthStore`` (``factorytwin.store.auth.auth_store_for`` over an open ``Store``).
"""

from __future__ import annotations

from factorytwin.auth.credentials import PasswordProblem, Passwords
from factorytwin.auth.errors import AlreadyExists, AuthError, Forbidden, LockedOut, Unauthenticated
from factorytwin.auth.models import (
    ApiToken,
    AuditEntry,
    AuditQuery,
    DeviceKey,
    Outcome,
    Principal,
    PrincipalKind,
    User,
)
from factorytwin.auth.ratelimit import AttemptLimiter, LimitPolicy
from factorytwin.auth.roles import REQUIRED_ROLE, Action, Role
from factorytwin.auth.service import AuthPolicy, AuthService, Context, Login
from factorytwin.auth.storage import AuthStore

__all__ = [
    "REQUIRED_ROLE",
    "Action",
    "AlreadyExists",
    "ApiToken",
    "AttemptLimiter",
    "AuditEntry",
    "AuditQuery",
    "AuthError",
    "AuthPolicy",
    "AuthService",
    "AuthStore",
    "Context",
    "DeviceKey",
    "Forbidden",
    "LimitPolicy",
    "LockedOut",
    "Login",
    "Outcome",
    "PasswordProblem",
    "Passwords",
    "Principal",
    "PrincipalKind",
    "Role",
    "Unauthenticated",
    "User",
]
