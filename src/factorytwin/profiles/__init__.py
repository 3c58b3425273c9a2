"""Machine profiles as data: sensors with their units and bands, commands, appearance; bundled profiles; DTDL v3.

Others use: the models (``Profile``, ``ProfileBody``, ``StoredProfile`` and their parts), ``bundled_profiles``,
the unit table (``UNITS``, ``canonical_unit``), ``profile_from_dtdl``/``profile_to_dtdl``, the ``ProfileStore``
protocol and the ``ProfileService`` the API calls.
"""

from __future__ import annotations

from factorytwin.profiles.bundled import bundled_ids, bundled_profiles
from factorytwin.profiles.model import (
    BUILTIN_MODELS,
    Appearance,
    BuiltinAppearance,
    CommandParameter,
    GltfAppearance,
    PrimitiveAppearance,
    Profile,
    ProfileBody,
    ProfileCommand,
    ProfileSensor,
    StoredProfile,
)
from factorytwin.profiles.units import BY_DTDL, BY_SYMBOL, UNITS, Unit, canonical_unit

__all__ = [
    "BUILTIN_MODELS",
    "BY_DTDL",
    "BY_SYMBOL",
    "UNITS",
    "Appearance",
    "BuiltinAppearance",
    "CommandParameter",
    "GltfAppearance",
    "PrimitiveAppearance",
    "Profile",
    "ProfileBody",
    "ProfileCommand",
    "ProfileSensor",
    "StoredProfile",
    "Unit",
    "bundled_ids",
    "bundled_profiles",
    "canonical_unit",
]
