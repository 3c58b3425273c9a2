// What the operator is told about commands, and what the panel lets them send. Pure functions, so that every
// state a command can end in is unit-tested: the dashboard never says "done" for a command that was not.
//
// A command's life as the browser sees it (docs/WEBSOCKET.md, issue 13):
//   sending ─► delivered ─► applied | refused | no_answer      (the machine's own answer comes as an event)
//       │          (the API's CommandResult said delivered)
//       ├─► undelivered   the API accepted it but nothing received it (no broker, no receiver)
//       ├─► refused       the in-process machine refused it at once (its reason in the outcome)
//       └─► failed        the request itself failed (HTTP error, network)

import type { CommandKind, CommandResult, MachineEvent, MachineStatus } from "../api/types";

export type CommandPhase = "sending" | "delivered" | "applied" | "refused" | "undelivered" | "failed" | "no_answer";

/** A command the operator sent from this page, and what is known of its fate. */
export interface TrackedCommand {
  kind: CommandKind;
  speedPct: number | null;
  /** The command's id once the API has answered. */
  id: string | null;
  phase: CommandPhase;
  /** The server's or the machine's words about it. */
  detail: string;
  /** Epoch ms when it was sent and when the API answered. */
  sentAt: number;
  answeredAt: number | null;
}

/** How long a delivered command may wait for the machine's answer before the panel says there is none. */
export const ANSWER_TIMEOUT_MS = 15_000;

export function isFinal(phase: CommandPhase): boolean {
  return phase !== "sending" && phase !== "delivered";
}

export function sending(kind: CommandKind, speedPct: number | null, now: number): TrackedCommand {
  return { kind, speedPct, id: null, phase: "sending", detail: "", sentAt: now, answeredAt: null };
}

/** The API's answer: delivered (waiting for the machine), refused at once, or not delivered at all. */
export function answered(cmd: TrackedCommand, result: CommandResult, now: number): TrackedCommand {
  // The machine's own words when it has answered already (in process), else what the twin did with it.
  const detail =
    (result.state === "applied" || result.state === "refused") && result.answer ? result.answer : result.outcome;
  const base = { ...cmd, id: result.command.id, detail, answeredAt: now };
  // The server says where the command is; an in-process machine has already applied or refused it.
  if (result.state === "applied") return { ...base, phase: "applied" };
  if (result.state === "refused") return { ...base, phase: "refused" };
  if (result.state === "timed_out") return { ...base, phase: "no_answer" };
  if (result.delivered) return { ...base, phase: "delivered" };
  // The in-process machine answers during the request; its refusal comes back as the outcome.
  const refused = /^refused\b/i.test(result.outcome);
  return { ...base, phase: refused ? "refused" : "undelivered" };
}

export function requestFailed(cmd: TrackedCommand, message: string): TrackedCommand {
  return { ...cmd, phase: "failed", detail: message };
}

/** A machine's answer in its event log: a `command` event naming the command's id, accepted or not. */
export interface MachineAnswer {
  commandId: string;
  command: string;
  accepted: boolean;
  speedPct: number | null;
  message: string;
  ts: string;
}

/** The machine's answer carried by `event`, or null when it is not one (the twin's own log line, say). */
export function machineAnswer(event: MachineEvent): MachineAnswer | null {
  if (event.kind !== "command" || !event.data) return null;
  const d = event.data;
  // The machine's own answer names the command; the twin's one event (no answer over the wire) carries it whole.
  const inner: unknown = d.command;
  const command =
    typeof inner === "string"
      ? inner
      : inner && typeof inner === "object" && typeof (inner as { command?: unknown }).command === "string"
        ? (inner as { command: string }).command
        : null;
  if (typeof d.accepted !== "boolean" || command === null) return null;
  return {
    commandId: typeof d.command_id === "string" ? d.command_id : "",
    command,
    accepted: d.accepted,
    speedPct:
      typeof d.speed_pct === "number"
        ? d.speed_pct
        : inner && typeof inner === "object" && typeof (inner as { speed_pct?: unknown }).speed_pct === "number"
          ? (inner as { speed_pct: number }).speed_pct
          : null,
    message: event.message ?? "",
    ts: event.ts,
  };
}

