"""/profiles: machine profiles (list, read a version, create, version, delete) and their DTDL v3 import/export.

Reads need the viewer role, writes the engineer role; each write is recorded in the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from factorytwin.api.auth import Engineer, Viewer, audit
from factorytwin.api.deps import UNAVAILABLE, ServicesDep
from factorytwin.api.errors import ErrorBody
from factorytwin.errors import ServiceUnavailable
from factorytwin.profiles import ProfileBody, StoredProfile
from factorytwin.profiles.dtdl import DtdlImport
from factorytwin.profiles.service import ProfileService

router = APIRouter(tags=["profiles"])

PROFILES_NOT_RUNNING = "the profile service is not running"
MAX_VERSION = 2**31 - 1
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such profile or version", "model": ErrorBody}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the id is taken", "model": ErrorBody}}


async def get_profiles(services: ServicesDep) -> ProfileService:
    """FastAPI dependency: the profile service; 503 when it is not running."""
    if services.profiles is None:
        raise ServiceUnavailable(PROFILES_NOT_RUNNING)
    return services.profiles


ProfilesDep = Annotated[ProfileService, Depends(get_profiles)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="a version; default: the latest")]


@router.get("/profiles", responses=UNAVAILABLE)
async def list_profiles(profiles: ProfilesDep, _: Viewer) -> list[StoredProfile]:
    """The latest version of every profile (bundled and user-defined), by id."""
    return await profiles.list()


@router.get("/profiles/{profile_id}", responses=NOT_FOUND | UNAVAILABLE)
async def get_profile(profile_id: str, profiles: ProfilesDep, _: Viewer, version: VersionQuery = None) -> StoredProfile:
    """A profile: its latest version, or the version asked for."""
    return await profiles.get(profile_id, version)


@router.post("/profiles", status_code=status.HTTP_201_CREATED, responses=CONFLICT | UNAVAILABLE)
async def create_profile(body: ProfileBody, profiles: ProfilesDep, who: Engineer, request: Request) -> StoredProfile:
    """Create a profile as version 1 (409 when the id is taken)."""
    async with audit(request, who, "profile.create", body.id) as note:
        created = await profiles.create(body, who.name)
        note.detail = f"version {created.version}"
    return created


@router.put("/profiles/{profile_id}", responses=NOT_FOUND | UNAVAILABLE)
async def update_profile(
    profile_id: str, body: ProfileBody, profiles: ProfilesDep, who: Engineer, request: Request
) -> StoredProfile:
    """Write a new version of a profile; earlier versions stay readable with ``?version=``."""
    async with audit(request, who, "profile.update", profile_id) as note:
        updated = await profiles.update(profile_id, body, who.name)
        note.detail = f"version {updated.version}"
    return updated


@router.delete(
    "/profiles/{profile_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND
    | UNAVAILABLE
    | {409: {"description": "bundled, or used by machines (named)", "model": ErrorBody}},
)
async def delete_profile(profile_id: str, profiles: ProfilesDep, who: Engineer, request: Request) -> Response:
    """Delete a profile and all its versions: 409 naming the machines that use it, or when it is bundled."""
    async with audit(request, who, "profile.delete", profile_id):
        await profiles.delete(profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/profiles/import/dtdl", status_code=status.HTTP_201_CREATED, responses=CONFLICT | UNAVAILABLE)
async def import_dtdl(body: DtdlImport, profiles: ProfilesDep, who: Engineer, request: Request) -> StoredProfile:
    """Create a profile from a DTDL v3 Interface (422 naming each content that cannot be mapped)."""
    target = body.id or str(body.interface.get("@id", ""))[:200]
    async with audit(request, who, "profile.import", target) as note:
        created = await profiles.import_dtdl(body, who.name)
        note.detail = f"version {created.version}"
    return created


@router.get("/profiles/{profile_id}/dtdl", responses=NOT_FOUND | UNAVAILABLE)
async def export_dtdl(
    profile_id: str, profiles: ProfilesDep, _: Viewer, version: VersionQuery = None
) -> dict[str, Any]:
    """A profile (its latest version, or the one asked for) as a DTDL v3 Interface document."""
    return await profiles.export_dtdl(profile_id, version)
