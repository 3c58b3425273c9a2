"""Security headers on every HTTP answer: a strict Content-Security-Policy for the dashboard, no framing, no sniffing.

The dashboard is built by Vite into files served from this origin, so the policy allows scripts from ``'self'``
only (no inline scripts, no ``eval``); the live stream needs ``connect-src`` to reach this origin's WebSocket.
The interactive API docs (``/docs``, ``/redoc``) are served from this origin with the same CSP (``docs.py``); only
when the dashboard is not built do they fall back to FastAPI's CDN pages with an inline bootstrap script, which get
the other headers but not the CSP (``csp_exempt``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Inline styles stay allowed: the 3-D view, charts and ReDoc set element styles; scripts are the dangerous part.
ReDoc searches in a Web Worker it starts from a blob URL."""
DOCS_PATHS = ("/docs", "/redoc")
BASE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Pure ASGI middleware (it does not buffer bodies, so streaming answers stay streaming)."""

    def __init__(self, app: ASGIApp, csp: str = DASHBOARD_CSP, csp_exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.csp = csp.encode()
        self.csp_exempt = csp_exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the start of every HTTP response; pass everything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = list(BASE_HEADERS)
        if not (self.csp_exempt and path.startswith(self.csp_exempt)):
            extra.append((b"content-security-policy", self.csp))
        if path.startswith("/api/v1/auth"):  # answers that carry session material are never cached
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
