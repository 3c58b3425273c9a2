"""/assets over HTTP on the real app (fresh SQLite): upload (raw and multipart), serve, list, delete, 413/422/409,
and a glTF appearance naming an asset that is not there."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services
from factorytwin.api.auth import route_guards
from tests.unit.api.test_profiles_routes import Headers, api, auth, engineer, locs, viewer
from tests.unit.profiles.conftest import profile_doc
from tests.unit.profiles.gltf_files import box_glb, box_gltf_json

__all__ = ["api", "auth", "engineer", "viewer"]  # fixtures shared with the profile route tests
GLB_TYPE = {"Content-Type": "model/gltf-binary"}


def test_asset_routes_read_as_viewer_and_write_as_engineer(app: FastAPI) -> None:
    guards = {k: v for k, v in route_guards(app).items() if "/assets" in k}
    assert guards == {
        "POST /api/v1/assets": "engineer",
        "GET /api/v1/assets": "viewer",
        "GET /api/v1/assets/{asset_id}": "viewer",
        "DELETE /api/v1/assets/{asset_id}": "engineer",
    }


async def test_an_engineer_uploads_a_glb_and_it_is_served_with_its_media_type(
    api: httpx.AsyncClient, viewer: Headers, engineer: Headers
) -> None:
    data = box_glb()
    assert (await api.post("assets?name=tank.glb", content=data, headers=viewer | GLB_TYPE)).status_code == 403
    r = await api.post("assets?name=tank.glb", content=data, headers=engineer | GLB_TYPE)
    assert r.status_code == 201, r.text
    info = r.json()
    assert (info["name"], info["media_type"], info["size"], info["saved_by"]) == (
        "tank.glb",
        "model/gltf-binary",
        len(data),
        "erin",
    )
    again = await api.post("assets", content=data, headers=engineer | GLB_TYPE)
    assert again.json()["id"] == info["id"]  # the same file is the same asset
    served = await api.get(f"assets/{info['id']}", headers=viewer)
    assert served.status_code == 200
    assert served.headers["content-type"] == "model/gltf-binary"
    assert served.content == data
    assert [a["id"] for a in (await api.get("assets", headers=viewer)).json()] == [info["id"]]
    assert (await api.get("assets/nothing", headers=viewer)).status_code == 404


async def test_a_gltf_json_uploads_as_a_multipart_form(api: httpx.AsyncClient, engineer: Headers) -> None:
    r = await api.post("assets", files={"file": ("tank.gltf", box_gltf_json(), "model/gltf+json")}, headers=engineer)
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["media_type"]) == ("tank.gltf", "model/gltf+json")
    empty_form = await api.post("assets", files={"other": ("x", b"x")}, headers=engineer)
    assert empty_form.status_code == 422
    assert locs(empty_form) == [["body", "file"]]


async def test_a_file_that_is_not_gltf_is_422_with_the_reason(api: httpx.AsyncClient, engineer: Headers) -> None:
    r = await api.post("assets", content=b"\x89PNG\r\n", headers=engineer)
    assert r.status_code == 422
    assert locs(r) == [["body"]]
    assert "not JSON" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_file_over_the_cap_is_413(
    api: httpx.AsyncClient, engineer: Headers, services: Services, chunked: bool
) -> None:
    services.settings.max_asset_bytes = 2048
    big = box_glb() + b"\x00" * 4096

    async def body() -> object:
        yield big

    content = body() if chunked else big
    r = await api.post("assets", content=content, headers=engineer | GLB_TYPE)  # type: ignore[arg-type]
    assert r.status_code == 413
    assert "2048 bytes" in r.json()["detail"][0]["msg"]


async def test_a_gltf_appearance_must_name_an_uploaded_asset_and_keeps_it_from_deletion(
    api: httpx.AsyncClient, engineer: Headers
) -> None:
    unknown = await api.post(
        "profiles", json=profile_doc(appearance={"kind": "gltf", "asset_id": "ffff0000ffff0000"}), headers=engineer
    )
    assert unknown.status_code == 422
    assert locs(unknown) == [["body", "appearance", "asset_id"]]
    asset = (await api.post("assets", content=box_glb(), headers=engineer | GLB_TYPE)).json()["id"]
    created = await api.post(
        "profiles", json=profile_doc(appearance={"kind": "gltf", "asset_id": asset}), headers=engineer
    )
    assert created.status_code == 201, created.text
    used = await api.delete(f"assets/{asset}", headers=engineer)
    assert used.status_code == 409
    assert "centrifugal-pump" in used.json()["detail"][0]["msg"]
    await api.delete("profiles/centrifugal-pump", headers=engineer)
    assert (await api.delete(f"assets/{asset}", headers=engineer)).status_code == 204
    assert (await api.delete(f"assets/{asset}", headers=engineer)).status_code == 404


async def test_a_machine_of_an_uploaded_model_is_its_bounding_box_on_the_layout_and_in_the_gltf_export(
    api: httpx.AsyncClient, engineer: Headers
) -> None:
    asset = (await api.post("assets", content=box_glb(size=(1.5, 3.0, 1.0)), headers=engineer | GLB_TYPE)).json()
    assert asset["bounds"] == pytest.approx([-0.75, 0.0, -0.5, 0.75, 3.0, 0.5])
    profile = profile_doc(id="tank", appearance={"kind": "gltf", "asset_id": asset["id"]})
    assert (await api.post("profiles", json=profile, headers=engineer)).status_code == 201
    machine = {"id": "tank-1", "name": "Tank 1", "profile": "tank", "line": "line-a", "x": 5.0, "y": 6.0}
    created = await api.post("machines", json=machine, headers=engineer)
    assert created.status_code == 201, created.text
    footprint = (await api.get("layout", headers=engineer)).json()["footprints"]["tank"]
    assert (footprint["asset"], footprint["shape"]) == (asset["id"], "box")
    assert (footprint["width"], footprint["height"], footprint["depth"]) == pytest.approx((1.5, 3.0, 1.0))
    doc = (await api.get("layout.gltf", headers=engineer)).json()
    node = next(n for n in doc["nodes"] if n["name"] == "tank-1")
    assert node["extras"]["asset_id"] == asset["id"]
    body = doc["nodes"][node["children"][0]]
    accessor = doc["accessors"][doc["meshes"][body["mesh"]]["primitives"][0]["attributes"]["POSITION"]]
    assert accessor["max"] == pytest.approx([0.75, 1.5, 0.5])
