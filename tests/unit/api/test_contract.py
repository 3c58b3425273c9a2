"""The typed contract: the stream's message unions in the OpenAPI document, typed REST answers."""

from __future__ import annotations

import typing
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from factorytwin.api.app import create_app
from factorytwin.api.errors import ErrorBody
from factorytwin.api.footprints import FOOTPRINTS
from factorytwin.config import Settings
from factorytwin.domain import MachineKind
from factorytwin.twin import messages
from tests.credentials import bearer_sync


def _document(settings: Settings) -> dict[str, Any]:
    app: FastAPI = create_app(settings)
    return app.openapi()


def _tags(union: object) -> set[str]:
    """The ``type`` literal of every member of an annotated discriminated union."""
    members = typing.get_args(typing.get_args(union)[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}


def test_every_server_message_type_is_in_the_union_schema(settings: Settings) -> None:
    schemas = _document(settings)["components"]["schemas"]
    union = schemas["ServerMessage"]
    assert union["discriminator"]["propertyName"] == "type"
    mapping = union["discriminator"]["mapping"]
    expected = {"snapshot", "reading", "state", "alarm", "event", "prediction", "command", "machine_changed", "error"}
    assert set(mapping) == expected == _tags(messages.ServerMessage)
    for ref in mapping.values():
        name = ref.rsplit("/", 1)[-1]
        assert "type" in schemas[name]["required"], name  # always sent, so never optional for the browser


def test_client_messages_are_in_the_document(settings: Settings) -> None:
    schemas = _document(settings)["components"]["schemas"]
    assert set(schemas["ClientMessage"]["discriminator"]["mapping"]) == {"subscribe"}
    machines = schemas["SubscribeRequest"]["properties"]["machines"]["anyOf"][0]
    assert machines["maxItems"] == messages.MAX_SUBSCRIBED_MACHINES


def test_a_prediction_crosses_as_one_model_without_a_copied_probability(settings: Settings) -> None:
    schemas = _document(settings)["components"]["schemas"]
    message = schemas["PredictionMessage"]["properties"]
    assert message["prediction"] == {"$ref": "#/components/schemas/Prediction"}
    assert "failure_probability" not in schemas["Prediction"]["properties"]


def test_live_state_and_catalogue_are_typed(settings: Settings) -> None:
    doc = _document(settings)
    schemas = doc["components"]["schemas"]
    state = schemas["MachineView"]["properties"]["state"]["anyOf"]
    assert {"$ref": "#/components/schemas/MachineState"} in state
    catalogue = doc["paths"]["/api/v1/catalogue"]["get"]["responses"]["200"]["content"]["application/json"]
    assert catalogue["schema"]["additionalProperties"]["items"] == {"$ref": "#/components/schemas/SensorSpec"}
    command = doc["paths"]["/api/v1/machines/{machine_id}/commands"]["post"]["responses"]
    assert command["202"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CommandResult"}
    assert "503" in command


def test_the_layout_serves_one_footprint_per_kind(settings: Settings) -> None:
    assert set(FOOTPRINTS) == set(MachineKind)
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/v1/layout", headers=bearer_sync(client)).json()
    assert set(body["footprints"]) == {k.value for k in MachineKind}
    assert body["footprints"]["pump"]["shape"] == "cylinder"
    assert body["footprints"]["conveyor"]["ring_radius"] == 0


def test_every_422_is_documented_as_the_error_body_the_app_sends(settings: Settings) -> None:
    doc = _document(settings)
    refs = [
        op["responses"]["422"]["content"]["application/json"]["schema"]
        for path in doc["paths"].values()
        for op in path.values()
        if "422" in op.get("responses", {})
    ]
    assert refs
    assert all(ref == {"$ref": "#/components/schemas/ErrorBody"} for ref in refs)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    with TestClient(create_app(settings)) as client:
        answer = client.post("/api/v1/machines/mill-01/commands", json={"command": "fly"}, headers=bearer_sync(client))
    assert answer.status_code == 422
    assert ErrorBody.model_validate(answer.json()).detail[0].loc == ["body", "command"]
