"""/views over HTTP on the real app (SQLite and PostgreSQL): save, list one's own and the shared ones, delete by
the owner or an admin, the roles, 422 naming the field, the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from factorytwin.api import Services
from factorytwin.auth import AuditQuery, Context, Outcome, PrincipalKind, Role
from factorytwin.config import Settings

CTX = Context("tests", PrincipalKind.CLI, "cli")
BASE = "/api/v1/views"
HASH = "#/history/mill-01?range=6h&mode=normal&add=press-02:force,lathe-01:spindle_temp&hide=command"


@pytest.fixture
def settings(backend_url: str) -> Settings:
    return Settings(database_url=backend_url, mqtt_url=None, layout_path=None)


@pytest.fixture
async def people(app: FastAPI, services: Services) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Clients of four callers: ana and bo (operators), vic (viewer), root (admin)."""
    roles = {"ana": Role.OPERATOR, "bo": Role.OPERATOR, "vic": Role.VIEWER, "root": Role.ADMIN}
    clients: dict[str, httpx.AsyncClient] = {}
    for name, role in roles.items():
        secret, _ = await services.auth.create_token(name, role, CTX)
        clients[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {secret}"},
        )
    try:
        yield clients
    finally:
        for c in clients.values():
            await c.aclose()


def locs(r: httpx.Response) -> list[list[object]]:
    return [d["loc"] for d in r.json()["detail"]]


async def test_saved_views_are_listed_for_their_owner_or_when_shared(
    people: dict[str, httpx.AsyncClient], services: Services
) -> None:
    ana, bo, vic = people["ana"], people["bo"], people["vic"]
    r = await ana.post(BASE, json={"name": "Mills vs press", "hash": HASH, "shared": True})
    assert r.status_code == 201, r.text
    shared = r.json()
    assert (shared["owner"], shared["shared"], shared["hash"]) == ("ana", True, HASH)
    private = (await ana.post(BASE, json={"name": "Mine only", "hash": "#/history/mill-02"})).json()
    assert private["shared"] is False
    assert [v["name"] for v in (await ana.get(BASE)).json()] == ["Mine only", "Mills vs press"]
    assert [v["name"] for v in (await bo.get(BASE)).json()] == ["Mills vs press"]
    assert [v["name"] for v in (await vic.get(BASE)).json()] == ["Mills vs press"]
    entries = await services.auth.audit(AuditQuery(actor="ana"))
    assert ("view.save", "Mills vs press", f"view {shared['id']} (shared)") in [
        (e.action, e.target, e.detail) for e in entries
    ]


async def test_only_the_owner_or_an_admin_deletes_a_view(
    people: dict[str, httpx.AsyncClient], services: Services
) -> None:
    ana, bo, vic, root = people["ana"], people["bo"], people["vic"], people["root"]
    shared = (await ana.post(BASE, json={"name": "s", "hash": HASH, "shared": True})).json()
    private = (await ana.post(BASE, json={"name": "p", "hash": HASH})).json()
    assert (await vic.post(BASE, json={"name": "v", "hash": HASH})).status_code == 403
    assert (await vic.delete(f"{BASE}/{shared['id']}")).status_code == 403
    r = await bo.delete(f"{BASE}/{shared['id']}")
    assert r.status_code == 403
    assert locs(r) == [["path", "view_id"]]
    assert (await bo.delete(f"{BASE}/{private['id']}")).status_code == 404  # not given away
    assert (await ana.delete(f"{BASE}/{private['id']}")).status_code == 204
    assert (await ana.delete(f"{BASE}/{private['id']}")).status_code == 404
    assert (await root.delete(f"{BASE}/{shared['id']}")).status_code == 204
    assert (await ana.get(BASE)).json() == []
    failed = await services.auth.audit(AuditQuery(actor="bo", outcome=Outcome.FAILURE))
    assert {(e.action, e.target) for e in failed} == {
        ("view.delete", str(shared["id"])),
        ("view.delete", str(private["id"])),
    }