/** The command's fate once the machine's events (newest first) and the clock are taken into account. */
export function resolve(cmd: TrackedCommand, events: MachineEvent[], now: number): TrackedCommand {
  if (cmd.phase !== "delivered" || cmd.id === null) return cmd;
  for (const e of events) {
    const a = machineAnswer(e);
    if (a && a.commandId === cmd.id) {
      return { ...cmd, phase: a.accepted ? "applied" : "refused", detail: a.message };
    }
  }
  if (cmd.answeredAt !== null && now - cmd.answeredAt >= ANSWER_TIMEOUT_MS) {
    return { ...cmd, phase: "no_answer", detail: `the machine has not answered in ${ANSWER_TIMEOUT_MS / 1000} s` };
  }
  return cmd;
}

const LABEL: Record<CommandKind, string> = {
  start: "Start",
  stop: "Stop",
  maintain: "Maintain",
  set_speed: "Set speed",
};

/** "Set speed 60 %", "Stop". */
export function commandLabel(kind: CommandKind, speedPct: number | null): string {
  return kind === "set_speed" && speedPct !== null ? `${LABEL[kind]} ${speedPct} %` : LABEL[kind];
}

const PHASE_TEXT: Record<CommandPhase, string> = {
  sending: "sending…",
  delivered: "delivered, waiting for the machine's answer…",
  applied: "applied",
  refused: "refused",
  undelivered: "not delivered",
  failed: "failed",
  no_answer: "delivered, no answer",
};

export type Tone = "pending" | "ok" | "warn" | "error";

const PHASE_TONE: Record<CommandPhase, Tone> = {
  sending: "pending",
  delivered: "pending",
  applied: "ok",
  refused: "error",
  undelivered: "warn",
  failed: "error",
  no_answer: "warn",
};

/** One line for the operator: "Stop: refused: cannot start: ...", and its tone. */
export function describeCommand(cmd: TrackedCommand): { text: string; tone: Tone } {
  const head = `${commandLabel(cmd.kind, cmd.speedPct)}: ${PHASE_TEXT[cmd.phase]}`;
  const detail = cmd.phase === "delivered" || !cmd.detail ? "" : ` (${cmd.detail})`;
  return { text: head + detail, tone: PHASE_TONE[cmd.phase] };
}

/** The machine's speed setpoint (percent of nominal) from its newest accepted set_speed, if the log has one. */
export function currentSetpoint(events: MachineEvent[]): { pct: number; ts: string } | null {
  for (const e of events) {
    const a = machineAnswer(e);
    if (a && a.accepted && a.command === "set_speed" && a.speedPct !== null) return { pct: a.speedPct, ts: a.ts };
  }
  return null;
}

/** The setpoint to show: the twin's (``MachineState.speed_pct``), with the time of the log's newest applied
 * set_speed when that is the same setpoint (else no time: it was set before the log the page holds, or in process
 * without an answer event); the log's alone while the state is not known; null when neither is. */
export function setpointOf(
  statePct: number | undefined,
  logged: { pct: number; ts: string } | null,
): { pct: number; ts: string | null } | null {
  if (statePct === undefined) return logged;
  return { pct: statePct, ts: logged && logged.pct === statePct ? logged.ts : null };
}

/** Whether a command can apply now, and if not, why (shown next to the disabled control). */
export interface Availability {
  enabled: boolean;
  reason: string | null;
}

const OK: Availability = { enabled: true, reason: null };
const no = (reason: string): Availability => ({ enabled: false, reason });

/** What the panel lets the operator send to a machine in `status`, given its setpoint and what is in flight. */
export function availability(
  kind: CommandKind,
  ctx: {
    status: MachineStatus | undefined;
    stale: boolean;
    inFlight: TrackedCommand | null;
    setpoint: number | null;
    speed: number;
  },
): Availability {
  if (ctx.inFlight && !isFinal(ctx.inFlight.phase)) {
    return no(`waiting for the answer to ${commandLabel(ctx.inFlight.kind, ctx.inFlight.speedPct)}`);
  }
  if (ctx.stale) return no("the live stream is down: the machine's state is not known");
  const status = ctx.status ?? "offline";
  if (status === "offline") return no("the machine is offline: nothing would receive the command");
  switch (kind) {
    case "start":
      if (status === "failed") return no("the machine has failed: it can start once it is repaired");
      if (status === "running" || status === "idle") return no("already running");
      return OK;
    case "stop":
      return status === "stopped" ? no("already stopped") : OK;
    case "maintain":
      return status === "maintenance" ? no("already in maintenance") : OK;
    case "set_speed":
      return ctx.setpoint !== null && ctx.setpoint === ctx.speed ? no(`already at ${ctx.speed} %`) : OK;
  }
}
