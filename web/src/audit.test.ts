import { describe, expect, it } from "vitest";
import { actorLabel, auditQuery, filtersKey, NO_FILTERS } from "./audit";

describe("audit filters", () => {
  it("send only what is set, the actor trimmed, and the limit always", () => {
    expect(auditQuery(NO_FILTERS).toString()).toBe("limit=200");
    const q = auditQuery({ actor: "  olga ", action: "machines.", outcome: "denied", limit: 50 });
    expect(Object.fromEntries(q)).toEqual({ actor: "olga", action: "machines.", outcome: "denied", limit: "50" });
  });

  it("ask for CSV with the same filters for the download", () => {
    const q = auditQuery({ ...NO_FILTERS, action: "auth." }, "csv");
    expect(q.get("format")).toBe("csv");
    expect(q.get("action")).toBe("auth.");
  });

  it("key the polling by the filters, so a change starts afresh", () => {
    expect(filtersKey(NO_FILTERS)).not.toBe(filtersKey({ ...NO_FILTERS, outcome: "failure" }));
    expect(filtersKey(NO_FILTERS)).toBe(filtersKey({ ...NO_FILTERS }));
  });
});

describe("actor labels", () => {
  it("name a dashboard user plainly and say what any other credential was", () => {
    expect(actorLabel({ actor: "olga", actor_kind: "session" })).toBe("olga");
    expect(actorLabel({ actor: "sim", actor_kind: "token" })).toBe("sim (API token)");
    expect(actorLabel({ actor: "mill-01", actor_kind: "device" })).toBe("mill-01 (device)");
    expect(actorLabel({ actor: "wrongname", actor_kind: null })).toBe("wrongname");
  });
});
