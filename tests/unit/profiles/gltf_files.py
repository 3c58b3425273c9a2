"""Builders of small glTF 2.0 files for the asset tests: a GLB box (a real mesh three.js draws), and broken ones."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

# A unit box's 8 corners and its 12 triangles (the mesh is centred on the origin, 1 m a side).
_CORNERS = [(x, y, z) for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)]
_TRIANGLES = [
    (0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
    (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3),
]  # fmt: skip


def box_doc(
    size: tuple[float, float, float] = (1.2, 2.0, 1.2), color: tuple[float, float, float] = (0.1, 0.6, 0.9)
) -> tuple[dict[str, Any], bytes]:
    """A glTF document with one box mesh of ``size`` metres (standing on y = 0) and its binary buffer."""
    w, h, d = size
    points = [(x * w, y * h + h / 2, z * d) for x, y, z in _CORNERS]
    positions = b"".join(struct.pack("<3f", *p) for p in points)
    indices = b"".join(struct.pack("<3H", *t) for t in _TRIANGLES)
    indices += b"\x00" * (-len(indices) % 4)
    data = positions + indices
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "factorytwin tests"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "tank"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [*color, 1.0], "metallicFactor": 0.2}}],
        "buffers": [{"byteLength": len(data)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(positions), "target": 34962},
            {"buffer": 0, "byteOffset": len(positions), "byteLength": 36 * 2, "target": 34963},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 8,
                "type": "VEC3",
                "min": [-w / 2, 0.0, -d / 2],
                "max": [w / 2, h, d / 2],
            },
            {"bufferView": 1, "componentType": 5123, "count": 36, "type": "SCALAR"},
        ],
    }
    return doc, data


def glb(doc: dict[str, Any], binary: bytes | None = None, version: int = 2) -> bytes:
    """``doc`` (and ``binary``) as a GLB container."""
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text
    if binary is not None:
        binary += b"\x00" * (-len(binary) % 4)
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<III", 0x46546C67, version, 12 + len(chunks)) + chunks


def box_glb(**kwargs: Any) -> bytes:
    """A valid GLB of a coloured box."""
    doc, data = box_doc(**kwargs)
    return glb(doc, data)


def box_gltf_json() -> bytes:
    """A valid, self-contained glTF JSON of the box (its buffer as a data: URI)."""
    doc, data = box_doc()
    doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    return json.dumps(doc).encode()
