"""/views: saved History views (a name and the dashboard hash that reproduces the chart), private or shared.

Listing needs the viewer role and shows the caller's own views and everyone's shared ones; saving needs the
operator role; deleting, the owner (or an admin). Each write is recorded in the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from factorytwin.api.auth import Operator, Viewer, audit
from factorytwin.api.deps import ServicesDep
from factorytwin.api.errors import ErrorBody
from factorytwin.auth import Principal, Role
from factorytwin.domain import Text
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
    403: {"description": "a shared view of someone else: only its owner or an admin deletes it", "model": ErrorBody}
}
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


def get_saved_views(services: ServicesDep) -> SavedViewStore:
    """FastAPI dependency: the saved-view store over the app's store (cheap: a thin wrapper)."""
    return saved_view_store_for(services.store)


SavedViewsDep = Annotated[SavedViewStore, Depends(get_saved_views)]


@router.get("/views")
async def list_views(views: SavedViewsDep, who: Viewer) -> list[SavedView]:
    """The views the caller may open: their own and everyone's shared ones, newest first (at most 500)."""
    return await views.views_for(who.name)


@router.post("/views", status_code=status.HTTP_201_CREATED)
async def save_view(body: SavedViewIn, views: SavedViewsDep, who: Operator, request: Request) -> SavedView:
    """Save a view under the caller's name (422 naming the field of a name or hash too long or malformed)."""
    async with audit(request, who, "view.save", body.name) as note:
        new = SavedView(
            id=0, name=body.name, hash=body.hash, owner=who.name, shared=body.shared, created_at=datetime.now(UTC)
        )
        saved = await views.add_view(new)
        note.detail = f"view {saved.id}{' (shared)' if saved.shared else ''}"
    return saved


def _may_delete(who: Principal, view: SavedView) -> bool:
    return view.owner == who.name or who.has_role(Role.ADMIN)


@router.delete("/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND | NOT_OWNER)
async def delete_view(view_id: ViewId, views: SavedViewsDep, who: Operator, request: Request) -> Response:
    """Delete a view: its owner or an admin (403 for someone else's shared view; 404 for one the caller cannot
    see, so a private view's existence is not given away)."""
    async with audit(request, who, "view.delete", str(view_id)):
        found = await views.get_view(view_id)
        if found is None or (not found.shared and not _may_delete(who, found)):
            raise NotFound(f"no view {view_id}")
        if not _may_delete(who, found):
            detail = [{"loc": ["path", "view_id"], "msg": f"view {view_id} is {found.owner}'s"}]
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail)
        if not await views.delete_view(view_id):
            raise NotFound(f"no view {view_id}")  # deleted meanwhile
    return Response(status_code=status.HTTP_204_NO_CONTENT)
