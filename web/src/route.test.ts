import { describe, expect, it } from "vitest";
import { parseRoute, routeHash } from "./route";

describe("routes", () => {
  it("parses views and machines, defaulting to the floor", () => {
    expect(parseRoute("")).toEqual({ view: "floor", machine: null });
    expect(parseRoute("#/overview")).toEqual({ view: "overview", machine: null });
    expect(parseRoute("#/floor/mill-01")).toEqual({ view: "floor", machine: "mill-01" });
    expect(parseRoute("#/nonsense/x")).toEqual({ view: "floor", machine: "x" });
    expect(parseRoute("#/audit")).toEqual({ view: "audit", machine: null });
  });

  it("round-trips", () => {
    expect(parseRoute(routeHash({ view: "history", machine: "pump 1" }))).toEqual({
      view: "history",
      machine: "pump 1",
    });
  });
});
