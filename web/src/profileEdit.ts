// The profile editor's pure part: a blank profile, the server's 422 problems by field path, and the checks the
// browser can make before sending (the server checks everything again and has the last word).

import type { FieldError } from "./api/client";
import type { ProfileBody, ProfileSensor } from "./api/types";

export function blankSensor(n: number): ProfileSensor {
  return {
    key: `sensor_${n}`,
    label: `Sensor ${n}`,
    unit: "°C",
    low: 0,
    high: 100,
    normal_low: 10,
    normal_high: 80,
    max_rate: null,
    activity: false,
  };
}

export function blankProfile(): ProfileBody {
  return {
    id: "",
    name: "",
    description: "",
    sensors: [blankSensor(1)],
    commands: [],
    appearance: { kind: "primitive", shape: "box", width: 1.5, height: 1.5, depth: 1.5, color: "#8c939c" },
  };
}

/** The body of a stored profile, without the fields the store adds. */
export function bodyOf(p: ProfileBody & Record<string, unknown>): ProfileBody {
  const { id, name, description, sensors, commands, appearance } = p;
  return { id, name, description: description ?? "", sensors, commands: commands ?? [], appearance };
}

/** A field path as a key: `["body", "sensors", 2, "unit"]` -> `sensors.2.unit` (the leading "body" dropped). */
export function pathKey(loc: readonly (string | number)[]): string {
  return (loc[0] === "body" ? loc.slice(1) : loc).join(".");
}

/** Problems by field path key (several at one field joined); ``keyOf`` makes the key of a path. */
export function problemsByPath(
  problems: readonly FieldError[],
  keyOf: (loc: readonly (string | number)[]) => string = pathKey,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) {
    const k = keyOf(p.loc);
    out[k] = out[k] ? `${out[k]}; ${p.msg}` : p.msg;
  }
  return out;
}

const KEY = /^[A-Za-z](?:[A-Za-z0-9_]{0,62}[A-Za-z0-9])?$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The obvious mistakes, by the same field paths the server uses (empty: nothing seen). */
export function clientProblems(p: ProfileBody): Record<string, string> {
  const out: Record<string, string> = {};
  if (!ID.test(p.id)) out["id"] = "letters, digits, _ . - (1-64), starting with a letter or digit";
  if (!p.name.trim()) out["name"] = "a name is needed";
  if (p.sensors.length === 0) out["sensors"] = "at least one sensor";
  const seen = new Map<string, number>();
  p.sensors.forEach((s, i) => {
    const at = `sensors.${i}`;
    if (!KEY.test(s.key)) out[`${at}.key`] = "letters, digits and _, starting with a letter";
    const first = seen.get(s.key);
    if (first !== undefined) out[`${at}.key`] = `duplicate key: also sensor ${first + 1}`;
    seen.set(s.key, i);
    if (!s.label.trim()) out[`${at}.label`] = "a label is needed";
    if (!(s.low < s.high)) out[`${at}.high`] = "must be above low";
    else if (!(s.low <= s.normal_low && s.normal_low < s.high)) out[`${at}.normal_low`] = "inside the physical range";
    else if (!(s.normal_low < s.normal_high && s.normal_high <= s.high))
      out[`${at}.normal_high`] = "above normal low, inside the physical range";
    if (s.max_rate != null && !(s.max_rate > 0)) out[`${at}.max_rate`] = "above 0, or empty";
  });
  if (p.sensors.filter((s) => s.activity).length > 1) out["sensors"] = "at most one activity sensor";
  (p.commands ?? []).forEach((c, i) => {
    if (!KEY.test(c.key)) out[`commands.${i}.key`] = "letters, digits and _, starting with a letter";
    if (seen.has(c.key)) out[`commands.${i}.key`] = "a sensor has this key";
  });
  return out;
}
