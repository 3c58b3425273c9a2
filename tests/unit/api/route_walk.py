"""Walk every route of an app and check its guard: 401 without a credential, 403 for each role below the one needed.

Built for the route-walking test of the whole app (issue 11); ``test_route_walk.py`` runs it over a small app.
Path parameters are filled with ``1`` (valid as an int and as a string): the guard runs before any parameter or
body is validated, so the answer is the guard's whatever the route would do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from factorytwin.api.auth import route_guards
from factorytwin.auth import Role

_PARAM = re.compile(r"\{[^}]+\}")
ROLE_ORDER = [Role.VIEWER, Role.OPERATOR, Role.ENGINEER, Role.ADMIN]


@dataclass(frozen=True, slots=True)
class RouteCase:
    """One method of one route, with a concrete URL and the guard it declares."""

    method: str
    template: str
    url: str
    guard: str | None


def route_cases(app: FastAPI, public: set[str]) -> list[RouteCase]:
    """Every route of ``app`` except the ``public`` ones ("METHOD /path"), sorted; HEAD is covered by GET."""
    cases = []
    for key, guard in sorted(route_guards(app).items()):
        method, template = key.split(" ", 1)
        if key in public or method == "HEAD":
            continue
        cases.append(RouteCase(method, template, _PARAM.sub("1", template), guard))
    return cases


def roles_below(guard: str | None) -> list[Role]:
    """The roles that must be refused by ``guard`` (every role for a device-only guard)."""
    if guard == "device key or operator":
        return [Role.VIEWER]
    if guard is None or guard == "any credential":
        return []
    return ROLE_ORDER[: ROLE_ORDER.index(Role(guard))]


def status_of(client: TestClient, case: RouteCase, headers: dict[str, str]) -> int:
    """The HTTP status of ``case`` with ``headers``; for a WebSocket, 401 when refused with 1008 and 101 when open."""
    if case.method == "WS":
        try:
            with client.websocket_connect(case.url, headers=headers):
                return 101
        except WebSocketDisconnect as closed:
            return 401 if closed.code == 1008 else closed.code
    response: httpx.Response = client.request(case.method, case.url, headers=headers)
    return response.status_code


def problems(client: TestClient, app: FastAPI, tokens: dict[Role, str], public: set[str]) -> list[str]:
    """What is wrong with the guards of ``app``: an open route, a route answering without a credential, or one
    letting a lower role in. ``tokens`` holds a bearer secret of each role."""
    found = []
    for case in route_cases(app, public):
        if case.guard is None:
            found.append(f"{case.method} {case.template}: declares no guard")
            continue
        anonymous = status_of(client, case, {})
        if anonymous != 401:
            found.append(f"{case.method} {case.template}: {anonymous} without a credential, expected 401")
        for role in roles_below(case.guard):
            got = status_of(client, case, {"Authorization": f"Bearer {tokens[role]}"})
            expected = 401 if case.method == "WS" else 403  # a WebSocket refusal is one close code, 1008
            if got != expected:
                found.append(f"{case.method} {case.template}: {got} for a {role}, expected {expected}")
    return found
