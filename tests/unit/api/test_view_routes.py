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
