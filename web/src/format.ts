// Formatting of values, units, times and durations for display.

import type { AlarmSeverity, MachineStatus } from "./api/types";
import { displayUnit, toDisplay, unitPrefs } from "./units";

/** A value with a precision that suits its magnitude, and its unit — converted to the unit the user prefers for
 * that quantity (units.ts: °C instead of K, psi instead of bar...). */
export function formatValue(value: number | null | undefined, unit = ""): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return `${formatNumber(unit ? toDisplay(value, unit, unitPrefs()) : value)}${unit ? ` ${formatUnit(unit)}` : ""}`;
}

/** A value in `unit` converted like formatValue, without the unit (for "low – high unit" ranges). */
export function formatIn(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return formatNumber(toDisplay(value, unit, unitPrefs()));
}

function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Units as people write them, and as the user prefers them (units.ts). */
export function formatUnit(unit: string): string {
  switch (displayUnit(unit, unitPrefs())) {
    case "m3/h":
      return "m³/h";
    case "1/min":
      return "/min";
    default:
      return displayUnit(unit, unitPrefs());
  }
}

/** Kelvin as degrees Celsius, as a secondary reading for temperatures. */
export function kelvinToCelsius(k: number): number {
  return k - 273.15;
}

/** An age in seconds as "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAgeS(seconds: number): string {
  const s = Math.max(0, seconds);
  if (s < 2) return "just now";
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** How long ago `ts` was at `now`: "just now", "12 s ago", "5 min ago"... ("never" without a time). */
export function formatAgo(ts: string | null | undefined, now: number = Date.now()): string {
  if (!ts) return "never";
  const t = Date.parse(ts);
  if (!Number.isFinite(t)) return "—";
  return formatAgeS((now - t) / 1000);
}

/** A duration in hours as "45 min", "7.5 h", "3 d 4 h". */
export function formatHours(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours)) return "—";
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < 48) return `${hours < 10 ? hours.toFixed(1) : Math.round(hours)} h`;
  const whole = Math.round(hours); // round first: 95.6 h is 4 d, not "3 d 24 h"
  const d = Math.floor(whole / 24);
  const h = whole - d * 24;
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)} %`;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

// -- the plant's clock: every time on screen is shown in the plant's time zone (GET /plant), 24-hour ------------

let plantZone: string | undefined; // undefined: the browser's own zone (before GET /plant has answered)
let zoneFormat: Intl.DateTimeFormat | null = null;

/** Show every time from now on in `zone` (an IANA name; null: the browser's zone). */
export function setPlantZone(zone: string | null): void {
  plantZone = zone ?? undefined;
  zoneFormat = null;
}

/** The zone times are shown in, by its IANA name. */
export function plantZoneName(): string {
  return plantZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

interface WallTime {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Epoch ms as the wall time of the plant's zone. */
export function wallTime(ms: number): WallTime {
  zoneFormat ??= new Intl.DateTimeFormat("en-GB", {
    timeZone: plantZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const out: Record<string, number> = {};
  for (const p of zoneFormat.formatToParts(new Date(ms))) if (p.type !== "literal") out[p.type] = Number(p.value);
  return {
    year: out.year ?? 0,
    month: out.month ?? 1,
    day: out.day ?? 1,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** The epoch ms at which the plant's clock shows `w` (the later one in a DST fold, the shifted one in a gap). */
export function fromWallTime(w: WallTime): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const offsetAt = (ms: number): number => {
    const t = wallTime(ms);
    return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - Math.floor(ms / 1000) * 1000;
  };
  const first = asUtc - offsetAt(asUtc);
  return asUtc - offsetAt(first);
}

/** Epoch ms as the plant's 24-hour clock, HH:MM:SS (the one time format of the dashboard). */
export function formatClock(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  const w = wallTime(ms);
  return `${pad2(w.hour)}:${pad2(w.minute)}:${pad2(w.second)}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Epoch ms as a date of the plant's calendar, "02 Dec". */
export function formatDay(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  const w = wallTime(ms);
  return `${pad2(w.day)} ${MONTHS[w.month - 1] ?? ""}`;
}

/** The plant's wall-clock time, HH:MM:SS (24 h), with the date when it is not the plant's today. */
export function formatTime(ts: string | null | undefined, now: Date = new Date()): string {
  if (!ts) return "—";
  const ms = Date.parse(ts);
  if (Number.isNaN(ms)) return "—";
  const time = formatClock(ms);
  const a = wallTime(ms);
  const b = wallTime(now.getTime());
  if (a.year === b.year && a.month === b.month && a.day === b.day) return time;
  return `${formatDay(ms)} ${time}`;
}

/** A profile's name on screen: the bundled kinds' own words, else the profile's name (served with the layout),
 * else its id. */
export function profileLabel(profileId: string, names?: Record<string, string>): string {
  return KIND_LABEL[profileId] ?? names?.[profileId] ?? profileId;
}

const KIND_LABEL: Partial<Record<string, string>> = {
  cnc_mill: "CNC mill",
  lathe: "Lathe",
  hydraulic_press: "Hydraulic press",
  pump: "Pump",
  air_compressor: "Air compressor",
  conveyor: "Conveyor",
  robot_arm: "Robot arm",
};

export const STATUS_COLOR: Record<MachineStatus, string> = {
  running: "#22c55e",
  idle: "#38bdf8",
  stopped: "#94a3b8",
  maintenance: "#a78bfa",
  failed: "#ef4444",
  offline: "#475569",
};

export const SEVERITY_COLOR: Record<AlarmSeverity, string> = {
  critical: "#ef4444",
  major: "#f97316",
  minor: "#eab308",
  warning: "#38bdf8",
};

/** Health 0..100 as a colour from red (0) through amber (50) to green (100). */
export function healthColor(health: number | null | undefined): string {
  if (health === null || health === undefined || !Number.isFinite(health)) return "#64748b";
  const h = Math.max(0, Math.min(100, health));
  // Hue 0 (red) .. 130 (green), kept saturated enough to read on a dark background.
  const hue = Math.round((h / 100) * 130);
  return `hsl(${hue}, 75%, 50%)`;
}

/** Where a value sits against its normal band: "low", "ok" or "high". */
export function bandPosition(value: number, low: number, high: number): "low" | "ok" | "high" {
  if (value < low) return "low";
  if (value > high) return "high";
  return "ok";
}
