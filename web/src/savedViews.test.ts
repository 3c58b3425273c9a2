import { describe, expect, it } from "vitest";
import type { Me, SavedView } from "./api/types";
import { checkName, mayChange, renameStep, replaceView, viewLink, type Rename } from "./savedViews";

const VIEW = { id: 1, name: "v", hash: "#/history/mill-01", owner: "ana", shared: true, created_at: "" } as SavedView;
const me = (name: string, role: Me["role"]): Me => ({ name, role }) as Me;

describe("saved views", () => {
  it("lets the owner and admins rename and delete, no one else", () => {
    expect(mayChange(me("ana", "operator"), VIEW)).toBe(true);
    expect(mayChange(me("bo", "operator"), VIEW)).toBe(false);
    expect(mayChange(me("root", "admin"), VIEW)).toBe(true);
    expect(mayChange(null, VIEW)).toBe(false);
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

describe("renaming a saved view", () => {
  const open = (): Rename => renameStep(null, { type: "open", view: VIEW });
  const typed = (draft: string): Rename => renameStep(open(), { type: "edit", draft });

  it("opens on the view's name and is pending only with a name that can be sent", () => {
    expect(open()).toEqual({ state: "editing", id: 1, from: "v", draft: "v", problem: null });
    expect(renameStep(open(), { type: "submit" })).toMatchObject({
      state: "editing",
      problem: "that is its name already",
    });
    expect(renameStep(typed("   "), { type: "submit" })).toMatchObject({
      state: "editing",
      problem: "give the view a name",
    });
    expect(renameStep(typed("x".repeat(81)), { type: "submit" })).toMatchObject({ state: "editing" });
    expect(renameStep(typed("  Mills, hourly "), { type: "submit" })).toEqual({
      state: "pending",
      id: 1,
      from: "v",
      draft: "Mills, hourly",
    });
  });

  it("says nothing is renamed until the server answers, and closes only on its answer", () => {
    const pending = renameStep(typed("New"), { type: "submit" });
    expect(pending?.state).toBe("pending");
    // while pending: typing, cancelling, submitting again or opening another view change nothing
    expect(renameStep(pending, { type: "edit", draft: "Other" })).toBe(pending);
    expect(renameStep(pending, { type: "cancel" })).toBe(pending);
    expect(renameStep(pending, { type: "submit" })).toBe(pending);
    expect(renameStep(pending, { type: "open", view: { ...VIEW, id: 2 } })).toBe(pending);
    // an answer about another view (a late one of an abandoned rename) is not this rename's
    expect(renameStep(pending, { type: "answered", id: 2, view: { ...VIEW, id: 2 } })).toBe(pending);
    expect(renameStep(pending, { type: "answered", id: 1, view: { ...VIEW, name: "New" } })).toBeNull();
  });

  it("keeps the name and shows the server's reason when refused, and may be tried again", () => {
    const pending = renameStep(typed("Taken"), { type: "submit" });
    const failed = renameStep(pending, { type: "refused", id: 1, reason: "ana already has a view named 'Taken'" });
    expect(failed).toEqual({
      state: "failed",
      id: 1,
      from: "v",
      draft: "Taken",
      reason: "ana already has a view named 'Taken'",
    });
    expect(renameStep(failed, { type: "refused", id: 1, reason: "again" })).toBe(failed); // not pending any more
    const retyped = renameStep(failed, { type: "edit", draft: "Free" });
    expect(retyped).toMatchObject({ state: "editing", draft: "Free", problem: null });
    expect(renameStep(retyped, { type: "submit" })).toMatchObject({ state: "pending", draft: "Free" });
    expect(renameStep(failed, { type: "cancel" })).toBeNull();
    expect(renameStep(null, { type: "answered", id: 1, view: VIEW })).toBeNull();
  });

  it("puts the server's answer in the list in place", () => {
    const other = { ...VIEW, id: 2, name: "w" };
    expect(replaceView([VIEW, other], { ...VIEW, name: "New" })).toEqual([{ ...VIEW, name: "New" }, other]);
    expect(replaceView(null, VIEW)).toBeNull();
  });
});
