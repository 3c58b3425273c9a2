"""/assets: uploaded glTF 2.0 / GLB files a profile's appearance names (``{"kind": "gltf", "asset_id": ...}``).

``POST /assets?name=pump.glb`` takes the file as the raw body (or as the ``file`` part of a multipart form); it is
checked (GLB header and chunks, ``asset.version`` 2.x, no URI leaving the file) and stored in the store. Reads need
the viewer role, writes the engineer role; every write is in the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from factorytwin.api.auth import Engineer, Viewer, audit
from factorytwin.api.deps import UNAVAILABLE, ServicesDep
from factorytwin.api.errors import BodyTooLarge, ErrorBody
from factorytwin.errors import FieldProblem, InvalidInput, ServiceUnavailable
from factorytwin.profiles.assets import GLB, GLTF_JSON, AssetInfo, AssetService

router = APIRouter(tags=["assets"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such asset", "model": ErrorBody}}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the file: GLB, or glTF JSON with embedded data: URIs (or a multipart form's `file` part)",
        "content": {
            GLB: {"schema": {"type": "string", "format": "binary"}},
            GLTF_JSON: {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


async def get_assets(services: ServicesDep) -> AssetService:
    """FastAPI dependency: the asset service; 503 when it is not running."""
    if services.assets is None:
        raise ServiceUnavailable("the asset service is not running")
    return services.assets


AssetsDep = Annotated[AssetService, Depends(get_assets)]


async def _file(request: Request, limit: int, name: str | None) -> tuple[str, bytes]:
    """The uploaded file's name and bytes: 413 past ``limit`` bytes, 422 for an empty or formless upload."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise InvalidInput([FieldProblem(("body", "file"), "the form has no file part named 'file'", None)])
        data = await part.read(limit + 1)
        if len(data) > limit:
            raise BodyTooLarge(limit)
        return name or part.filename or "model", data
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidInput([FieldProblem(("body",), "the upload ended early", None)]) from None
    return name or "model", b"".join(chunks)


@router.post(
    "/assets",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_BODY,
    responses=UNAVAILABLE | {413: {"description": "larger than FT_MAX_ASSET_BYTES", "model": ErrorBody}},
)
async def upload_asset(
    request: Request,
    assets: AssetsDep,
    services: ServicesDep,
    who: Engineer,
    name: Annotated[str | None, Query(max_length=200, description="the file name to keep")] = None,
) -> AssetInfo:
    """Upload a glTF 2.0 (JSON, self-contained) or GLB file: 422 with the reason when it is not one, 413 past the
    cap. The id is the file's content hash, so the same file uploaded again is the same asset."""
    filename, data = await _file(request, services.settings.max_asset_bytes, name)
    async with audit(request, who, "asset.upload", filename) as note:
        info = await assets.upload(filename, data, who.name)
        note.detail = f"{info.id} ({info.size} bytes)"
    return info


@router.get("/assets", responses=UNAVAILABLE)
async def list_assets(assets: AssetsDep, _: Viewer) -> list[AssetInfo]:
    """Every uploaded asset (without its bytes), by id."""
    return await assets.list()


@router.get(
    "/assets/{asset_id}",
    response_class=Response,
    responses=NOT_FOUND | UNAVAILABLE | {200: {"description": "the file", "content": {GLB: {}, GLTF_JSON: {}}}},
)
async def get_asset(asset_id: str, assets: AssetsDep, _: Viewer) -> Response:
    """The uploaded file itself, with its media type (``model/gltf-binary`` or ``model/gltf+json``)."""
    asset = await assets.get(asset_id)
    headers = {"Cache-Control": "private, max-age=31536000, immutable", "ETag": f'"{asset.info.sha256}"'}
    return Response(asset.data, media_type=asset.info.media_type, headers=headers)


@router.delete(
    "/assets/{asset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND | UNAVAILABLE | {409: {"description": "used by profiles (named)", "model": ErrorBody}},
)
async def delete_asset(asset_id: str, assets: AssetsDep, who: Engineer, request: Request) -> Response:
    """Delete an asset: 409 naming the profiles whose appearance uses it."""
    async with audit(request, who, "asset.delete", asset_id):
        await assets.delete(asset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
