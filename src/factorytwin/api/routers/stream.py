"""WebSocket /stream: the live twin pushed to browsers.

Protocol (``docs/WEBSOCKET.md``; the messages are ``twin.messages.ServerMessage`` and ``ClientMessage``): the
server sends a ``snapshot`` first, then typed JSON updates, coalesced per machine. The client may send
``{"type": "subscribe", "machines": [...]}`` at any time (``null``: all machines); ``?machines=a,b`` on the URL
subscribes from the start; ``?batch=true`` has what is waiting for the client sent as one ``batch`` message
(several messages per frame, for clients of many machines). Anything else a client sends (a binary frame, invalid
JSON, an unknown type, too many ids) is answered with one ``error`` message and the connection stays open. Close
codes: 1011 when the live twin is not running, 1013 (try again later) for a client too slow to keep up, rather than
slowing the others.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import Services, services_of
from factorytwin.errors import ServiceUnavailable
from factorytwin.twin.messages import CLIENT_MESSAGES, MAX_SUBSCRIBED_MACHINES, ClientMessage, ErrorMessage
from factorytwin.twin.service import TwinService
from factorytwin.twin.stream import DROPPED, StreamClient, TooManySubscriptions

router = APIRouter(tags=["stream"])

CLOSE_SERVICE_UNAVAILABLE = 1011
"""Close code when the live twin is not running (RFC 6455: the server cannot fulfil the request)."""
CLOSE_TOO_SLOW = 1013
TOO_SLOW = "too slow: message queue overflowed"
UNKNOWN_IDS_SHOWN = 10
"""Unknown machine ids named in an ``error`` message; the rest are counted, never echoed back in full."""
USAGE = 'send {"type": "subscribe", "machines": [...] or null}'


def _error(detail: str) -> str:
    return ErrorMessage(detail=detail).model_dump_json()


def _known(raw: list[str] | None, services: Services) -> tuple[set[str] | None, str | None]:
    """The subscription set (known machines only) and an error text naming unknown ids, if there were any."""
    if raw is None:
        return None, None
    wanted = {m.strip() for m in raw if m.strip()}
    known = wanted & services.machines.keys()
    unknown = sorted(wanted - known)
    if not unknown:
        return known, None
    shown = ", ".join(repr(m) for m in unknown[:UNKNOWN_IDS_SHOWN])
    more = f" and {len(unknown) - UNKNOWN_IDS_SHOWN} more" if len(unknown) > UNKNOWN_IDS_SHOWN else ""
    return known, f"machines: unknown machine ids {shown}{more} (not subscribed)"


def _query_subscription(websocket: WebSocket) -> tuple[list[str] | None, str | None]:
    """``?machines=a,b`` as a list of ids (None: all), or an error text when it names too many."""
    query = websocket.query_params.get("machines")
    if not query:
        return None, None
    ids = query.split(",")
    if len(ids) > MAX_SUBSCRIBED_MACHINES:
        return [], f"machines: at most {MAX_SUBSCRIBED_MACHINES} machine ids, not {len(ids)}"
    return ids, None


def _query_batch(websocket: WebSocket) -> tuple[bool, str | None]:
    """``?batch=true``: the client takes several messages per frame (``batch``); an error text for other values."""
    query = websocket.query_params.get("batch")
    if query is None or query in ("false", "0"):
        return False, None
    if query in ("true", "1"):
        return True, None
    return False, f"batch: {query[:20]!r} is not one of true, false, 1, 0 (messages are sent one per frame)"


@router.websocket("/stream")
async def stream(who: Viewer, websocket: WebSocket) -> None:
    """The live stream of machine states, readings, alarms and events (see docs/WEBSOCKET.md).

    Authenticated at connect (the dashboard's session cookie, or ``Authorization: Bearer``); without a viewer's
    credential the connection is closed with 1008 before it is accepted."""
    services = services_of(websocket)
    await websocket.accept()
    try:
        twin = services.require_twin()
    except ServiceUnavailable as exc:
        await websocket.close(code=CLOSE_SERVICE_UNAVAILABLE, reason=str(exc))
        return
    ids, problem = _query_subscription(websocket)
    batch, bad_batch = _query_batch(websocket)
    machines, unknown = _known(ids, services)
    try:
        client = twin.hub.connect(machines, batch=batch)
    except TooManySubscriptions as exc:  # more known machines than FT_STREAM_MAX_SUBSCRIPTIONS
        await websocket.send_text(_error(str(exc)))
        await websocket.close(code=1008, reason="too many machines in the subscription")
        return
    for text in (problem, unknown, bad_batch):
        if text is not None:
            twin.hub.offer(client, _error(text))
    sender = asyncio.create_task(_send(websocket, client))
    receiver = asyncio.create_task(_receive(websocket, client, twin, services))
    dropped = asyncio.create_task(client.dropped_event.wait())
    stuck = False
    try:
        await asyncio.wait((sender, receiver, dropped), return_when=asyncio.FIRST_COMPLETED)
        stuck = dropped.done() and not sender.done()
    finally:
        twin.hub.disconnect(client)
        for task in (sender, receiver, dropped):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
    if stuck:
        # The sender was stuck writing to a client that does not read: close without waiting on it for long.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code=CLOSE_TOO_SLOW, reason=TOO_SLOW), timeout=1.0)


async def _send(websocket: WebSocket, client: StreamClient) -> None:
    while True:
        text = await client.get()
        if text is DROPPED:
            await websocket.close(code=CLOSE_TOO_SLOW, reason=TOO_SLOW)
            return
        await websocket.send_text(text)


def parse_client_message(frame: str | bytes | None) -> ClientMessage | str:
    """A client's frame as a typed message, or the text of the ``error`` message that answers it."""
    if not isinstance(frame, str):
        return f"binary frames are not understood; {USAGE}"
    try:
        return CLIENT_MESSAGES.validate_json(frame)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(message)"
        return f"{where}: {first['msg']}; {USAGE}"


async def _receive(websocket: WebSocket, client: StreamClient, twin: TwinService, services: Services) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        request = parse_client_message(message.get("text") if message.get("text") is not None else message.get("bytes"))
        if isinstance(request, str):
            twin.hub.offer(client, _error(request))
            continue
        machines, unknown = _known(request.machines, services)
        if unknown is not None:
            twin.hub.offer(client, _error(unknown))
        try:
            twin.hub.resubscribe(client, machines)
        except TooManySubscriptions as exc:  # the old subscription stays
            twin.hub.offer(client, _error(str(exc)))
