"""``TwinDep`` / ``PredictorDep``: a service that is not running is a 503 everywhere (1011 on the WebSocket);
store errors are translated (503 + Retry-After, 422)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from factorytwin.api import lifespan as lifespan_module
from factorytwin.api.app import create_app
from factorytwin.api.errors import install_error_handlers
from factorytwin.api.routers.stream import CLOSE_SERVICE_UNAVAILABLE
from factorytwin.config import Settings
from factorytwin.errors import StoreRejected, StoreUnavailable
from tests.credentials import bearer, bearer_sync


@pytest.fixture
def bare_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The app with no start-up hooks: store and ingest run, the twin and the predictor do not."""
    monkeypatch.setattr(lifespan_module, "SERVICE_HOOKS", [])
    return create_app(settings)


@pytest.fixture
async def bare_client(bare_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with bare_app.router.lifespan_context(bare_app):
        transport = httpx.ASGITransport(app=bare_app)
        headers = await bearer(bare_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as c:
            yield c


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/alarms/1/ack", None),
        ("POST", "/api/v1/alarms/1/clear", None),
        ("POST", "/api/v1/machines/mill-01/commands", {"command": "stop"}),
        ("GET", "/api/v1/machines/mill-01/prediction", None),
        ("GET", "/api/v1/maintenance/schedule", None),
        ("GET", "/api/v1/models", None),
        ("POST", "/api/v1/models/train", {}),
    ],
)
async def test_a_route_whose_service_is_not_running_answers_503(
    bare_client: httpx.AsyncClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await bare_client.request(method, path, json=body)
    assert response.status_code == 503, response.text
    (problem,) = response.json()["detail"]
    assert "not running" in problem["msg"]


async def test_read_routes_still_answer_without_the_twin(bare_client: httpx.AsyncClient) -> None:
    response = await bare_client.get("/api/v1/machines")
    assert response.status_code == 200
    assert all(m["state"] is None for m in response.json())


def test_the_stream_closes_with_1011_when_the_twin_is_not_running(bare_app: FastAPI) -> None:
    with TestClient(bare_app) as client, client.websocket_connect("/api/v1/stream", headers=bearer_sync(client)) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == CLOSE_SERVICE_UNAVAILABLE == 1011


@pytest.fixture
def failing_store_app() -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    async def down() -> None:
        raise StoreUnavailable("connection refused")

    @app.get("/rejected")
    async def rejected() -> None:
        raise StoreRejected("a NUL character in events[0].message")

    with TestClient(app) as client:
        yield client


def test_store_unavailable_is_503_with_retry_after(failing_store_app: TestClient) -> None:
    response = failing_store_app.get("/down")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "connection refused" in response.json()["detail"][0]["msg"]


def test_store_rejected_is_422_naming_the_body(failing_store_app: TestClient) -> None:
    response = failing_store_app.get("/rejected")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body"]
    assert "NUL" in problem["msg"]
