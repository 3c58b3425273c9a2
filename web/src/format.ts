// Formatting of values, units, times and durations for display.

import type { AlarmSeverity, MachineKind, MachineStatus } from "./api/types";

/** A value with a precision that suits its magnitude, and its unit. */
export function formatValue(value: number | null | undefined, unit = ""): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const u = formatUnit(unit);
  return u ? `${text} ${u}` : text;
}

/** Units as people write them. */
export function formatUnit(unit: string): string {
  switch (unit) {
    case "m3/h":
      return "m³/h";
    case "1/min":
      return "/min";
    default:
      return unit;
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
  const d = Math.floor(hours / 24);
  const h = Math.round(hours - d * 24);
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

export function formatPercent(fraction: number | null | undefined, digits = 0): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return "—";
  return `${(fraction * 100).toFixed(digits)} %`;
}

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** Epoch ms as the local 24-hour clock, HH:MM:SS (the one time format of the dashboard). */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Epoch ms as a local date, "02 Dec". */
export function formatDay(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  return `${pad2(d.getDate())} ${MONTHS[d.getMonth()] ?? ""}`;
}

/** Local wall-clock time, HH:MM:SS (24 h), or with the date when not today. */
export function formatTime(ts: string | null | undefined, now: Date = new Date()): string {
  if (!ts) return "—";
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return "—";
  const time = formatClock(d.getTime());
  if (d.toDateString() === now.toDateString()) return time;
  return `${formatDay(d.getTime())} ${time}`;
}

export const KIND_LABEL: Record<MachineKind, string> = {
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
