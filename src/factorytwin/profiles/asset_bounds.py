"""The bounding box of a glTF 2.0 scene, from its accessors' ``min``/``max`` and its nodes' transforms.

glTF requires ``min``/``max`` on every POSITION accessor, so no buffer is decoded: each primitive's box is
transformed by its node's world matrix (8 corners) and the boxes are joined. The floor and the glTF export use it
to give an uploaded model its size (metres, in the model's own axes: +Y up).
"""

from __future__ import annotations

import itertools
from typing import Any

Matrix = list[list[float]]
Bounds = tuple[float, float, float, float, float, float]
"""``(min_x, min_y, min_z, max_x, max_y, max_z)`` metres."""
_MAX_DEPTH = 64


def _mul(a: Matrix, b: Matrix) -> Matrix:
    return [[sum(a[i][k] * b[k][j] for k in range(4)) for j in range(4)] for i in range(4)]


def _local(node: dict[str, Any]) -> Matrix:
    m = node.get("matrix")
    if isinstance(m, list) and len(m) == 16:  # column-major
        return [[float(m[c * 4 + r]) for c in range(4)] for r in range(4)]
    tx, ty, tz = (float(v) for v in node.get("translation", [0, 0, 0]))
    qx, qy, qz, qw = (float(v) for v in node.get("rotation", [0, 0, 0, 1]))
    sx, sy, sz = (float(v) for v in node.get("scale", [1, 1, 1]))
    rot = [
        [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw)],
        [2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw)],
        [2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)],
    ]
    s = (sx, sy, sz)
    return [
        [rot[0][0] * s[0], rot[0][1] * s[1], rot[0][2] * s[2], tx],
        [rot[1][0] * s[0], rot[1][1] * s[1], rot[1][2] * s[2], ty],
        [rot[2][0] * s[0], rot[2][1] * s[1], rot[2][2] * s[2], tz],
        [0.0, 0.0, 0.0, 1.0],
    ]


def _identity() -> Matrix:
    return [[1.0 if i == j else 0.0 for j in range(4)] for i in range(4)]


def scene_bounds(doc: dict[str, Any]) -> Bounds | None:
    """The box around every mesh of the document's scene (its first when ``scene`` is absent), or None when there
    is no mesh with a bounded POSITION accessor. Malformed parts are skipped, never raised."""
    try:
        return _bounds(doc)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return None


def _bounds(doc: dict[str, Any]) -> Bounds | None:
    nodes, meshes, accessors = doc.get("nodes", []), doc.get("meshes", []), doc.get("accessors", [])
    scenes = doc.get("scenes", [])
    roots: list[int] = list(scenes[int(doc.get("scene", 0))].get("nodes", [])) if scenes else list(range(len(nodes)))
    lo = [float("inf")] * 3
    hi = [float("-inf")] * 3
    stack: list[tuple[int, Matrix, int]] = [(r, _identity(), 0) for r in roots]
    while stack:
        index, parent, depth = stack.pop()
        if depth > _MAX_DEPTH:
            continue
        node = nodes[index]
        world = _mul(parent, _local(node))
        if "mesh" in node:
            for primitive in meshes[node["mesh"]].get("primitives", []):
                accessor = accessors[primitive["attributes"]["POSITION"]]
                amin, amax = accessor.get("min"), accessor.get("max")
                if not (isinstance(amin, list) and isinstance(amax, list) and len(amin) == len(amax) == 3):
                    continue
                for corner in itertools.product(*zip(amin, amax, strict=True)):
                    for axis in range(3):
                        v = sum(world[axis][k] * float(corner[k]) for k in range(3)) + world[axis][3]
                        lo[axis] = min(lo[axis], v)
                        hi[axis] = max(hi[axis], v)
        stack.extend((int(child), world, depth + 1) for child in node.get("children", []))
    if lo[0] == float("inf"):
        return None
    return (lo[0], lo[1], lo[2], hi[0], hi[1], hi[2])
