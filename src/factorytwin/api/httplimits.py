"""A bound on request heads for uvicorn's httptools protocol: total size of the request line + headers, and count.

llhttp (under httptools) has no limit of its own: it buffers an unfinished header line for as long as bytes come,
so one endless header holds as much memory as the client sends (a 16 MB header got 200, ten endless 100 MB headers
took 1.1 GB). h11 does bound its buffer (``h11_max_incomplete_event_size``) but parses in pure Python, several
times slower per request on the ingest path; so the httptools protocol is kept and bounded here.

A head over ``max_head_bytes`` or with more than ``max_headers`` header lines is answered
``431 Request Header Fields Too Large`` and the connection is closed. Bytes are counted per ``data_received`` chunk
while a head is open, so the buffer held for one request is at most the bound plus one socket read.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_MAX_HEADERS = 100


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head over the bounds."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on each request head (see the module docstring)."""

    max_head_bytes: ClassVar[int] = 64 * 1024
    max_headers: ClassVar[int] = DEFAULT_MAX_HEADERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # a connection starts with a head
        self._head_bytes = 0
        self._header_count = 0

    def on_message_begin(self) -> None:
        """A new request: its head starts now."""
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header line; more than ``max_headers`` of them stop the parse."""
        self._header_count += 1
        if self._header_count > self.max_headers:
            raise _HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is complete: what follows is body, not counted."""
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        """Feed the parser; refuse the request (431, close) once its head passes a bound."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._refuse_head()
                return
            self._invalid()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse_head()

    def _invalid(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _refuse_head(self) -> None:
        self._in_head = False
        if self.transport.is_closing():
            return
        body = (
            f"request head too large: at most {self.max_head_bytes} bytes and {self.max_headers} header lines\n"
        ).encode()
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def bounded_protocol(max_head_bytes: int, max_headers: int = DEFAULT_MAX_HEADERS) -> type[BoundedHttpToolsProtocol]:
    """A ``BoundedHttpToolsProtocol`` class with these bounds (uvicorn takes a class, so the bounds live on it)."""
    return type(
        "BoundedHttpToolsProtocol",
        (BoundedHttpToolsProtocol,),
        {"max_head_bytes": max_head_bytes, "max_headers": max_headers},
    )
