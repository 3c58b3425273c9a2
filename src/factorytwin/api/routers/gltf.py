"""GET /layout.gltf: the factory as a glTF 2.0 scene for external 3D clients (built by ``api.gltf``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from factorytwin.api.auth import Viewer
from factorytwin.api.deps import ServicesDep
from factorytwin.api.gltf import GLTF_MEDIA_TYPE, layout_to_gltf

router = APIRouter(tags=["layout"])


@router.get(
    "/layout.gltf",
    response_class=JSONResponse,
    responses={200: {"content": {GLTF_MEDIA_TYPE: {}}, "description": "a glTF 2.0 JSON document"}},
)
async def get_layout_gltf(who: Viewer, services: ServicesDep) -> JSONResponse:
    """The factory as a glTF 2.0 scene: one node per machine named by its id (see docs/GLTF.md)."""
    return JSONResponse(
        layout_to_gltf(
            services.layout,
            lambda pid: p.appearance if (p := services.registry.get(pid)) else None,
            services.assets.bounds if services.assets is not None else None,
        ),
        media_type=GLTF_MEDIA_TYPE,
        headers={"Content-Disposition": 'inline; filename="factory.gltf"'},
    )
