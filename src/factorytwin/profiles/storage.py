"""The ``ProfileStore`` protocol: versioned machine profiles beside a ``Store``.

Both backends implement it in ``factorytwin.store`` (SQL stays there); ``factorytwin.store.profiles.profile_store_for``
gives the one sharing an open ``Store``'s database. Every write of a profile is a new version; nothing is
overwritten, so a machine's history can always be read with the bands it was measured against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from factorytwin.profiles.model import ProfileBody, StoredProfile


class ProfileStore(Protocol):
    """Profiles and their versions; every method is safe to call from the event loop."""

    async def profiles(self) -> list[StoredProfile]:
        """The latest version of every profile, by id."""

    async def profile(self, profile_id: str, version: int | None = None) -> StoredProfile | None:
        """Version ``version`` of a profile (its latest when None), or None when there is no such profile or
        version."""

    async def create_profile(self, body: ProfileBody, by: str, at: datetime) -> StoredProfile:
        """Store a new profile as version 1; ``Conflict`` when the id is taken."""

    async def update_profile(self, body: ProfileBody, by: str, at: datetime) -> StoredProfile | None:
        """Store ``body`` as the next version of its profile; None when there is no such profile."""

    async def delete_profile(self, profile_id: str) -> bool:
        """Delete a profile with every version; False when there is no such profile."""
