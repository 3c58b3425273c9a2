"""``check_gltf_file``: what an uploaded file must be (glTF 2.0 JSON or GLB, self-contained) and the reasons given."""

from __future__ import annotations

import json
import struct

import pytest

from factorytwin.errors import InvalidInput
from factorytwin.profiles.asset_bounds import scene_bounds
from factorytwin.profiles.assets import GLB, GLTF_JSON, check_gltf_file
from tests.unit.profiles.gltf_files import box_doc, box_glb, box_gltf_json, glb


def reason(data: bytes) -> str:
    """The message of the one problem ``check_gltf_file`` finds, at ``body``."""
    with pytest.raises(InvalidInput) as caught:
        check_gltf_file(data)
    [problem] = caught.value.problems
    assert problem.loc == ("body",)
    return problem.msg


def test_a_glb_and_a_self_contained_gltf_are_accepted_with_their_media_type() -> None:
    assert check_gltf_file(box_glb()) == GLB
    assert check_gltf_file(box_gltf_json()) == GLTF_JSON


def test_a_file_that_is_not_gltf_is_refused_with_the_reason() -> None:
    assert "empty" in reason(b"")
    assert "not JSON" in reason(b"PK\x03\x04 a zip file")
    assert "JSON object" in reason(b"[1, 2]")
    assert "asset.version is missing" in reason(json.dumps({"scenes": []}).encode())
    assert "only glTF 2.0" in reason(json.dumps({"asset": {"version": "1.0"}}).encode())


def test_a_broken_glb_container_is_refused_with_the_reason() -> None:
    good = box_glb()
    assert "container version 1" in reason(glb(*box_doc(), version=1))
    assert "header says" in reason(good[:-4])
    short_chunk = bytearray(good)
    struct.pack_into("<I", short_chunk, 12, 10**6)
    assert "past the end" in reason(bytes(short_chunk))
    doc, _ = box_doc()
    assert "no BIN chunk" in reason(glb(doc))
    not_json = b"glTF" + struct.pack("<II", 2, 28) + struct.pack("<II", 8, 0x4E4F534A) + b"notjson!"
    assert "not JSON" in reason(not_json)


@pytest.mark.parametrize(
    "uri", ["https://evil.example/mesh.bin", "//evil.example/mesh.bin", "mesh.bin", "file:///etc/passwd"]
)
def test_a_uri_that_leaves_the_file_is_refused(uri: str) -> None:
    doc, data = box_doc()
    doc["buffers"][0]["uri"] = uri
    assert "points outside the file" in reason(json.dumps(doc).encode())
    doc["buffers"][0].pop("uri")
    doc["images"] = [{"uri": uri}]
    assert "images[0].uri" in reason(glb(doc, data))


def test_the_bounds_of_a_scene_follow_its_node_transforms() -> None:
    doc, _ = box_doc(size=(1.2, 2.0, 1.2))
    assert scene_bounds(doc) == pytest.approx((-0.6, 0.0, -0.6, 0.6, 2.0, 0.6))
    doc["nodes"] = [{"children": [1], "translation": [10, 0, 0], "scale": [2, 2, 2]}, {"mesh": 0}]
    doc["scenes"] = [{"nodes": [0]}]
    assert scene_bounds(doc) == pytest.approx((8.8, 0.0, -1.2, 11.2, 4.0, 1.2))
    quarter = 0.5**0.5  # 90 degrees about +Y: x and z swap
    doc["nodes"] = [{"mesh": 0, "rotation": [0, quarter, 0, quarter]}]
    doc["meshes"][0]["primitives"][0]["attributes"]["POSITION"] = 0
    doc["accessors"][0] |= {"min": [-2, 0, -0.5], "max": [2, 1, 0.5]}
    assert scene_bounds(doc) == pytest.approx((-0.5, 0.0, -2.0, 0.5, 1.0, 2.0))
    assert scene_bounds({"asset": {"version": "2.0"}}) is None
    assert scene_bounds({"nodes": [{"mesh": 7}]}) is None  # malformed: no bounds, no error
