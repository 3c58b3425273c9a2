"""The unit table: every unit a profile's sensor may be measured in, and how DTDL v3 names it.

A unit is written as its symbol (``"°C"``, ``"bar"``, ``"m3/h"``); a few common spellings are accepted as
aliases and stored as the canonical symbol (``"degC"`` -> ``"°C"``, ``"m³/h"`` -> ``"m3/h"``). Canonical symbols
are the ones the sensor catalogue already uses (``m3/h`` rather than ``m³/h``), so the bundled profiles equal it.

``dtdl`` is the unit's name in DTDL v3's QuantitativeTypes extension (``dtmi:dtdl:extension:quantitativeTypes;1``)
and ``semantic`` the semantic type that carries it on export. Units DTDL has no name for (``mm/s``, ``kN``,
``1/min``...) have ``dtdl`` None; unitless ones (``%``, ``ppm``) are read from DTDL but exported without a
semantic type, because DTDL only offers Concentration/RelativeHumidity/RelativeDensity for them, which would
mislabel e.g. seal wear. Either way the export also carries our symbol (see ``profiles.dtdl``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Unit:
    """One unit of the table."""

    symbol: str
    quantity: str
    name: str
    dtdl: str | None = None
    semantic: str | None = None
    aliases: tuple[str, ...] = ()


def _u(
    symbol: str,
    quantity: str,
    name: str,
    dtdl: str | None = None,
    semantic: str | None = None,
    aliases: tuple[str, ...] = (),
) -> Unit:
    return Unit(symbol=symbol, quantity=quantity, name=name, dtdl=dtdl, semantic=semantic, aliases=aliases)


_T, _P, _V, _W = "temperature", "pressure", "velocity", "angular velocity"
UNITS: tuple[Unit, ...] = (
    _u("K", _T, "kelvin", "kelvin", "Temperature"),
    _u("°C", _T, "degree Celsius", "degreeCelsius", "Temperature", ("degC", "℃")),
    _u("°F", _T, "degree Fahrenheit", "degreeFahrenheit", "Temperature", ("degF", "℉")),
    _u("Pa", _P, "pascal", "pascal", "Pressure"),
    _u("hPa", _P, "hectopascal", "hectopascal", "Pressure"),
    _u("kPa", _P, "kilopascal", "kilopascal", "Pressure"),
    _u("MPa", _P, "megapascal"),
    _u("bar", _P, "bar", "bar", "Pressure"),
    _u("mbar", _P, "millibar", "millibar", "Pressure"),
    _u("psi", _P, "pound-force per square inch", "poundPerSquareInch", "Pressure"),
    _u("mmHg", _P, "millimetre of mercury", "millimetresOfMercury", "Pressure"),
    _u("inHg", _P, "inch of mercury", "inchesOfMercury", "Pressure"),
    _u("inH2O", _P, "inch of water", "inchesOfWater", "Pressure"),
    _u("m/s", _V, "metre per second", "metrePerSecond", "Velocity"),
    _u("cm/s", _V, "centimetre per second", "centimetrePerSecond", "Velocity"),
    _u("mm/s", _V, "millimetre per second (e.g. vibration velocity RMS, ISO 10816)"),
    _u("m/min", _V, "metre per minute"),
    _u("m/h", _V, "metre per hour", "metrePerHour", "Velocity"),
    _u("km/h", _V, "kilometre per hour", "kilometrePerHour", "Velocity"),
    _u("rpm", _W, "revolution per minute", "revolutionPerMinute", "AngularVelocity", ("r/min",)),
    _u("rps", _W, "revolution per second", "revolutionPerSecond", "AngularVelocity"),
    _u("rad/s", _W, "radian per second", "radianPerSecond", "AngularVelocity"),
    _u("°/s", _W, "degree per second", "degreePerSecond", "AngularVelocity"),
    _u("m/s²", "acceleration", "metre per second squared", "metrePerSecondSquared", "Acceleration", ("m/s2",)),
    _u("gn", "acceleration", "standard gravity (g-force, vibration acceleration)", "gForce", "Acceleration"),
    _u("Hz", "frequency", "hertz", "hertz", "Frequency"),
    _u("kHz", "frequency", "kilohertz", "kilohertz", "Frequency"),
    _u("1/min", "frequency", "per minute (strokes, cycles)"),
    _u("1/h", "frequency", "per hour (cycles, parts)"),
    _u("A", "current", "ampere", "ampere", "Current"),
    _u("mA", "current", "milliampere", "milliampere", "Current"),
    _u("kA", "current", "kiloampere", "kiloampere", "Current"),
    _u("V", "voltage", "volt", "volt", "Voltage"),
    _u("mV", "voltage", "millivolt", "millivolt", "Voltage"),
    _u("kV", "voltage", "kilovolt", "kilovolt", "Voltage"),
    _u("W", "power", "watt", "watt", "Power"),
    _u("kW", "power", "kilowatt", "kilowatt", "Power"),
    _u("MW", "power", "megawatt", "megawatt", "Power"),
    _u("hp", "power", "horsepower", "horsepower", "Power"),
    _u("VA", "apparent power", "volt-ampere", "voltAmpere", "ApparentPower"),
    _u("kVA", "apparent power", "kilovolt-ampere", "kilovoltAmpere", "ApparentPower"),
    _u("var", "reactive power", "volt-ampere reactive", "voltAmpereReactive", "ReactivePower"),
    _u("kvar", "reactive power", "kilovolt-ampere reactive", "kilovoltAmpereReactive", "ReactivePower"),
    _u("J", "energy", "joule", "joule", "Energy"),
    _u("kJ", "energy", "kilojoule", "kilojoule", "Energy"),
    _u("MJ", "energy", "megajoule", "megajoule", "Energy"),
    _u("Wh", "energy", "watt-hour", "wattHour", "Energy"),
    _u("kWh", "energy", "kilowatt-hour", "kilowattHour", "Energy"),
    _u("MWh", "energy", "megawatt-hour", "megawattHour", "Energy"),
    _u("Nm", "torque", "newton metre", "newtonMetre", "Torque", ("N·m", "N m", "N.m")),
    _u("N", "force", "newton", "newton", "Force"),
    _u("kN", "force", "kilonewton"),
    _u("L/s", "volume flow", "litre per second", "litrePerSecond", "VolumeFlowRate", ("l/s",)),
    _u("L/min", "volume flow", "litre per minute", "litrePerMinute", "VolumeFlowRate", ("l/min",)),
    _u("L/h", "volume flow", "litre per hour", "litrePerHour", "VolumeFlowRate", ("l/h",)),
    _u("mL/min", "volume flow", "millilitre per minute", "millilitrePerMinute", "VolumeFlowRate"),
    _u("m3/s", "volume flow", "cubic metre per second", "cubicMetrePerSecond", "VolumeFlowRate", ("m³/s",)),
    _u("m3/min", "volume flow", "cubic metre per minute", "cubicMetrePerMinute", "VolumeFlowRate", ("m³/min",)),
    _u("m3/h", "volume flow", "cubic metre per hour", "cubicMetrePerHour", "VolumeFlowRate", ("m³/h",)),
    _u("gal/min", "volume flow", "US gallon per minute", "gallonPerMinute", "VolumeFlowRate", ("gpm",)),
    _u("cfm", "volume flow", "cubic foot per minute", "cubicFootPerMinute", "VolumeFlowRate"),
    _u("kg/s", "mass flow", "kilogram per second", "kilogramPerSecond", "MassFlowRate"),
    _u("kg/h", "mass flow", "kilogram per hour", "kilogramPerHour", "MassFlowRate"),
    _u("g/s", "mass flow", "gram per second", "gramPerSecond", "MassFlowRate"),
    _u("kg", "mass", "kilogram", "kilogram", "Mass"),
    _u("g", "mass", "gram", "gram", "Mass"),
    _u("mg", "mass", "milligram", "milligram", "Mass"),
    _u("t", "mass", "tonne", "tonne", "Mass"),
    _u("lb", "mass", "pound (mass)", "massPound", "Mass"),
    _u("m", "length", "metre", "metre", "Length"),
    _u("cm", "length", "centimetre", "centimetre", "Length"),
    _u("mm", "length", "millimetre", "millimetre", "Length"),
    _u("µm", "length", "micrometre (e.g. vibration displacement)", "micrometre", "Length", ("um", "μm")),
    _u("km", "length", "kilometre", "kilometre", "Length"),
    _u("in", "length", "inch", "inch", "Length"),
    _u("ft", "length", "foot", "foot", "Length"),
    _u("°", "angle", "degree of arc", "degreeOfArc", "Angle", ("deg",)),
    _u("rad", "angle", "radian", "radian", "Angle"),
    _u("s", "time", "second", "second", "TimeSpan"),
    _u("ms", "time", "millisecond", "millisecond", "TimeSpan"),
    _u("min", "time", "minute", "minute", "TimeSpan"),
    _u("h", "time", "hour", "hour", "TimeSpan"),
    _u("d", "time", "day", "day", "TimeSpan"),
    _u("L", "volume", "litre", "litre", "Volume", ("l",)),
    _u("mL", "volume", "millilitre", "millilitre", "Volume", ("ml",)),
    _u("m3", "volume", "cubic metre", "cubicMetre", "Volume", ("m³",)),
    _u("kg/m3", "density", "kilogram per cubic metre", "kilogramPerCubicMetre", "Density", ("kg/m³",)),
    _u("Ω", "resistance", "ohm", "ohm", "Resistance", ("ohm", "Ohm")),
    _u("kΩ", "resistance", "kiloohm", "kiloohm", "Resistance", ("kohm",)),
    _u("MΩ", "resistance", "megaohm", "megaohm", "Resistance", ("Mohm",)),
    _u("dB", "sound pressure level", "decibel", "decibel", "SoundPressure"),
    _u("lx", "illuminance", "lux", "lux", "Illuminance"),
    _u("%", "ratio", "percent (wear, load, humidity, duty)", "percent"),
    _u("ppm", "ratio", "parts per million", "partsPerMillion"),
    _u("ppb", "ratio", "parts per billion", "partsPerBillion"),
    _u("1", "ratio", "dimensionless (a count, an index, a ratio)", "unity"),
)
"""Every unit a profile may use, by quantity."""

BY_SYMBOL: dict[str, Unit] = {u.symbol: u for u in UNITS}
"""Units by canonical symbol."""
_ALIASES: dict[str, str] = {alias: u.symbol for u in UNITS for alias in u.aliases}
UNIT_SPELLINGS: tuple[str, ...] = tuple(u.symbol for u in UNITS) + tuple(_ALIASES)
"""Every spelling a profile may use: the symbols, then the aliases (the JSON Schema's enum of a unit)."""
BY_DTDL: dict[str, Unit] = {u.dtdl: u for u in UNITS if u.dtdl is not None}
"""Units by their DTDL v3 QuantitativeTypes name (``degreeCelsius`` -> °C)."""


def canonical_unit(text: str) -> str | None:
    """The canonical symbol of ``text`` (a symbol or an alias), or None when the table has no such unit."""
    if text in BY_SYMBOL:
        return text
    return _ALIASES.get(text)


def unit_problem(text: str) -> str:
    """The message for a unit the table does not know, with a hint at the nearest known symbols."""
    folded = text.casefold()
    close = [u.symbol for u in UNITS if u.symbol.casefold() == folded or folded in u.name.casefold().split()]
    hint = f" (did you mean {', '.join(repr(c) for c in close[:3])}?)" if close else ""
    return f"unknown unit {text!r}{hint}; see docs/PROFILES.md for the unit table"
