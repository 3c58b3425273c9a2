"""WebSocket /stream: the live twin pushed to browsers; and the twin's start-up hook for the app.

Protocol (``docs/WEBSOCKET.md``): the server sends a ``snapshot`` first, then typed JSON updates, coalesced per
machine. The client may send ``{"type": "subscribe", "machines": [...]}`` at any time (``null``: all machines);
``?machines=a,b`` on the URL subscribes from the start. A client too slow to keep up is disconnected with close
code 1013 (try again later) rather than slowing the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from factorytwin.api.deps import Services
from factorytwin.ingest.mqtt import MqttIngest
from factorytwin.twin.messages import ErrorMessage, SubscribeRequest
from factorytwin.twin.service import TwinService
from factorytwin.twin.stream import DROPPED, StreamClient

router = APIRouter(tags=["stream"])

CLOSE_TOO_SLOW = 1013
TOO_SLOW = "too slow: message queue overflowed"


@asynccontextmanager
async def twin_lifespan(services: Services) -> AsyncIterator[None]:
    """Start the live twin (and, with ``mqtt_url`` set, the MQTT ingest subscriber); stop them at shutdown."""
    settings = services.settings
    twin = TwinService(settings, services.store)
    await twin.start()
    services.twin = twin
    services.ingest.add_listener(twin.on_ingested)

    def machine_state(machine_id: str) -> dict[str, Any] | None:
        state = twin.machine_state(machine_id)
        return state.model_dump(mode="json") if state is not None else None

    services.machine_state = machine_state
    services.health_sections["twin"] = twin.health_section
    mqtt: MqttIngest | None = None
    try:
        if settings.mqtt_url:
            mqtt = MqttIngest.from_settings(settings, services.ingest)
            await mqtt.start()
            services.mqtt_ingest = mqtt
            services.health_sections["mqtt"] = mqtt.health_section
        yield
    finally:
        if mqtt is not None:
            await mqtt.stop()
        await twin.stop()


def _machine_filter(raw: list[str] | None, services: Services) -> tuple[set[str] | None, list[str]]:
    """The subscription set and the unknown ids in it."""
    if raw is None:
        return None, []
    wanted = {m.strip() for m in raw if m.strip()}
    return wanted, sorted(wanted - services.machines.keys())


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """The live stream of machine states, readings, alarms and events (see docs/WEBSOCKET.md)."""
    services: Services = websocket.app.state.services
    twin = services.twin
    await websocket.accept()
    if twin is None:
        await websocket.close(code=1011, reason="the live twin is not running")
        return
    query = websocket.query_params.get("machines")
    machines, unknown = _machine_filter(query.split(",") if query else None, services)
    client = twin.hub.connect(machines)
    if unknown:
        twin.hub.offer(client, ErrorMessage(detail=f"machines: unknown machine ids {unknown}").model_dump_json())
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
        text = await client.queue.get()
        if text is DROPPED:
            await websocket.close(code=CLOSE_TOO_SLOW, reason=TOO_SLOW)
            return
        await websocket.send_text(text)


async def _receive(websocket: WebSocket, client: StreamClient, twin: TwinService, services: Services) -> None:
    while True:
        text = await websocket.receive_text()
        try:
            request = SubscribeRequest.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(message)"
            detail = f'{where}: {first["msg"]}; send {{"type": "subscribe", "machines": [...] or null}}'
            twin.hub.offer(client, ErrorMessage(detail=detail).model_dump_json())
            continue
        machines, unknown = _machine_filter(request.machines, services)
        if unknown:
            twin.hub.offer(client, ErrorMessage(detail=f"machines: unknown machine ids {unknown}").model_dump_json())
        twin.hub.resubscribe(client, machines)
