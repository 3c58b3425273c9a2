import { describe, expect, it } from "vitest";
import type { Alarm, MachineEvent } from "./api/types";
import { countByKind, markerKind, markersOf } from "./annotations";

const ev = (over: Partial<MachineEvent>): MachineEvent =>
  ({ machine_id: "m", ts: "2026-03-01T10:00:00Z", kind: "status", message: "", data: {}, ...over }) as MachineEvent;

describe("history markers", () => {
  it("sorts events into categories, work orders first", () => {
    expect(markerKind(ev({ kind: "fault", status: "failed" }))).toBe("fault");
    expect(markerKind(ev({ kind: "status", status: "failed" }))).toBe("fault");
    expect(markerKind(ev({ kind: "maintenance" }))).toBe("maintenance");
    expect(markerKind(ev({ kind: "note", data: { work_order: 3 } }))).toBe("workorder");
    expect(markerKind(ev({ kind: "maintenance", data: { work_order: 3 } }))).toBe("workorder");
    expect(markerKind(ev({ kind: "command" }))).toBe("command");
    expect(markerKind(ev({ kind: "status", message: "repaired" }))).toBe("repair");
    expect(markerKind(ev({ kind: "production" }))).toBeNull();
    expect(markerKind(ev({ kind: "status", status: "running" }))).toBeNull();
  });

  it("keeps what falls in the range, with alarm raise and clear", () => {
    const alarm = {
      message: "hot",
      raised_at: "2026-03-01T10:05:00Z",
      cleared_at: "2026-03-01T10:07:00Z",
    } as Alarm;
    const from = new Date("2026-03-01T10:01:00Z");
    const to = new Date("2026-03-01T10:06:00Z");
    const ms = markersOf(
      [ev({ kind: "fault" }), ev({ kind: "command", ts: "2026-03-01T10:02:00Z" })],
      [alarm],
      from,
      to,
    );
    expect(ms.map((m) => [m.kind, m.t])).toEqual([
      ["command", Date.parse("2026-03-01T10:02:00Z") / 1000],
      ["alarm", Date.parse("2026-03-01T10:05:00Z") / 1000],
    ]);
    expect(countByKind(ms)).toMatchObject({ command: 1, alarm: 1, fault: 0 });
  });
});

describe("one chart of several sensors", () => {
  it("joins series of their own times, null where one has no bucket", async () => {
    const { joinColumns } = await import("./components/CombinedChart");
    expect(
      joinColumns([
        [
          [1, 2],
          [10, 20],
        ],
        [
          [2, 3],
          [5, 6],
        ],
      ]),
    ).toEqual([
      [1, 2, 3],
      [10, 20, null],
      [null, 5, 6],
    ]);
  });
});
