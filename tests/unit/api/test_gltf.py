"""GET /layout.gltf: a valid, self-contained glTF 2.0 scene with one node per machine named by its id."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx

from factorytwin.api.gltf import GLTF_MEDIA_TYPE, layout_to_gltf
from factorytwin.domain import FactoryLayout, Machine, MachineKind, ProductionLine
from factorytwin.layout import load_layout

_COMPONENT_SIZE = {5126: 4, 5123: 2}
_TYPE_COUNT = {"SCALAR": 1, "VEC3": 3}


def _buffer(doc: dict[str, Any]) -> bytes:
    uri = doc["buffers"][0]["uri"]
    prefix = "data:application/octet-stream;base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix) :])


def _read(doc: dict[str, Any], data: bytes, accessor_index: int) -> list[float]:
    acc = doc["accessors"][accessor_index]
    view = doc["bufferViews"][acc["bufferView"]]
    n = acc["count"] * _TYPE_COUNT[acc["type"]]
    fmt = "f" if acc["componentType"] == 5126 else "H"
    size = n * _COMPONENT_SIZE[acc["componentType"]]
    assert size <= view["byteLength"]
    assert view["byteOffset"] % 4 == 0
    return list(struct.unpack_from(f"<{n}{fmt}", data, view["byteOffset"]))


def test_every_machine_is_a_node_named_by_id_at_its_floor_position() -> None:
    layout = load_layout()
    doc = layout_to_gltf(layout)
    nodes = {n["name"]: n for n in doc["nodes"]}
    for m in layout.machines:
        node = nodes[m.id]
        assert node["translation"] == [m.x, 0.0, -m.y]
        assert node["extras"]["profile"] == m.profile
        x, y, z, w = node["rotation"]
        assert math.isclose(x * x + y * y + z * z + w * w, 1.0)
    roots = {doc["nodes"][i]["name"] for i in doc["scenes"][0]["nodes"]}
    assert {m.id for m in layout.machines} <= roots
    assert "floor" in roots


def test_buffers_accessors_and_indices_are_consistent() -> None:
    doc = layout_to_gltf(load_layout())
    assert doc["asset"]["version"] == "2.0"
    data = _buffer(doc)
    assert len(data) == doc["buffers"][0]["byteLength"]
    for view in doc["bufferViews"]:
        assert view["byteOffset"] + view["byteLength"] <= len(data)
    for mesh in doc["meshes"]:
        prim = mesh["primitives"][0]
        pos_acc = doc["accessors"][prim["attributes"]["POSITION"]]
        positions = _read(doc, data, prim["attributes"]["POSITION"])
        for axis in range(3):
            assert math.isclose(min(positions[axis::3]), pos_acc["min"][axis], rel_tol=1e-6, abs_tol=1e-6)
            assert math.isclose(max(positions[axis::3]), pos_acc["max"][axis], rel_tol=1e-6, abs_tol=1e-6)
        normals = _read(doc, data, prim["attributes"]["NORMAL"])
        for i in range(0, len(normals), 3):
            assert math.isclose(math.hypot(*normals[i : i + 3]), 1.0, rel_tol=1e-5)
        indices = _read(doc, data, prim["indices"])
        assert len(indices) % 3 == 0
        assert max(indices) < pos_acc["count"]
        assert 0 <= prim["material"] < len(doc["materials"])


def test_a_conveyor_mesh_is_as_long_as_its_layout_says() -> None:
    layout = FactoryLayout(
        name="t",
        lines=[ProductionLine(id="l", name="L")],
        machines=[
            Machine(
                id="belt", name="Belt", profile=MachineKind.CONVEYOR, line="l", x=5, y=5, metadata={"length_m": 17}
            ),
            Machine(id="arm", name="Arm", profile=MachineKind.ROBOT_ARM, line="l", x=1, y=2, rotation=90),
        ],
    )
    doc = layout_to_gltf(layout)
    body = next(n for n in doc["nodes"] if n["name"] == "belt:body")
    acc = doc["accessors"][doc["meshes"][body["mesh"]]["primitives"][0]["attributes"]["POSITION"]]
    assert math.isclose(acc["max"][0] - acc["min"][0], 17.0)
    arm = next(n for n in doc["nodes"] if n["name"] == "arm")
    assert arm["rotation"] == [0.0, math.sin(math.pi / 4), 0.0, math.cos(math.pi / 4)]


async def test_the_endpoint_serves_gltf_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/layout.gltf")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(GLTF_MEDIA_TYPE)
    doc = r.json()
    assert doc["asset"]["version"] == "2.0"
    assert any(n["name"] == "mill-01" for n in doc["nodes"])
