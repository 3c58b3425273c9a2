"""The bundled profiles as the sensor catalogue of ``domain.py`` defines them (with the twin's activity sensors).

``python -m tests.unit.profiles.bundled_source`` writes them to ``src/factorytwin/profiles/bundled/`` (done once,
when profiles became data); ``test_bundled.py`` checks the committed files still equal what this builds, so the
catalogue and the profiles cannot drift apart while both exist.
"""

from __future__ import annotations

import sys
from pathlib import Path

from factorytwin.domain import ACTIVITY_SENSOR, CATALOGUE, Command, CommandKind, MachineKind
from factorytwin.profiles import BuiltinAppearance, CommandParameter, Profile, ProfileCommand, ProfileSensor
from factorytwin.profiles.model import SetpointResponse

BUNDLED_DIR = Path(__file__).resolve().parents[3] / "src" / "factorytwin" / "profiles" / "bundled"
KIND_NAMES: dict[MachineKind, str] = {
    MachineKind.CNC_MILL: "CNC mill",
    MachineKind.LATHE: "Lathe",
    MachineKind.HYDRAULIC_PRESS: "Hydraulic press",
    MachineKind.PUMP: "Pump",
    MachineKind.AIR_COMPRESSOR: "Air compressor",
    MachineKind.CONVEYOR: "Conveyor",
    MachineKind.ROBOT_ARM: "Robot arm",
}
COMMAND_LABELS: dict[CommandKind, str] = {
    CommandKind.SET_SPEED: "Set speed",
    CommandKind.STOP: "Stop",
    CommandKind.START: "Start",
    CommandKind.MAINTAIN: "Maintenance",
}


def _speed_range() -> tuple[float, float]:
    """The bounds of ``Command.speed_pct`` (ge/le), read from the model."""
    bounds = {
        type(m).__name__: getattr(m, type(m).__name__.lower()) for m in Command.model_fields["speed_pct"].metadata
    }
    return float(bounds["Ge"]), float(bounds["Le"])


def _commands() -> list[ProfileCommand]:
    low, high = _speed_range()
    speed = CommandParameter(key="speed_pct", label="Speed, percent of nominal", unit="%", low=low, high=high)
    return [
        ProfileCommand(
            key=kind.value, label=COMMAND_LABELS[kind], parameter=speed if kind is CommandKind.SET_SPEED else None
        )
        for kind in CommandKind
    ]


def catalogue_profiles() -> list[Profile]:
    """One profile per machine kind, from ``CATALOGUE`` (sensors, bands), ``ACTIVITY_SENSOR`` and ``CommandKind``."""
    return [
        Profile(
            id=kind.value,
            name=KIND_NAMES[kind],
            description=f"Bundled profile of the {KIND_NAMES[kind].lower()}, from factorytwin's sensor catalogue.",
            sensors=[
                ProfileSensor(
                    key=spec.key,
                    label=spec.label,
                    unit=spec.unit,
                    low=spec.low,
                    high=spec.high,
                    normal_low=spec.normal_low,
                    normal_high=spec.normal_high,
                    max_rate=spec.max_rate,
                    activity=spec.key == ACTIVITY_SENSOR[kind],
                    setpoint=(
                        SetpointResponse(exponent=spec.setpoint_exponent, static=spec.setpoint_static)
                        if spec.setpoint_exponent is not None
                        else None
                    ),
                )
                for spec in specs
            ],
            commands=_commands(),
            appearance=BuiltinAppearance(kind="builtin", model=kind.value),
            version=1,
        )
        for kind, specs in CATALOGUE.items()
    ]


def profile_json(profile: Profile) -> str:
    """A bundled file's text: the profile as indented JSON (every field written, defaults too) and a newline."""
    return profile.model_dump_json(indent=2) + "\n"


def main() -> int:
    """Write every catalogue profile to ``BUNDLED_DIR/<id>.json``."""
    for profile in catalogue_profiles():
        (BUNDLED_DIR / f"{profile.id}.json").write_text(profile_json(profile), encoding="utf-8")
        sys.stdout.write(f"wrote {profile.id}.json\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
