"""/views: saved History views (a name and the dashboard hash that reproduces the chart), private or shared.

Listing needs the viewer role and shows the caller's own views and everyone's shared ones; saving needs the
operator role; renaming, sharing or unsharing and deleting, the owner (or an admin). Each write is recorded in the
audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from factorytwin.api.auth import Operator, Viewer, audit
from factorytwin.api.deps import ServicesDep
from factorytwin.api.errors import ErrorBody
from factorytwin.auth import Principal, Role
from factorytwin.domain import STORABLE_TEXT_PATTERN, Text, unstorable_text
from factorytwin.errors import NotFound
from factorytwin.store.saved_views import (
    MAX_VIEW_HASH_CHARS,
    MAX_VIEW_NAME_CHARS,
    VIEW_HASH_PATTERN,
    SavedView,
    SavedViewStore,
    saved_view_store_for,
)

router = APIRouter(tags=["saved views"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such view (or not yours)", "model": ErrorBody}}
NOT_OWNER: dict[int | str, dict[str, Any]] = {
    403: {"description": "a shared view of someone else: only its owner or an admin changes it", "model": ErrorBody}
}
NAME_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "the view's owner has another view of that name (at body.name)", "model": ErrorBody}
}


def _storable(value: str) -> str:
    problem = unstorable_text(value)
    if problem is not None:
        raise ValueError(problem)
    return value


ViewName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_VIEW_NAME_CHARS),
    AfterValidator(_storable),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_VIEW_NAME_CHARS, "pattern": STORABLE_TEXT_PATTERN}
    ),
]
"""A view's new name: ``Text`` of 1-80 characters, the length checked first (so its message is the one a save
gives: "String should have at most 80 characters")."""
ViewId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the id POST returned")]


class SavedViewIn(BaseModel):
    """A view to save: its name, the dashboard hash that reproduces it, and whether everyone may open it."""

    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=MAX_VIEW_NAME_CHARS)
    hash: str = Field(
        min_length=3,
        max_length=MAX_VIEW_HASH_CHARS,
        pattern=VIEW_HASH_PATTERN,
        description="the dashboard hash, e.g. #/history/mill-01?range=6h&mode=normal (printable ASCII, no spaces)",
    )
    shared: StrictBool = Field(default=False, description="everyone may open it (else only you)")


def _patch_schema(schema: dict[str, Any]) -> None:
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)  # "left out": no default value to show (null is not one)
        kinds = prop.pop("anyOf", None)
        if kinds is not None:  # X or null -> X: None only stands for "left out" here
            (kind,) = [k for k in kinds if k != {"type": "null"}]
            prop.update(kind)


class SavedViewPatch(BaseModel):
    """What to change of a saved view: its name, whether everyone may open it, or both (at least one)."""

    # In the schema both fields are optional but never null, and at least one is there: what the validators below
    # enforce (an explicit null is refused, an empty body too), so a schema-valid request is a valid one.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)

    name: ViewName | None = Field(default=None, description="a new name")
    shared: StrictBool | None = Field(default=None, description="everyone may open it (else only its owner)")

    @field_validator("name", "shared", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # left out means unchanged; an explicit null is a mistake, not "no change"
        if value is None:
            raise ValueError("leave the field out to keep it; null is not a value")
        return value

    @model_validator(mode="after")
    def _something(self) -> SavedViewPatch:
        if self.name is None and self.shared is None:
            raise ValueError("nothing to change: give name, shared or both")
        return self


def get_saved_views(services: ServicesDep) -> SavedViewStore:
    """FastAPI dependency: the saved-view store over the app's store (cheap: a thin wrapper)."""
    return saved_view_store_for(services.store)


SavedViewsDep = Annotated[SavedViewStore, Depends(get_saved_views)]


@router.get("/views")
async def list_views(views: SavedViewsDep, who: Viewer) -> list[SavedView]:
    """The views the caller may open: their own and everyone's shared ones, newest first (at most 500)."""
    return await views.views_for(who.name)


@router.post("/views", status_code=status.HTTP_201_CREATED, responses=NAME_TAKEN)
async def save_view(body: SavedViewIn, views: SavedViewsDep, who: Operator, request: Request) -> SavedView:
    """Save a view under the caller's name (409 at ``body.name`` when the caller has a view of that name already;
    422 naming the field of a name or hash too long or malformed)."""
    async with audit(request, who, "view.save", body.name) as note:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as stored (ms), so POST and GET agree
        new = SavedView(id=0, name=body.name, hash=body.hash, owner=who.name, shared=body.shared, created_at=now)
        saved = await views.add_view(new)
        note.detail = f"view {saved.id}{' (shared)' if saved.shared else ''}"
    return saved


def _may_change(who: Principal, view: SavedView) -> bool:
    return view.owner == who.name or who.has_role(Role.ADMIN)


async def _changeable(views: SavedViewStore, view_id: int, who: Principal) -> SavedView:
    """The view ``who`` may change or delete: 404 for one the caller cannot see (so a private view's existence is
    not given away), 403 naming ``view_id`` for someone else's shared one."""
    found = await views.get_view(view_id)
    if found is None or (not found.shared and not _may_change(who, found)):
        raise NotFound(f"no view {view_id}")
    if not _may_change(who, found):
        detail = [{"loc": ["path", "view_id"], "msg": f"view {view_id} is {found.owner}'s"}]
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail)
    return found


@router.patch("/views/{view_id}", responses=NOT_FOUND | NOT_OWNER | NAME_TAKEN)
async def update_view(
    view_id: ViewId, body: SavedViewPatch, views: SavedViewsDep, who: Operator, request: Request
) -> SavedView:
    """Rename a view and/or share or unshare it: its owner or an admin (403/404 as DELETE; 409 at ``body.name``
    when the owner has another view of that name; 422 naming the field of a bad or empty change)."""
    async with audit(request, who, "view.update", str(view_id)) as note:
        found = await _changeable(views, view_id, who)
        updated = await views.update_view(view_id, name=body.name, shared=body.shared)
        if updated is None:
            raise NotFound(f"no view {view_id}")  # deleted meanwhile
        changes = []
        if updated.name != found.name:
            changes.append(f"renamed {found.name!r} to {updated.name!r}")
        if updated.shared != found.shared:
            changes.append("shared" if updated.shared else "made private")
        note.detail = "; ".join(changes) or "unchanged"
    return updated


@router.delete("/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND | NOT_OWNER)
async def delete_view(view_id: ViewId, views: SavedViewsDep, who: Operator, request: Request) -> Response:
    """Delete a view: its owner or an admin (403 for someone else's shared view; 404 for one the caller cannot
    see, so a private view's existence is not given away)."""
    async with audit(request, who, "view.delete", str(view_id)):
        await _changeable(views, view_id, who)
        if not await views.delete_view(view_id):
            raise NotFound(f"no view {view_id}")  # deleted meanwhile
    return Response(status_code=status.HTTP_204_NO_CONTENT)
