"""Map factorytwin's exceptions to HTTP answers: 4xx naming the offending field, never a 500 for bad input.

Every error body has the shape ``{"detail": [{"loc": [...], "msg": "...", "input": ...}]}``. Failures of the
server's side are 503: ``Overloaded`` and ``StoreUnavailable`` with ``Retry-After`` (retrying helps),
``ServiceUnavailable`` (the twin or the predictor is not running) without.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from factorytwin.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    Overloaded,
    ServiceUnavailable,
    StoreRejected,
    StoreUnavailable,
)

RETRY_AFTER_S = 1
FASTAPI_BODY_ERROR = "There was an error parsing the body"
"""FastAPI's 400 for a JSON body it cannot decode (not UTF-8), answered here as the 422 of any bad body."""


class Problem(BaseModel):
    """One item of an error body: where (a path of keys and indexes) and what."""

    loc: list[str | int]
    msg: str
    input: object = None


class ErrorBody(BaseModel):
    """The body of every error answer (4xx, 503)."""

    detail: list[Problem]


class BodyTooLarge(Exception):
    """A request body over the configured cap (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than {limit} bytes; send smaller batches")
        self.limit = limit


def _shown(value: object) -> object:
    """Inputs echoed back only when small: a scalar, or a string cut to 200 characters."""
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "..."
    if value is None or isinstance(value, bool | int | float):
        return value
    return None


def problem_json(problem: FieldProblem) -> dict[str, Any]:
    """One problem as an item of ``detail``."""
    return {"loc": list(problem.loc), "msg": problem.msg, "input": _shown(problem.value)}


def problems_from_validation(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[FieldProblem]:
    """Pydantic's errors as ``FieldProblem``s, their ``loc`` prefixed."""
    # An error of the whole body (invalid JSON, an empty batch) has an empty loc: name the body.
    return [
        FieldProblem((*prefix, *e["loc"]) or ("body",), e["msg"], e.get("input")) for e in exc.errors(include_url=False)
    ]


def _detail(status: int, loc: list[str | int], msg: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc, "msg": msg}]}, status_code=status, headers=headers)


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    return JSONResponse({"detail": [problem_json(p) for p in exc.problems]}, status_code=422)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return JSONResponse({"detail": [problem_json(p) for p in problems_from_validation(exc)]}, status_code=422)


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return _detail(404, [], str(exc))


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Conflict)
    return _detail(409, list(exc.loc), str(exc))


async def _overloaded(_: Request, exc: Exception) -> JSONResponse:
    return _detail(503, [], str(exc), headers={"Retry-After": str(RETRY_AFTER_S)})


async def _store_rejected(_: Request, exc: Exception) -> JSONResponse:
    return _detail(422, ["body"], str(exc))


async def _store_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return _detail(503, [], str(exc), headers={"Retry-After": str(RETRY_AFTER_S)})


async def _service_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return _detail(503, [], str(exc))


async def _too_large(_: Request, exc: Exception) -> JSONResponse:
    return _detail(413, ["body"], str(exc))


def allowed_methods(request: Request) -> list[str]:
    """Every method some API route of the app serves at the request's path, sorted."""
    path = request.url.path
    literal: set[str] = set()
    templated: set[str] = set()
    # iter_route_contexts flattens the included routers with their prefixes (app.routes holds them nested).
    for context in iter_route_contexts(request.app.routes):
        if context.path is None or not getattr(context.original_route, "include_in_schema", True):
            continue  # the dashboard's catch-all GET is no API method
        regex, _, params = compile_path(context.path)
        if regex.match(path):
            (templated if params else literal).update(context.methods or ())
    # A literal path (POST /profiles/import/dtdl) is its own resource, not an instance of a template it also
    # matches (GET /profiles/{profile_id}/dtdl): its methods are its own routes'.
    return sorted(literal or templated)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        # Starlette answers with the methods of the first route whose path matched; a path served by several
        # routes (GET and POST /profiles) takes the methods of all of them.
        allowed = allowed_methods(request)
        msg = f"{request.url.path} does not take {request.method}; it takes {', '.join(allowed)}"
        return _detail(405, ["method"], msg, headers={"Allow": ", ".join(allowed)})
    if exc.status_code == 400 and exc.detail == FASTAPI_BODY_ERROR:
        # FastAPI's "There was an error parsing the body" (a body that is not UTF-8 JSON): the same 422 naming
        # the body as any other undecodable body, so every route documents one answer for it
        return _detail(422, ["body"], "the body is not valid JSON (UTF-8)")
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of factorytwin's exceptions on ``app``."""
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(InvalidInput, _invalid)
    app.add_exception_handler(ValidationError, _validation)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(Overloaded, _overloaded)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(StoreRejected, _store_rejected)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(ServiceUnavailable, _service_unavailable)
