"""The factory as a glTF 2.0 scene for external 3D clients (Unity, Blender, three.js...), served at layout.gltf.

One node per machine, named by machine id, at its floor position (metres) and heading, with a simple box or
cylinder mesh per profile (a built-in model's footprint, a primitive's own size and colour); the floor and each
production line's area as flat boxes. The file is JSON glTF with its one binary buffer embedded as a base64
data URI, so it is a single self-contained download.

Axes follow glTF (right-handed, +Y up, metres): layout x (east) is +X, layout y (north) is -Z, and the origin is
the floor's south-west corner, so a node's translation is ``[x, 0, -y]``. A layout heading of ``rotation``
degrees counter-clockwise seen from above is a rotation of the same angle about +Y. How a client binds live state
to the nodes is described in ``docs/GLTF.md``.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from factorytwin.api.footprints import DEFAULT_CONVEYOR_LENGTH_M, FOOTPRINTS, Footprint
from factorytwin.domain import FactoryLayout, Machine, MachineKind
from factorytwin.profiles.asset_bounds import Bounds
from factorytwin.profiles.model import (
    BUILTIN_MODELS,
    Appearance,
    BuiltinAppearance,
    GltfAppearance,
    PrimitiveAppearance,
)

GLTF_MEDIA_TYPE = "model/gltf+json"
AssetBounds = Callable[[str], Bounds | None]
"""Given an uploaded asset's id, its model's bounding box (or None)."""

# Component types and buffer targets of the glTF 2.0 specification.
_FLOAT = 5126
_UNSIGNED_SHORT = 5123
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963

CYLINDER_SEGMENTS = 20


FLOOR_COLOR = (0.01, 0.012, 0.016)
LINE_COLOR = (0.55, 0.32, 0.01)


def _box(w: float, h: float, d: float) -> tuple[list[float], list[float], list[int]]:
    """A box centred on the origin: 24 vertices (flat normals per face) and 36 indices."""
    x, y, z = w / 2, h / 2, d / 2
    faces = [  # normal, then four corners counter-clockwise seen from outside
        ((1, 0, 0), [(x, -y, z), (x, -y, -z), (x, y, -z), (x, y, z)]),
        ((-1, 0, 0), [(-x, -y, -z), (-x, -y, z), (-x, y, z), (-x, y, -z)]),
        ((0, 1, 0), [(-x, y, z), (x, y, z), (x, y, -z), (-x, y, -z)]),
        ((0, -1, 0), [(-x, -y, -z), (x, -y, -z), (x, -y, z), (-x, -y, z)]),
        ((0, 0, 1), [(-x, -y, z), (x, -y, z), (x, y, z), (-x, y, z)]),
        ((0, 0, -1), [(x, -y, -z), (-x, -y, -z), (-x, y, -z), (x, y, -z)]),
    ]
    positions: list[float] = []
    normals: list[float] = []
    indices: list[int] = []
    for i, (normal, corners) in enumerate(faces):
        for corner in corners:
            positions.extend(corner)
            normals.extend(normal)
        b = 4 * i
        indices.extend([b, b + 1, b + 2, b, b + 2, b + 3])
    return positions, normals, indices


def _cylinder(r: float, h: float, segments: int = CYLINDER_SEGMENTS) -> tuple[list[float], list[float], list[int]]:
    """A vertical cylinder centred on the origin: smooth side, flat caps."""
    positions: list[float] = []
    normals: list[float] = []
    indices: list[int] = []
    y = h / 2
    for i in range(segments + 1):  # side: a seam vertex pair at each angle
        a = 2 * math.pi * i / segments
        c, s = math.cos(a), math.sin(a)
        positions.extend([r * c, -y, -r * s, r * c, y, -r * s])
        normals.extend([c, 0.0, -s, c, 0.0, -s])
    for i in range(segments):
        b = 2 * i
        indices.extend([b, b + 2, b + 1, b + 1, b + 2, b + 3])
    for cap_y, ny in ((y, 1.0), (-y, -1.0)):
        centre = len(positions) // 3
        positions.extend([0.0, cap_y, 0.0])
        normals.extend([0.0, ny, 0.0])
        for i in range(segments):
            a = 2 * math.pi * i / segments
            positions.extend([r * math.cos(a), cap_y, -r * math.sin(a)])
            normals.extend([0.0, ny, 0.0])
        for i in range(segments):
            j = centre + 1 + i
            k = centre + 1 + (i + 1) % segments
            indices.extend([centre, j, k] if ny > 0 else [centre, k, j])
    return positions, normals, indices


@dataclass
class _Builder:
    """Accumulates meshes into one binary buffer and the glTF JSON arrays that index it."""

    data: bytearray = field(default_factory=bytearray)
    buffer_views: list[dict[str, Any]] = field(default_factory=list)
    accessors: list[dict[str, Any]] = field(default_factory=list)
    meshes: list[dict[str, Any]] = field(default_factory=list)
    materials: list[dict[str, Any]] = field(default_factory=list)

    def _view(self, payload: bytes, target: int) -> int:
        while len(self.data) % 4:  # every view starts 4-byte aligned
            self.data.append(0)
        self.buffer_views.append(
            {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(payload), "target": target}
        )
        self.data.extend(payload)
        return len(self.buffer_views) - 1

    def _vec3(self, values: list[float], with_bounds: bool) -> int:
        view = self._view(struct.pack(f"<{len(values)}f", *values), _ARRAY_BUFFER)
        accessor: dict[str, Any] = {"bufferView": view, "componentType": _FLOAT, "count": len(values) // 3}
        accessor["type"] = "VEC3"
        if with_bounds:  # POSITION accessors must carry min and max
            accessor["min"] = [min(values[i::3]) for i in range(3)]
            accessor["max"] = [max(values[i::3]) for i in range(3)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def material(self, name: str, rgb: tuple[float, float, float], roughness: float = 0.6) -> int:
        """A PBR material; returns its index."""
        self.materials.append(
            {
                "name": name,
                "pbrMetallicRoughness": {
                    "baseColorFactor": [*rgb, 1.0],
                    "metallicFactor": 0.2,
                    "roughnessFactor": roughness,
                },
            }
        )
        return len(self.materials) - 1

    def mesh(self, name: str, geometry: tuple[list[float], list[float], list[int]], material: int) -> int:
        """A one-primitive triangle mesh; returns its index."""
        positions, normals, indices = geometry
        pos = self._vec3(positions, with_bounds=True)
        nor = self._vec3(normals, with_bounds=False)
        view = self._view(struct.pack(f"<{len(indices)}H", *indices), _ELEMENT_ARRAY_BUFFER)
        self.accessors.append(
            {"bufferView": view, "componentType": _UNSIGNED_SHORT, "count": len(indices), "type": "SCALAR"}
        )
        primitive = {"attributes": {"POSITION": pos, "NORMAL": nor}, "indices": len(self.accessors) - 1}
        self.meshes.append({"name": name, "primitives": [{**primitive, "material": material, "mode": 4}]})
        return len(self.meshes) - 1


def _heading(degrees: float) -> list[float]:
    """Quaternion [x, y, z, w] of a rotation by ``degrees`` about +Y."""
    half = math.radians(degrees) / 2
    return [0.0, math.sin(half), 0.0, math.cos(half)]


def _conveyor_length(machine: Machine) -> float:
    try:
        length = float(machine.metadata.get("length_m", 0) or 0)
    except (TypeError, ValueError):
        length = 0.0
    return length if length > 0 else DEFAULT_CONVEYOR_LENGTH_M


def footprint_of(appearance: Appearance | None, asset_bounds: AssetBounds | None = None) -> Footprint:
    """The solid a profile's appearance stands for: a built-in model's footprint, a primitive's own size and
    colour, an uploaded model's bounding box (``asset_bounds`` gives it; a one-metre box when unknown); no known
    profile as a neutral one-metre box."""
    if isinstance(appearance, GltfAppearance):
        box = asset_bounds(appearance.asset_id) if asset_bounds is not None else None
        if box is None:
            return UNKNOWN_FOOTPRINT.model_copy(update={"asset": appearance.asset_id})
        w, h, d = (max(0.05, box[i + 3] - box[i]) for i in range(3))
        return Footprint(
            shape="box",
            width=w,
            depth=d,
            height=h,
            top=h + 0.3,
            ring_radius=max(w, d) * 0.75,
            color=UNKNOWN_FOOTPRINT.color,
            asset=appearance.asset_id,
        )
    if isinstance(appearance, BuiltinAppearance):
        return FOOTPRINTS[MachineKind(appearance.model)].model_copy(update={"model": appearance.model})
    if isinstance(appearance, PrimitiveAppearance):
        rgb = tuple(_srgb_to_linear(int(appearance.color[i : i + 2], 16) / 255) for i in (1, 3, 5))
        ring = max(appearance.width, appearance.depth) * 0.75
        return Footprint(
            shape=appearance.shape,
            width=appearance.width,
            depth=appearance.depth,
            height=appearance.height,
            top=appearance.height + 0.3,
            ring_radius=ring,
            color=(rgb[0], rgb[1], rgb[2]),
        )
    return UNKNOWN_FOOTPRINT


def _srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else float(((c + 0.055) / 1.055) ** 2.4)


UNKNOWN_FOOTPRINT = Footprint(
    shape="box", width=1.0, depth=1.0, height=1.0, top=1.3, ring_radius=0.9, color=(0.27, 0.29, 0.32)
)


def layout_to_gltf(
    layout: FactoryLayout,
    appearance_of: Callable[[str], Appearance | None] | None = None,
    asset_bounds: AssetBounds | None = None,
) -> dict[str, Any]:
    """The glTF 2.0 document (as JSON-ready dict) of ``layout``; see the module docstring for the axes.

    ``appearance_of`` gives a profile's appearance (by profile id); without it each machine is drawn as the
    built-in model named like its profile, if there is one. ``asset_bounds`` gives an uploaded model's bounding
    box, its stand-in (with ``asset_id`` in the machine node's extras)."""
    if appearance_of is None:
        appearance_of = _builtin_named
    b = _Builder()
    nodes: list[dict[str, Any]] = []

    floor_mat = b.material("floor", FLOOR_COLOR, roughness=0.95)
    floor_mesh = b.mesh("floor", _box(layout.floor_width, 0.02, layout.floor_depth), floor_mat)
    nodes.append(
        {"name": "floor", "mesh": floor_mesh, "translation": [layout.floor_width / 2, -0.01, -layout.floor_depth / 2]}
    )

    profile_materials: dict[str, int] = {}
    profile_meshes: dict[str, int] = {}
    line_mat = b.material("line-area", LINE_COLOR, roughness=0.9)
    for line in layout.lines:
        members = [m for m in layout.machines if m.line == line.id]
        if not members:
            continue
        x0, x1 = min(m.x for m in members) - 3, max(m.x for m in members) + 3
        y0, y1 = min(m.y for m in members) - 3, max(m.y for m in members) + 3
        mesh = b.mesh(f"line:{line.id}", _box(x1 - x0, 0.01, y1 - y0), line_mat)
        nodes.append(
            {
                "name": f"line:{line.id}",
                "mesh": mesh,
                "translation": [(x0 + x1) / 2, 0.005, -(y0 + y1) / 2],
                "extras": {"line_id": line.id, "name": line.name},
            }
        )

    for machine in layout.machines:
        appearance = appearance_of(machine.profile)
        shape = footprint_of(appearance, asset_bounds)
        w, h, d = shape.width, shape.height, shape.depth
        if machine.profile not in profile_materials:
            profile_materials[machine.profile] = b.material(machine.profile, shape.color)
        material = profile_materials[machine.profile]
        if isinstance(appearance, BuiltinAppearance) and appearance.model == MachineKind.CONVEYOR:
            # Each conveyor has its own length, so its own mesh.
            w = _conveyor_length(machine)
            mesh = b.mesh(f"{machine.id}:body", _box(w, h, d), material)
        elif machine.profile not in profile_meshes:
            geometry = _cylinder(w / 2, h) if shape.shape == "cylinder" else _box(w, h, d)
            profile_meshes[machine.profile] = mesh = b.mesh(machine.profile, geometry, material)
        else:
            mesh = profile_meshes[machine.profile]
        body = len(nodes)
        nodes.append({"name": f"{machine.id}:body", "mesh": mesh, "translation": [0.0, h / 2, 0.0]})
        nodes.append(
            {
                "name": machine.id,
                "translation": [machine.x, 0.0, -machine.y],
                "rotation": _heading(machine.rotation),
                "children": [body],
                "extras": {
                    "machine_id": machine.id,
                    "name": machine.name,
                    "profile": machine.profile,
                    "line": machine.line,
                    "metadata": machine.metadata,
                }
                | ({"asset_id": shape.asset} if shape.asset else {}),
            }
        )

    roots = [i for i, n in enumerate(nodes) if not n["name"].endswith(":body")]
    return {
        "asset": {"version": "2.0", "generator": "factorytwin layout.gltf"},
        "scene": 0,
        "scenes": [
            {
                "name": layout.name,
                "nodes": roots,
                "extras": {
                    "floor_width": layout.floor_width,
                    "floor_depth": layout.floor_depth,
                    "units": "metres",
                    "stream": "/api/v1/stream",
                },
            }
        ],
        "nodes": nodes,
        "meshes": b.meshes,
        "materials": b.materials,
        "accessors": b.accessors,
        "bufferViews": b.buffer_views,
        "buffers": [
            {
                "byteLength": len(b.data),
                "uri": "data:application/octet-stream;base64," + base64.b64encode(bytes(b.data)).decode("ascii"),
            }
        ],
    }


def _builtin_named(profile_id: str) -> Appearance | None:
    return BuiltinAppearance(kind="builtin", model=profile_id) if profile_id in BUILTIN_MODELS else None
