"""Who is calling: the FastAPI dependency ``require(Role.X)`` resolving a request's credential into a ``Principal``.

A caller proves who they are with one of:

- ``Authorization: Bearer ftt_...`` — an API token (scripts, integrations);
- ``Authorization: Bearer ftd_...`` or ``X-Device-Key: ftd_...`` — a machine's ingest key;
- the ``ft_session`` cookie set by ``POST /auth/login`` (the dashboard). Writes over a cookie (any method but
  GET/HEAD/OPTIONS) also need the session's CSRF token in ``X-CSRF-Token`` (synchronizer token: its hash is kept
  with the session), so another site cannot make the browser act for the user.

No credential or a bad one: 401 (with ``WWW-Authenticate: Bearer``); a good one without the role: 403 (audited);
too many bad attempts from an address: 429 with ``Retry-After``. Over a WebSocket the same checks close the
connection with 1008 (policy violation) before it is accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, WebSocketException, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.requests import HTTPConnection

from factorytwin.auth import (
    Action,
    AuthError,
    AuthService,
    Context,
    Forbidden,
    LockedOut,
    Outcome,
    Principal,
    Role,
    Unauthenticated,
)
from factorytwin.auth.roles import REQUIRED_ROLE
from factorytwin.errors import ServiceUnavailable

SESSION_COOKIE = "ft_session"
CSRF_COOKIE = "ft_csrf"
CSRF_HEADER = "X-CSRF-Token"
DEVICE_KEY_HEADER = "X-Device-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_CREDENTIAL = "authentication required: log in, or send 'Authorization: Bearer <token>'"
PUBLIC_ROUTES = frozenset(
    {
        "GET /api/v1/health",  # liveness for load balancers and probes
        "POST /api/v1/auth/login",
        "GET /api/v1/auth/link",
        "GET /openapi.json",
        "GET /docs",
        "GET /redoc",
        "GET /{path:path}",  # the dashboard's static files (it shows its login page without a session)
    }
)
"""The only routes that answer without a credential; a test fails when any other route declares no guard."""
_GUARDS: dict[object, str] = {}
"""The guarding dependencies and what each lets through (read by ``route_guards``)."""


def install_auth(app: FastAPI, service: AuthService) -> None:
    """Make ``service`` the app's authenticator (the app's lifespan calls this once the store is open)."""
    app.state.auth = service


async def auth_service(conn: HTTPConnection) -> AuthService:
    """FastAPI dependency: the app's ``AuthService``; 503 when the app was started without one.

    ``async`` though it awaits nothing: FastAPI runs a plain ``def`` dependency in a worker thread, and that hop
    (a wake-up of the thread, the interpreter lock handed over and back) cost every request more than the rest of
    its authentication (docs/ARCHITECTURE.md, "Ingest beside its peers").
    """
    return _auth_service_of(conn)


def _auth_service_of(conn: HTTPConnection) -> AuthService:
    service: AuthService | None = getattr(conn.app.state, "auth", None)
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, [{"loc": [], "msg": "authentication is not set up"}])
    return service


AuthServiceDep = Annotated[AuthService, Depends(auth_service)]


def client_source(conn: HTTPConnection) -> str:
    """The client's address, as recorded in the audit trail and counted by the rate limit."""
    return conn.client.host if conn.client is not None else "unknown"


def http_error(exc: AuthError, conn: HTTPConnection | None = None) -> HTTPException | WebSocketException:
    """The HTTP answer (or WebSocket close) of an auth error, in the API's ``detail`` shape."""
    websocket = conn is not None and conn.scope["type"] == "websocket"
    if websocket:
        return WebSocketException(status.WS_1008_POLICY_VIOLATION, reason=str(exc)[:120])  # close reasons are short
    detail = [{"loc": ["header", "authorization"], "msg": str(exc)}]
    if isinstance(exc, LockedOut):
        retry = str(int(exc.retry_after_s) + 1)
        return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail, headers={"Retry-After": retry})
    if isinstance(exc, Forbidden):
        return HTTPException(status.HTTP_403_FORBIDDEN, detail)
    if isinstance(exc, Unauthenticated):
        return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail)


async def _resolve(conn: HTTPConnection, service: AuthService) -> Principal:
    source = client_source(conn)
    header = conn.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization: use the Bearer scheme with a token or device key")
        return await service.bearer_principal(value.strip(), source)
    device_key = conn.headers.get(DEVICE_KEY_HEADER)
    if device_key is not None:
        return await service.device_principal(device_key.strip(), source)
    session = conn.cookies.get(SESSION_COOKIE)
    if session is not None:
        write = conn.scope["type"] == "http" and conn.scope["method"] not in SAFE_METHODS
        return await service.session_principal(session, conn.headers.get(CSRF_HEADER), write, source)
    raise Unauthenticated(NO_CREDENTIAL)


