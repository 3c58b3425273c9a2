"""A cap on every request body, counted as it arrives: declared (``Content-Length``) or chunked, never buffered.

FastAPI reads a JSON body whole before validating it, and nothing else bounds it: without a cap, one request may
make the server hold as many bytes as the client sends (and several times that once parsed). ``BodyLimit`` is pure
ASGI middleware: a request whose ``Content-Length`` is over the cap is answered 413 before the app runs; a body
without one (``Transfer-Encoding: chunked``) is counted chunk by chunk as the app reads it, and the chunk that
passes the cap ends it with 413 — the app's own answer to the broken read is replaced.

``POST /api/v1/telemetry`` has its own, larger cap (``FT_MAX_BODY_BYTES``: a batch of the largest size the API
accepts); every other request has ``FT_MAX_REQUEST_BYTES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _Exceeded(Exception):
    """Raised into the app from ``receive`` when the body passes the cap."""


def too_large_body(limit: int) -> bytes:
    """The 413 answer's body: the error shape of every answer (``api.errors``), naming the body and the cap."""
    msg = f"request body is larger than {limit} bytes"
    return json.dumps({"detail": [{"loc": ["body"], "msg": msg, "input": None}]}).encode()


class BodyLimit:
    """413 for a request body over ``limit_for(path)`` bytes (read at each request, so a settings change holds)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting ``receive``; answer 413 instead once it passes the cap."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer_413(send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _Exceeded
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the app answers to the broken read (400, 500), the answer is the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _answer_413(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _answer_413(send: Send, limit: int) -> None:
    body = too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
