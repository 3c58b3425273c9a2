import { describe, expect, it } from "vitest";
import { NEXT, workOrderQuery } from "./workorders";

describe("work orders", () => {
  it("asks for the active states by default, one state, or all", () => {
    expect(workOrderQuery({ machine: "", state: "active" }).getAll("state")).toEqual([
      "open",
      "assigned",
      "in_progress",
    ]);
    expect(workOrderQuery({ machine: "mill-01", state: "done" }).toString()).toBe(
      "machine_id=mill-01&state=done&limit=200",
    );
    expect(workOrderQuery({ machine: "", state: "" }).has("state")).toBe(false);
  });

  it("offers no move out of a final state", () => {
    expect(NEXT.done).toEqual([]);
    expect(NEXT.cancelled).toEqual([]);
    expect(NEXT.in_progress).toContain("done");
  });
});
