"""``ProfileService``: what the API does with profiles, over a ``ProfileStore`` (the rules live here, not in routes).

Deleting is refused (``Conflict``) for a bundled profile and for a profile machines use; which machines use a
profile is asked of a callable (the plant's ``machines_using``). ``on_saved``/``on_deleted`` put a change in force
(the app's registry, the store's sensor dictionary, the profile's machines).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from factorytwin.errors import Conflict, FieldProblem, InvalidInput, NotFound
from factorytwin.profiles.dtdl import DtdlImport, profile_from_dtdl, profile_to_dtdl
from factorytwin.profiles.model import GltfAppearance, Profile, ProfileBody, StoredProfile
from factorytwin.profiles.storage import ProfileStore

MachinesUsing = Callable[[str], Sequence[str]]
"""Given a profile id, the ids of the machines that use it."""
PATH_ID = ("path", "profile_id")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ProfileService:
    """Read, create, version, delete, import and export machine profiles."""

    def __init__(
        self,
        store: ProfileStore,
        machines_using: MachinesUsing,
        now: Callable[[], datetime] = _utc_now,
        on_saved: Callable[[Profile], Awaitable[None]] | None = None,
        on_deleted: Callable[[str], Awaitable[None]] | None = None,
        asset_exists: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.asset_exists = asset_exists
        """Whether an uploaded asset is stored: a glTF appearance must name one (None: not checked)."""
        self.store = store
        self.machines_using = machines_using
        self.now = now
        self.on_saved = on_saved
        """Called with every newly stored version (the app puts it in force: registry, store, machines)."""
        self.on_deleted = on_deleted

    async def list(self) -> list[StoredProfile]:
        """The latest version of every profile, by id."""
        return await self.store.profiles()

    async def get(self, profile_id: str, version: int | None = None) -> StoredProfile:
        """A version of a profile (the latest when None); ``NotFound`` otherwise."""
        found = await self.store.profile(profile_id, version)
        if found is None:
            if version is not None and await self.store.profile(profile_id) is not None:
                raise NotFound(f"profile {profile_id!r} has no version {version}")
            raise NotFound(f"no profile {profile_id!r}")
        return found

    async def create(self, body: ProfileBody, by: str) -> StoredProfile:
        """Store a new profile as version 1; ``Conflict`` (at ``body.id``) when the id is taken."""
        await self._check_asset(body)
        return await self._saved(await self.store.create_profile(body, by, self.now()))

    async def update(self, profile_id: str, body: ProfileBody, by: str) -> StoredProfile:
        """Store ``body`` as the next version of profile ``profile_id``; ``NotFound`` when there is none."""
        if body.id != profile_id:
            msg = f"the body's id {body.id!r} differs from the path's {profile_id!r}; a profile cannot be renamed"
            raise InvalidInput([FieldProblem(("body", "id"), msg, body.id)])
        await self._check_asset(body)
        updated = await self.store.update_profile(body, by, self.now())
        if updated is None:
            raise NotFound(f"no profile {profile_id!r}; POST /profiles creates one")
        return await self._saved(updated)

    async def _check_asset(self, body: ProfileBody) -> None:
        appearance = body.appearance
        if not isinstance(appearance, GltfAppearance) or self.asset_exists is None:
            return
        if not await self.asset_exists(appearance.asset_id):
            msg = f"no uploaded asset {appearance.asset_id!r}; POST /assets uploads a glTF/GLB file"
            raise InvalidInput([FieldProblem(("body", "appearance", "asset_id"), msg, appearance.asset_id)])

    async def _saved(self, stored: StoredProfile) -> StoredProfile:
        if self.on_saved is not None:
            await self.on_saved(stored.profile())
        return stored

    async def delete(self, profile_id: str) -> None:
        """Delete a profile and its versions; ``NotFound``, or ``Conflict`` when bundled or used by machines."""
        found = await self.get(profile_id)
        if found.bundled:
            raise Conflict(f"profile {profile_id!r} ships with factorytwin and cannot be deleted", PATH_ID)
        users = sorted(self.machines_using(profile_id))
        if users:
            shown = ", ".join(users[:20]) + (f" and {len(users) - 20} more" if len(users) > 20 else "")
            raise Conflict(f"profile {profile_id!r} is used by machines {shown}", PATH_ID)
        if not await self.store.delete_profile(profile_id):
            raise NotFound(f"no profile {profile_id!r}")
        if self.on_deleted is not None:
            await self.on_deleted(profile_id)

    async def import_dtdl(self, request: DtdlImport, by: str) -> StoredProfile:
        """Create a profile from a DTDL v3 Interface; ``InvalidInput`` naming each content that cannot be mapped
        (locations start at ``body``), ``Conflict`` when the id is taken."""
        try:
            body = profile_from_dtdl(request)
        except InvalidInput as exc:
            raise InvalidInput([FieldProblem(("body", *p.loc), p.msg, p.value) for p in exc.problems]) from None
        return await self.create(body, by)

    async def export_dtdl(self, profile_id: str, version: int | None = None) -> dict[str, Any]:
        """A version of a profile (the latest when None) as a DTDL v3 Interface; ``NotFound`` otherwise."""
        return profile_to_dtdl((await self.get(profile_id, version)).profile())
