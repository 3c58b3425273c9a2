import { describe, expect, it } from "vitest";
import type { Me, SavedView } from "./api/types";
import { checkName, mayDelete, viewLink } from "./savedViews";

const VIEW = { id: 1, name: "v", hash: "#/history/mill-01", owner: "ana", shared: true, created_at: "" } as SavedView;
const me = (name: string, role: Me["role"]): Me => ({ name, role }) as Me;

describe("saved views", () => {
  it("lets the owner and admins delete, no one else", () => {
    expect(mayDelete(me("ana", "operator"), VIEW)).toBe(true);
    expect(mayDelete(me("bo", "operator"), VIEW)).toBe(false);
    expect(mayDelete(me("root", "admin"), VIEW)).toBe(true);
    expect(mayDelete(null, VIEW)).toBe(false);
  });

  it("links to the page itself at the view's hash", () => {
    const loc = { origin: "http://plant:8000", pathname: "/", search: "?quality=high" };
    expect(viewLink(loc, "#/history/mill-01?range=6h")).toBe(
      "http://plant:8000/?quality=high#/history/mill-01?range=6h",
    );
  });

  it("trims the name and refuses an empty or long one", () => {
    expect(checkName("  Mills  ")).toEqual({ name: "Mills" });
    expect(checkName("   ")).toHaveProperty("problem");
    expect(checkName("x".repeat(81))).toHaveProperty("problem");
  });
});