BAD_BODIES: list[tuple[dict[str, object], str]] = [
    ({"name": "x" * 81, "hash": HASH}, "name"),
    ({"name": "", "hash": HASH}, "name"),
    ({"name": "nul\u0000", "hash": HASH}, "name"),
    ({"name": "big", "hash": "#/" + "a" * 1999}, "hash"),
    ({"name": "scheme", "hash": "javascript:alert(1)"}, "hash"),
    ({"name": "space", "hash": "#/history/mill 01"}, "hash"),
    ({"hash": HASH}, "name"),
    ({"name": "x", "hash": HASH, "owner": "bo"}, "owner"),
    ({"name": "x", "hash": HASH, "shared": "maybe"}, "shared"),
    ({"name": "x", "hash": HASH, "shared": 0}, "shared"),  # a JSON boolean, not a number
]


async def test_a_bad_view_is_422_naming_the_field(people: dict[str, httpx.AsyncClient]) -> None:
    for body, field in BAD_BODIES:
        r = await people["ana"].post(BASE, json=body)
        assert r.status_code == 422, (body, r.text)
        assert ["body", field] in locs(r), (body, r.text)
    assert (await people["ana"].get(BASE)).json() == []


async def test_a_bad_view_id_is_422_or_404(people: dict[str, httpx.AsyncClient]) -> None:
    assert (await people["ana"].delete(f"{BASE}/0")).status_code == 422
    assert (await people["ana"].delete(f"{BASE}/{2**70}")).status_code == 422
    assert (await people["ana"].delete(f"{BASE}/123456")).status_code == 404


async def test_the_owner_or_an_admin_renames_and_shares_a_view_and_it_is_audited(
    people: dict[str, httpx.AsyncClient], services: Services
) -> None:
    ana, bo, vic, root = people["ana"], people["bo"], people["vic"], people["root"]
    view = (await ana.post(BASE, json={"name": "Old name", "hash": HASH})).json()
    r = await ana.patch(f"{BASE}/{view['id']}", json={"name": "New name"})
    assert r.status_code == 200, r.text
    assert r.json() == {**view, "name": "New name"}  # nothing else changed: hash, owner, shared, time
    r = await ana.patch(f"{BASE}/{view['id']}", json={"shared": True})
    assert (r.status_code, r.json()["shared"], r.json()["name"]) == (200, True, "New name")
    assert [v["name"] for v in (await bo.get(BASE)).json()] == ["New name"]
    r = await root.patch(f"{BASE}/{view['id']}", json={"name": "By the admin", "shared": False})
    assert (r.status_code, r.json()["owner"], r.json()["shared"]) == (200, "ana", False)
    assert (await bo.get(BASE)).json() == []
    assert [(v["name"], v["shared"]) for v in (await ana.get(BASE)).json()] == [("By the admin", False)]
    done = await services.auth.audit(AuditQuery(outcome=Outcome.SUCCESS))
    assert [(e.actor, e.action, e.target, e.detail) for e in done if e.action == "view.update"] == [
        ("root", "view.update", str(view["id"]), "renamed 'New name' to 'By the admin'; made private"),
        ("ana", "view.update", str(view["id"]), "shared"),
        ("ana", "view.update", str(view["id"]), "renamed 'Old name' to 'New name'"),
    ]
    assert (await vic.patch(f"{BASE}/{view['id']}", json={"name": "v"})).status_code == 403


async def test_someone_elses_view_is_403_when_shared_and_404_when_private_and_unchanged(
    people: dict[str, httpx.AsyncClient], services: Services
) -> None:
    ana, bo = people["ana"], people["bo"]
    shared = (await ana.post(BASE, json={"name": "s", "hash": HASH, "shared": True})).json()
    private = (await ana.post(BASE, json={"name": "p", "hash": HASH})).json()
    r = await bo.patch(f"{BASE}/{shared['id']}", json={"name": "mine now"})
    assert r.status_code == 403
    assert locs(r) == [["path", "view_id"]]
    assert (await bo.patch(f"{BASE}/{private['id']}", json={"shared": True})).status_code == 404  # not given away
    assert (await bo.patch(f"{BASE}/123456", json={"name": "x"})).status_code == 404
    assert [(v["name"], v["shared"]) for v in (await ana.get(BASE)).json()] == [("p", False), ("s", True)]
    failed = await services.auth.audit(AuditQuery(actor="bo", outcome=Outcome.FAILURE))
    assert sorted((e.action, e.target) for e in failed) == sorted(
        [("view.update", str(shared["id"])), ("view.update", str(private["id"])), ("view.update", "123456")]
    )


