"""/profiles over HTTP on the real app (fresh SQLite): guards, versions, 404/409/422 naming the field, DTDL."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services
from factorytwin.api.auth import install_auth, route_guards
from factorytwin.auth import AuditQuery, AuthService, Context, Outcome, PrincipalKind, Role
from factorytwin.profiles import bundled_profiles
from factorytwin.store.auth import auth_store_for
from tests.unit.auth.conftest import cheap_passwords
from tests.unit.profiles.conftest import profile_doc, sensor_doc
from tests.unit.profiles.test_dtdl import BANDS, PUMP_DTDL

CLI = Context("root", PrincipalKind.CLI, "cli")
Headers = dict[str, str]


@pytest.fixture
async def auth(app: FastAPI, services: Services) -> AuthService:
    """An auth service on the app's store, installed as the app's authenticator."""
    service = AuthService(auth_store_for(services.store), passwords=cheap_passwords())
    install_auth(app, service)
    return service


async def bearer(auth: AuthService, name: str, role: Role) -> Headers:
    """Authorization headers of a fresh API token with ``role``."""
    secret, _ = await auth.create_token(name, role, CLI)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def viewer(auth: AuthService) -> Headers:
    """A viewer's headers."""
    return await bearer(auth, "vic", Role.VIEWER)


@pytest.fixture
async def engineer(auth: AuthService) -> Headers:
    """An engineer's headers."""
    return await bearer(auth, "erin", Role.ENGINEER)