async def authenticated(conn: HTTPConnection, service: AuthServiceDep) -> Principal:
    """FastAPI dependency: the caller, whoever they are (devices included); 401 without a valid credential."""
    try:
        return await _resolve(conn, service)
    except AuthError as exc:
        raise http_error(exc, conn) from None
    except ServiceUnavailable as exc:  # the identity provider's JWKS cannot be read: not the caller's fault
        if conn.scope["type"] == "websocket":
            raise WebSocketException(status.WS_1011_INTERNAL_ERROR, reason="identity provider unreachable") from None
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, [{"loc": [], "msg": str(exc)}], headers={"Retry-After": "5"}
        ) from None


def require(need: Role | Action) -> Callable[[HTTPConnection, Principal, AuthService], Awaitable[Principal]]:
    """FastAPI dependency factory: the caller, who must hold role ``need`` (or the role an action needs).

    ``Depends(require(Role.OPERATOR))`` on a route (or router) answers 401 without a credential and 403 (audited)
    when the caller's role is below. Devices hold no role, so only ``require_ingest`` lets them in.
    """
    role = need if isinstance(need, Role) else REQUIRED_ROLE[need]

    async def dependency(
        conn: HTTPConnection, principal: Annotated[Principal, Depends(authenticated)], service: AuthServiceDep
    ) -> Principal:
        if not principal.has_role(role):
            held = principal.role or "a device key"
            await service.record(
                Context.of(principal, client_source(conn)), "auth.forbidden", Outcome.DENIED, conn.url.path, role
            )
            raise http_error(Forbidden(f"needs the {role} role or higher (the caller has {held})"), conn)
        return principal

    dependency.__name__ = f"require_{role}"
    _GUARDS[dependency] = str(role)
    return dependency


async def require_ingest(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    """FastAPI dependency for telemetry ingest: a device key, or an operator and above.

    Which machines a device may write is checked against the body with ``check_ingest``.
    """
    if not (principal.machine_ids or principal.may(Action.INGEST)):
        raise http_error(Forbidden(f"ingest needs a device key or the {REQUIRED_ROLE[Action.INGEST]} role"))
    return principal


def check_ingest(principal: Principal, machine_ids: set[str]) -> None:
    """403 unless ``principal`` may write telemetry for every machine in ``machine_ids``."""
    refused = sorted(m for m in machine_ids if not principal.may(Action.INGEST, m))
    if refused:
        raise http_error(Forbidden(f"this credential may not write telemetry for {', '.join(refused)}"))


@dataclass
class AuditNote:
    """What the block of ``audit`` may add to its entry on success (e.g. the version it wrote)."""

    detail: str = ""


@asynccontextmanager
async def audit(conn: HTTPConnection, who: Principal, action: str, target: str) -> AsyncIterator[AuditNote]:
    """Record ``action`` on ``target`` by ``who`` in the audit trail once the block has run: ``success`` (with the
    note's detail), or ``failure`` with the error's message when it raised (the error goes on to its usual answer)."""
    service = _auth_service_of(conn)
    ctx = Context.of(who, client_source(conn))
    note = AuditNote()
    try:
        yield note
    except Exception as exc:
        await service.record(ctx, action, Outcome.FAILURE, target, str(exc)[:500])
        raise
    await service.record(ctx, action, Outcome.SUCCESS, target, note.detail)


_GUARDS[authenticated] = "any credential"
_GUARDS[require_ingest] = "device key or operator"


def route_guards(app: FastAPI) -> dict[str, str | None]:
    """Every route of ``app`` ("METHOD /path", "WS /path") and the guard its dependencies declare (None: open).

    A guard is found anywhere in the route's dependency tree (route, router or app dependencies), so a test can
    assert that no route is born open.
    """

    def guard_of(dependant: Dependant) -> str | None:
        found = _GUARDS.get(dependant.call) if dependant.call is not None else None
        if found is not None:
            return found
        for sub in dependant.dependencies:
            inner = guard_of(sub)
            if inner is not None:
                return inner
        return None

    guards: dict[str, str | None] = {}
    # iter_route_contexts flattens included routers with their prefixes and router-level dependencies applied.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        dependant = getattr(context, "dependant", None)
        guard = guard_of(dependant) if isinstance(dependant, Dependant) else None
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                guards[f"{method} {context.path}"] = guard
        elif isinstance(route, APIWebSocketRoute):
            guards[f"WS {context.path}"] = guard
        else:
            for method in sorted(getattr(route, "methods", None) or ("GET",)):
                guards[f"{method} {getattr(route, 'path', '?')}"] = None
    return guards


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
"""A caller with at least the viewer role."""
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
"""A caller with at least the operator role."""
Engineer = Annotated[Principal, Depends(require(Role.ENGINEER))]
"""A caller with at least the engineer role."""
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
"""A caller with the admin role."""
Authenticated = Annotated[Principal, Depends(authenticated)]
"""Any authenticated caller (devices included)."""
Ingester = Annotated[Principal, Depends(require_ingest)]
"""A device key or an operator and above (telemetry ingest)."""
