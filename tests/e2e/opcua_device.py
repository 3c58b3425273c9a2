"""A real OPC UA server for the browser tests: an asyncua ``Server`` in a thread of its own (the browser tests are
synchronous, and Playwright holds the main thread's event loop), with one object of Double variables."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from asyncua.server.server import Server

from tests.integration.connectors.conftest import free_port

NAMESPACE = "urn:factorytwin:e2e-plc"


@contextmanager
def opcua_device(object_name: str, values: dict[str, float]) -> Iterator[tuple[str, dict[str, str]]]:
    """Serve ``object_name`` with a Double variable per entry of ``values``; yield the endpoint and the variables'
    node ids (by name). Stopped on exit."""
    port = free_port()
    endpoint = f"opc.tcp://127.0.0.1:{port}/e2e/"
    loop = asyncio.new_event_loop()
    started = threading.Event()
    node_ids: dict[str, str] = {}
    failure: list[BaseException] = []
    server = Server()

    async def serve() -> None:
        await server.init()
        server.set_endpoint(endpoint)
        idx = await server.register_namespace(NAMESPACE)
        obj = await server.nodes.objects.add_object(f"ns={idx};s={object_name}", object_name)
        for name, value in values.items():
            var = await obj.add_variable(f"ns={idx};s={object_name}.{name}", f"{idx}:{name}", value)
            node_ids[name] = var.nodeid.to_string()
        await server.start()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # handed to the test below
            failure.append(exc)
        started.set()
        if not failure:
            loop.run_forever()

    thread = threading.Thread(target=run, name="e2e-opcua", daemon=True)
    thread.start()
    started.wait(30)
    if failure:
        raise failure[0]
    try:
        yield endpoint, node_ids
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
