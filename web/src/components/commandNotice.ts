// What the dashboard tells the operator after a command: "sent" only when the server reports it delivered.

import type { CommandResult } from "../api/types";
import type { Tone } from "./Toast";

/** The toast for a command's result: a warning, naming the server's reason, when it was not delivered. */
export function commandNotice(result: CommandResult, machineName: string): { text: string; tone: Tone } {
  const what = result.command.command.replace("_", " ");
  return result.delivered
    ? { text: `${what} sent to ${machineName}`, tone: "ok" }
    : { text: `${what} not delivered to ${machineName}: ${result.outcome}`, tone: "warn" };
}
