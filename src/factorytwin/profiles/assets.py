"""Uploaded 3D assets (glTF 2.0 JSON or GLB) a profile's appearance may name, and the checks they pass first.

An asset is one self-contained file: a ``.gltf`` JSON document whose buffers and images are embedded ``data:``
URIs, or a binary ``.glb`` (12-byte header, a JSON chunk, an optional BIN chunk). A file the browser would have to
fetch more for (an external or relative URI) is refused, since it would make the dashboard reach outside the
factorytwin origin, or for files that were never uploaded. The id is the first 16 hex digits of the file's SHA-256,
so uploading the same file twice gives the same asset.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, Field

from factorytwin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from factorytwin.profiles.asset_bounds import Bounds, scene_bounds

MAX_ASSET_BYTES = 16 * 1024 * 1024
"""The default cap of one upload (``FT_MAX_ASSET_BYTES``); larger is a 413."""
MediaType = Literal["model/gltf+json", "model/gltf-binary"]
GLTF_JSON: Final = "model/gltf+json"
GLB: Final = "model/gltf-binary"
_GLB_MAGIC = 0x46546C67  # "glTF", little-endian
_CHUNK_JSON = 0x4E4F534A  # "JSON"
_CHUNK_BIN = 0x004E4942  # "BIN\0"
_BODY = ("body",)


class AssetInfo(BaseModel):
    """What is known of a stored asset (its bytes are served by ``GET /assets/{id}``)."""

    id: str = Field(description="the first 16 hex digits of the file's SHA-256")
    name: str = Field(max_length=200, description="the file name given at upload")
    media_type: MediaType
    size: int = Field(ge=0, description="bytes")
    sha256: str
    bounds: tuple[float, float, float, float, float, float] | None = Field(
        default=None,
        description="the model's bounding box, metres in its own axes (+Y up): min x, y, z, max x, y, z; None when "
        "it has no bounded mesh",
    )
    saved_at: AwareDatetime
    saved_by: str


@dataclass(frozen=True, slots=True)
class Asset:
    """A stored asset with its bytes."""

    info: AssetInfo
    data: bytes


class AssetStore(Protocol):
    """Uploaded assets beside a ``Store`` (``factorytwin.store.assets.asset_store_for``)."""

    async def assets(self) -> list[AssetInfo]:
        """Every asset, by id (without the bytes)."""

    async def asset(self, asset_id: str) -> Asset | None:
        """An asset with its bytes, or None."""

    async def put_asset(self, info: AssetInfo, data: bytes) -> AssetInfo:
        """Store an asset; an id already stored keeps its first upload (same bytes), which is returned."""

    async def delete_asset(self, asset_id: str) -> bool:
        """Delete an asset; False when there is none."""


def _bad(msg: str) -> InvalidInput:
    return InvalidInput([FieldProblem(_BODY, msg, None)])


def _json_doc(text: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(f"{where} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _bad(f"{where} is not a JSON object")
    return doc


def _glb_json(data: bytes) -> tuple[dict[str, Any], bool]:
    """The JSON chunk of a GLB, and whether it has a BIN chunk; ``InvalidInput`` naming what is wrong."""
    if len(data) < 20:
        raise _bad("a GLB file needs at least a 12-byte header and one chunk")
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC:
        raise _bad("not a GLB file: it does not start with 'glTF'")
    if version != 2:
        raise _bad(f"GLB container version {version}; only glTF 2.0 is supported")
    if length != len(data):
        raise _bad(f"the GLB header says {length} bytes, the file has {len(data)}")
    offset, chunks = 12, []
    while offset < length:
        if offset + 8 > length:
            raise _bad(f"a GLB chunk header at byte {offset} runs past the end of the file")
        size, kind = struct.unpack_from("<II", data, offset)
        if size % 4 or offset + 8 + size > length:
            raise _bad(f"the GLB chunk at byte {offset} has length {size}: not 4-byte aligned or past the end")
        chunks.append((kind, data[offset + 8 : offset + 8 + size]))
        offset += 8 + size
    if not chunks or chunks[0][0] != _CHUNK_JSON:
        raise _bad("the first GLB chunk must be the JSON chunk")
    if len(chunks) > 1 and chunks[1][0] != _CHUNK_BIN:
        raise _bad("the second GLB chunk must be the BIN chunk")
    return _json_doc(chunks[0][1].rstrip(b" \x00"), "the GLB's JSON chunk"), len(chunks) > 1


def _check_gltf(doc: dict[str, Any], has_bin: bool) -> None:
    asset = doc.get("asset")
    version = asset.get("version") if isinstance(asset, dict) else None
    if not isinstance(version, str):
        raise _bad("not a glTF document: asset.version is missing")
    if version.split(".")[0] != "2":
        raise _bad(f"glTF asset.version {version!r}; only glTF 2.0 is supported")
    for array in ("buffers", "images"):
        items = doc.get(array, [])
        if not isinstance(items, list):
            raise _bad(f"glTF {array} is not an array")
        for index, item in enumerate(items):
            uri = item.get("uri") if isinstance(item, dict) else None
            if uri is None:
                if array == "buffers" and not has_bin:
                    raise _bad(f"glTF buffers[{index}] has no uri and the file has no BIN chunk")
                continue
            if not isinstance(uri, str) or not uri.startswith("data:"):
                shown = str(uri)[:80]
                raise _bad(
                    f"glTF {array}[{index}].uri {shown!r} points outside the file; upload one self-contained file "
                    "(GLB, or .gltf with data: URIs)"
                )


def inspect_gltf_file(data: bytes) -> tuple[MediaType, dict[str, Any]]:
    """The media type and JSON document of a glTF 2.0 file (JSON or GLB), or ``InvalidInput`` at ``body`` with
    the reason."""
    if not data:
        raise _bad("the file is empty")
    if data[:4] == b"glTF":
        doc, has_bin = _glb_json(data)
        _check_gltf(doc, has_bin)
        return GLB, doc
    doc = _json_doc(data, "the file")
    _check_gltf(doc, has_bin=False)
    return GLTF_JSON, doc


def check_gltf_file(data: bytes) -> MediaType:
    """The media type of a glTF 2.0 file (JSON or GLB), or ``InvalidInput`` at ``body`` with the reason."""
    return inspect_gltf_file(data)[0]


ProfilesUsing = Callable[[str], Awaitable[list[str]]]
"""Given an asset id, the ids of the profiles whose appearance uses it."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AssetService:
    """Upload (checked), list, read and delete assets; deleting one a profile uses is refused."""

    def __init__(
        self, store: AssetStore, profiles_using: ProfilesUsing, now: Callable[[], datetime] = _utc_now
    ) -> None:
        self.store = store
        self.profiles_using = profiles_using
        self.now = now
        self._bounds: dict[str, Bounds | None] = {}

    async def upload(self, name: str, data: bytes, by: str) -> AssetInfo:
        """Check and store a file; the same bytes uploaded again give the asset already stored."""
        media_type, doc = inspect_gltf_file(data)
        digest = hashlib.sha256(data).hexdigest()
        info = AssetInfo(
            id=digest[:16],
            name=name[:200] or "model",
            media_type=media_type,
            size=len(data),
            sha256=digest,
            bounds=scene_bounds(doc),
            saved_at=self.now(),
            saved_by=by,
        )
        stored = await self.store.put_asset(info, data)
        self._bounds[stored.id] = stored.bounds
        return stored

    async def load(self) -> None:
        """Read every asset's bounding box once (at start-up), for ``bounds``."""
        self._bounds = {a.id: a.bounds for a in await self.store.assets()}

    def bounds(self, asset_id: str) -> Bounds | None:
        """The bounding box of an uploaded model (None for an unknown one, or one without a bounded mesh)."""
        return self._bounds.get(asset_id)

    async def list(self) -> list[AssetInfo]:
        """Every asset, by id."""
        return await self.store.assets()

    async def get(self, asset_id: str) -> Asset:
        """An asset with its bytes; ``NotFound`` otherwise."""
        found = await self.store.asset(asset_id)
        if found is None:
            raise NotFound(f"no asset {asset_id!r}")
        return found

    async def exists(self, asset_id: str) -> bool:
        """Whether an asset with this id is stored."""
        return any(a.id == asset_id for a in await self.store.assets())

    async def delete(self, asset_id: str) -> None:
        """Delete an asset; ``NotFound``, or ``Conflict`` naming the profiles that use it."""
        users = sorted(await self.profiles_using(asset_id))
        if users:
            raise Conflict(f"asset {asset_id!r} is used by profiles {', '.join(users)}", ("path", "asset_id"))
        if not await self.store.delete_asset(asset_id):
            raise NotFound(f"no asset {asset_id!r}")
        self._bounds.pop(asset_id, None)
