"""POST /auth/login, GET /auth/link (one-time), POST /auth/logout, GET /auth/me, GET /audit (admin, CSV export)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from factorytwin.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Admin,
    Authenticated,
    AuthServiceDep,
    client_source,
    http_error,
)
from factorytwin.auth import AuditEntry, AuditQuery, AuthError, AuthService, Login, Outcome, PrincipalKind, Role
from factorytwin.auth.credentials import MAX_PASSWORD_LENGTH
from factorytwin.domain import IsoDatetime

router = APIRouter(tags=["auth"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no credential, or a wrong, expired or revoked one"},
    429: {"description": "too many failed attempts; see Retry-After"},
}


class LoginRequest(BaseModel):
    """A dashboard login."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class Me(BaseModel):
    """The authenticated caller."""

    kind: PrincipalKind
    name: str
    role: Role | None = Field(description="None for a device key")
    machine_ids: list[str] = Field(description="machines a device key may write; empty for users and tokens")


class LoginResponse(BaseModel):
    """A new session: the session cookie is set HttpOnly; send ``csrf_token`` as X-CSRF-Token with every write."""

    user: Me
    csrf_token: str
    expires_at: datetime


def set_session_cookies(response: Response, request: Request, session: Login, auth: AuthService) -> None:
    """Set the HttpOnly session cookie and the readable CSRF cookie of a new session on ``response``."""
    max_age = int(auth.policy.session_ttl.total_seconds())
    secure = request.url.scheme == "https"  # behind TLS (or a proxy that says so) the cookie never goes plain
    response.set_cookie(
        SESSION_COOKIE, session.session_secret, max_age=max_age, httponly=True, samesite="strict", secure=secure
    )
    # Readable by the dashboard's script (that is the point: it echoes it in X-CSRF-Token); useless to another site.
    response.set_cookie(CSRF_COOKIE, session.csrf_token, max_age=max_age, samesite="strict", secure=secure)


@router.post("/auth/login", responses=_ERRORS)
async def login(body: LoginRequest, request: Request, response: Response, auth: AuthServiceDep) -> LoginResponse:
    """Log in with user name and password: sets the HttpOnly, SameSite=Strict session cookie."""
    try:
        session = await auth.login(body.username, body.password, client_source(request))
    except AuthError as exc:
        raise http_error(exc) from None
    set_session_cookies(response, request, session, auth)
    me = Me(kind=PrincipalKind.SESSION, name=session.user.username, role=session.user.role, machine_ids=[])
    return LoginResponse(user=me, csrf_token=session.csrf_token, expires_at=session.expires_at)


@router.get("/auth/link", status_code=status.HTTP_303_SEE_OTHER, responses=_ERRORS)
async def login_link(
    request: Request, auth: AuthServiceDep, token: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    """Open a session with a one-time login link (``factorytwin demo`` prints one) and go to the dashboard.

    The link works once and for a few minutes; a used or expired one is 401.
    """
    try:
        session = await auth.redeem_login_link(token, client_source(request))
    except AuthError as exc:
        raise http_error(exc) from None
    # The cookies set here are sent on the same-origin navigation to "/" that the redirect starts.
    answer = Response(status_code=status.HTTP_303_SEE_OTHER, headers={"Location": "/"})
    set_session_cookies(answer, request, session, auth)
    return answer


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
async def logout(request: Request, principal: Authenticated, auth: AuthServiceDep) -> Response:
    """End the session of the cookie (a write: the CSRF token is needed) and clear the cookies."""
    secret = request.cookies.get(SESSION_COOKIE)
    if principal.kind is PrincipalKind.SESSION and secret is not None:
        await auth.logout(secret, client_source(request))
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    answer.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
    answer.delete_cookie(CSRF_COOKIE, samesite="strict")
    return answer


@router.get("/auth/me", responses=_ERRORS)
async def me(principal: Authenticated) -> Me:
    """Who the credential of this request belongs to, and their role."""
    return Me(kind=principal.kind, name=principal.name, role=principal.role, machine_ids=sorted(principal.machine_ids))


_CSV_COLUMNS = ["id", "ts", "actor", "actor_kind", "source", "action", "target", "outcome", "detail"]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: an actor named "=HYPERLINK(...)" must stay text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv(entries: list[AuditEntry]) -> str:
    """The audit entries as CSV with a header row, formula-like cells defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    for e in entries:
        row = e.model_dump(mode="json")
        writer.writerow([_cell(row[c]) for c in _CSV_COLUMNS])
    return out.getvalue()


@router.get(
    "/audit",
    response_model=list[AuditEntry],
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}}, 403: {"description": "needs the admin role"}},
)
async def audit(
    _: Admin,
    auth: AuthServiceDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100, description="exact, or a prefix ending in '.'")] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    start: Annotated[IsoDatetime | None, Query(alias="from", description="ISO 8601 with offset")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="ISO 8601 with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> list[AuditEntry] | Response:
    """The audit trail, newest first: who did what, when, from where, and how it ended."""
    query = AuditQuery(actor=actor, action=action, outcome=outcome, start=start, end=end, limit=limit)
    entries = await auth.audit(query)
    if fmt == "csv":
        headers = {"Content-Disposition": 'attachment; filename="factorytwin-audit.csv"'}
        return Response(audit_csv(entries), media_type="text/csv; charset=utf-8", headers=headers)
    return entries
