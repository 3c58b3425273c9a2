"""The profiles that ship with factorytwin: one JSON file per machine kind, in this package's directory.

They were generated once from the sensor catalogue of ``domain.py`` (``tests/unit/profiles/bundled_source.py``
writes them; a test keeps them equal to the catalogue until the catalogue is retired). Every store seeds them at
open, so a fresh database knows the seven kinds.
"""

from __future__ import annotations

import functools
from importlib import resources

from factorytwin.profiles.model import Profile


@functools.cache
def bundled_profiles() -> tuple[Profile, ...]:
    """Every bundled profile, by id (read and validated once per process)."""
    files = sorted((f for f in resources.files(__name__).iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    profiles = [Profile.model_validate_json(f.read_text(encoding="utf-8")) for f in files]
    return tuple(sorted(profiles, key=lambda p: p.id))


def bundled_ids() -> frozenset[str]:
    """The ids of the bundled profiles."""
    return frozenset(p.id for p in bundled_profiles())