async def test_a_rename_to_a_name_the_owner_has_taken_is_409_at_the_name(
    people: dict[str, httpx.AsyncClient], services: Services
) -> None:
    ana, bo = people["ana"], people["bo"]
    first = (await ana.post(BASE, json={"name": "Mills", "hash": HASH})).json()
    second = (await ana.post(BASE, json={"name": "Presses", "hash": HASH, "shared": True})).json()
    theirs = (await bo.post(BASE, json={"name": "Lathes", "hash": HASH})).json()
    r = await ana.patch(f"{BASE}/{second['id']}", json={"name": "Mills", "shared": False})
    assert r.status_code == 409, r.text
    assert locs(r) == [["body", "name"]]
    assert "Mills" in r.text
    assert [(v["name"], v["shared"]) for v in (await ana.get(BASE)).json()] == [("Presses", True), ("Mills", False)]
    # its own name again is no clash; another owner's name is none either (each owner names their own views)
    assert (await ana.patch(f"{BASE}/{first['id']}", json={"name": "Mills"})).status_code == 200
    assert (await ana.patch(f"{BASE}/{first['id']}", json={"name": "Lathes"})).status_code == 200
    assert (await bo.patch(f"{BASE}/{theirs['id']}", json={"name": "Presses"})).status_code == 200
    # an admin renaming ana's view clashes with ana's names, not the admin's
    r = await people["root"].patch(f"{BASE}/{first['id']}", json={"name": "Presses"})
    assert (r.status_code, locs(r)) == (409, [["body", "name"]])
    failed = await services.auth.audit(AuditQuery(action="view.update", outcome=Outcome.FAILURE))
    assert len(failed) == 2


async def test_saving_a_view_under_a_name_the_caller_has_is_409_at_the_name(
    people: dict[str, httpx.AsyncClient], services: Services
) -> None:
    ana, bo = people["ana"], people["bo"]
    first = (await ana.post(BASE, json={"name": "Mills", "hash": HASH})).json()
    r = await ana.post(BASE, json={"name": "Mills", "hash": HASH + "&x=1", "shared": True})
    assert (r.status_code, locs(r)) == (409, [["body", "name"]]), r.text
    assert "Mills" in r.text
    assert [v["id"] for v in (await ana.get(BASE)).json()] == [first["id"]]  # the first one, unchanged
    assert (await bo.post(BASE, json={"name": "Mills", "hash": HASH})).status_code == 201  # bo's own names
    failed = await services.auth.audit(AuditQuery(action="view.save", outcome=Outcome.FAILURE))
    assert [e.actor for e in failed] == ["ana"]


BAD_PATCHES: list[tuple[object, list[object]]] = [
    ({}, ["body"]),
    ({"name": None}, ["body", "name"]),
    ({"shared": None}, ["body", "shared"]),
    ({"name": ""}, ["body", "name"]),
    ({"name": "x" * 81}, ["body", "name"]),
    ({"name": "nul\u0000"}, ["body", "name"]),
    ({"name": 5}, ["body", "name"]),
    ({"shared": "yes"}, ["body", "shared"]),
    ({"shared": 1}, ["body", "shared"]),
    ({"hash": "#/history/mill-02"}, ["body", "hash"]),  # a view's hash is what it is: save a new one
    ({"owner": "bo"}, ["body", "owner"]),
    (["name"], ["body"]),
]


async def test_a_bad_change_is_422_naming_the_field_and_changes_nothing(people: dict[str, httpx.AsyncClient]) -> None:
    ana = people["ana"]
    view = (await ana.post(BASE, json={"name": "keep", "hash": HASH})).json()
    for body, loc in BAD_PATCHES:
        r = await ana.patch(f"{BASE}/{view['id']}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert loc in locs(r), (body, r.text)
    long = await ana.patch(f"{BASE}/{view['id']}", json={"name": "x" * 81})
    assert long.json()["detail"][0]["msg"] == "String should have at most 80 characters"  # as a save says it
    assert (await ana.patch(f"{BASE}/0", json={"name": "x"})).status_code == 422
    assert (await ana.patch(f"{BASE}/{2**70}", json={"name": "x"})).status_code == 422
    r = await ana.patch(f"{BASE}/{view['id']}", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert (await ana.get(BASE)).json() == [view]