@pytest.fixture
async def api(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The in-process client, at /api/v1."""
    client.base_url = httpx.URL("http://test/api/v1/")
    return client


def locs(response: httpx.Response) -> list[list[str | int]]:
    """The ``loc`` of each problem of an error answer."""
    return [p["loc"] for p in response.json()["detail"]]


def test_every_profile_route_reads_as_viewer_and_writes_as_engineer(app: FastAPI) -> None:
    guards = {k: v for k, v in route_guards(app).items() if "/profiles" in k}
    assert guards == {
        "GET /api/v1/profiles": "viewer",
        "POST /api/v1/profiles": "engineer",
        "GET /api/v1/profiles/{profile_id}": "viewer",
        "PUT /api/v1/profiles/{profile_id}": "engineer",
        "DELETE /api/v1/profiles/{profile_id}": "engineer",
        "POST /api/v1/profiles/import/dtdl": "engineer",
        "GET /api/v1/profiles/{profile_id}/dtdl": "viewer",
    }


async def test_the_bundled_profiles_are_listed_and_read(
    api: httpx.AsyncClient, viewer: Headers, anonymous: httpx.AsyncClient
) -> None:
    assert (await anonymous.get("/api/v1/profiles")).status_code == 401
    r = await api.get("profiles", headers=viewer)
    assert r.status_code == 200
    assert [p["id"] for p in r.json()] == [p.id for p in bundled_profiles()]
    pump = (await api.get("profiles/pump", headers=viewer)).json()
    assert (pump["version"], pump["bundled"], pump["saved_by"]) == (1, True, "factorytwin")
    assert pump["appearance"] == {"kind": "builtin", "model": "pump"}
    assert (await api.get("profiles/pump?version=1", headers=viewer)).json() == pump


async def test_unknown_profiles_and_versions_are_404_and_a_bad_version_422(
    api: httpx.AsyncClient, viewer: Headers
) -> None:
    missing = await api.get("profiles/teleporter", headers=viewer)
    assert missing.status_code == 404
    assert "no profile 'teleporter'" in missing.json()["detail"][0]["msg"]
    no_version = await api.get("profiles/pump?version=7", headers=viewer)
    assert no_version.status_code == 404
    assert "no version 7" in no_version.json()["detail"][0]["msg"]
    for bad in ("0", "x", str(2**31)):
        r = await api.get(f"profiles/pump?version={bad}", headers=viewer)
        assert r.status_code == 422, bad
        assert locs(r) == [["query", "version"]]


async def test_an_engineer_creates_and_versions_a_profile(
    api: httpx.AsyncClient, viewer: Headers, engineer: Headers, auth: AuthService
) -> None:
    assert (await api.post("profiles", json=profile_doc(), headers=viewer)).status_code == 403
    created = await api.post("profiles", json=profile_doc(), headers=engineer)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["saved_by"], created.json()["bundled"]) == (1, "erin", False)
    again = await api.post("profiles", json=profile_doc(), headers=engineer)
    assert again.status_code == 409
    assert locs(again) == [["body", "id"]]
    edited = profile_doc(name="Centrifugal pump, rev B")
    updated = await api.put("profiles/centrifugal-pump", json=edited, headers=engineer)
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    assert (await api.get("profiles/centrifugal-pump", headers=viewer)).json()["name"] == "Centrifugal pump, rev B"
    first = await api.get("profiles/centrifugal-pump?version=1", headers=viewer)
    assert first.json()["name"] == "Centrifugal pump"
    actions = [(e.action, e.target, e.detail) for e in await auth.audit(AuditQuery(actor="erin"))]
    assert ("profile.create", "centrifugal-pump", "version 1") in actions
    assert ("profile.update", "centrifugal-pump", "version 2") in actions
    failed = await auth.audit(AuditQuery(actor="erin", outcome=Outcome.FAILURE))
    assert [(e.action, e.target) for e in failed] == [("profile.create", "centrifugal-pump")]  # the 409


async def test_bad_bodies_are_422_naming_the_field(api: httpx.AsyncClient, engineer: Headers) -> None:
    r = await api.post("profiles", json=profile_doc(sensors=[sensor_doc(normal_high=500.0)]), headers=engineer)
    assert r.status_code == 422
    assert locs(r) == [["body", "sensors", 0, "normal_high"]]
    r = await api.post("profiles", json=profile_doc(sensors=[sensor_doc(unit="furlong")]), headers=engineer)
    assert locs(r) == [["body", "sensors", 0, "unit"]]
    r = await api.post("profiles", json=profile_doc(sensors=[sensor_doc(), sensor_doc()]), headers=engineer)
    assert locs(r) == [["body", "sensors"]]
    assert "duplicate sensor key" in r.json()["detail"][0]["msg"]
    renamed = await api.put("profiles/pump", json=profile_doc(), headers=engineer)
    assert renamed.status_code == 422
    assert locs(renamed) == [["body", "id"]]
    absent = await api.put("profiles/ghost", json=profile_doc(id="ghost"), headers=engineer)
    assert absent.status_code == 404


async def test_delete_refuses_bundled_and_used_profiles_naming_the_machines(
    api: httpx.AsyncClient, viewer: Headers, engineer: Headers, services: Services
) -> None:
    bundled = await api.delete("profiles/pump", headers=engineer)
    assert bundled.status_code == 409
    assert "ships with factorytwin" in bundled.json()["detail"][0]["msg"]
    await api.post("profiles", json=profile_doc(), headers=engineer)
    assert services.profiles is not None
    services.profiles.machines_using = lambda pid: ["pump-07", "pump-03"] if pid == "centrifugal-pump" else []
    used = await api.delete("profiles/centrifugal-pump", headers=engineer)
    assert used.status_code == 409
    assert locs(used) == [["path", "profile_id"]]
    assert used.json()["detail"][0]["msg"] == "profile 'centrifugal-pump' is used by machines pump-03, pump-07"
    assert (await api.delete("profiles/centrifugal-pump", headers=viewer)).status_code == 403
    services.profiles.machines_using = lambda pid: []
    assert (await api.delete("profiles/centrifugal-pump", headers=engineer)).status_code == 204
    assert (await api.get("profiles/centrifugal-pump", headers=viewer)).status_code == 404
    assert (await api.delete("profiles/centrifugal-pump", headers=engineer)).status_code == 404


def test_the_layouts_machines_use_the_profile_they_name(services: Services) -> None:
    using = services.plant.machines_using
    pumps = sorted(m.id for m in services.machines.values() if m.profile == "pump")
    assert pumps
    assert using("pump") == pumps
    assert using("centrifugal-pump") == []


async def test_a_dtdl_interface_is_imported_and_a_profile_exported(
    api: httpx.AsyncClient, viewer: Headers, engineer: Headers
) -> None:
    bands = {k: v.model_dump() for k, v in BANDS.items()}
    imported = await api.post("profiles/import/dtdl", json={"interface": PUMP_DTDL, "bands": bands}, headers=engineer)
    assert imported.status_code == 201, imported.text
    assert imported.json()["id"] == "centrifugal_pump"
    assert imported.json()["sensors"][0]["unit"] == "°C"
    exported = await api.get("profiles/centrifugal_pump/dtdl", headers=viewer)
    assert exported.status_code == 200
    doc: dict[str, Any] = exported.json()
    assert doc["@id"] == "dtmi:factorytwin:profile:centrifugal_pump;1"
    assert doc["contents"][0]["unit"] == "degreeCelsius"
    assert (await api.get("profiles/centrifugal_pump/dtdl?version=2", headers=viewer)).status_code == 404
    roundtrip = await api.post("profiles/import/dtdl", json={"interface": doc, "id": "cp-copy"}, headers=engineer)
    assert roundtrip.status_code == 201, roundtrip.text
    assert roundtrip.json()["sensors"] == imported.json()["sensors"]


async def test_an_unmapped_dtdl_unit_is_422_naming_the_content(api: httpx.AsyncClient, engineer: Headers) -> None:
    doc = copy.deepcopy(PUMP_DTDL)
    doc["contents"][4]["unit"] = "abampere"
    bands = {k: v.model_dump() for k, v in BANDS.items()}
    r = await api.post("profiles/import/dtdl", json={"interface": doc, "bands": bands}, headers=engineer)
    assert r.status_code == 422
    assert locs(r) == [["body", "interface", "contents", 4, "unit"]]
    assert "'abampere'" in r.json()["detail"][0]["msg"]
    r = await api.post("profiles/import/dtdl", json={"interface": PUMP_DTDL}, headers=engineer)
    assert r.status_code == 422
    assert ["body", "interface", "contents", 0] in locs(r)


async def test_a_wrong_method_is_405_listing_every_method_of_the_path(api: httpx.AsyncClient) -> None:
    r = await api.patch("profiles/pump")
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, PUT"
    assert locs(r) == [["method"]]
    assert (await api.options("profiles")).headers["allow"] == "GET, POST"


async def test_the_import_path_allows_only_post(api: httpx.AsyncClient) -> None:
    assert (await api.options("profiles/import/dtdl")).headers["allow"] == "POST"
