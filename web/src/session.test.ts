import { describe, expect, it } from "vitest";
import { csrfFromCookies } from "./api/client";
import { hasRole, refusal } from "./session";
import type { Me } from "./api/types";

const viewer: Me = { kind: "session", name: "vera", role: "viewer", machine_ids: [] };
const operator: Me = { ...viewer, name: "olga", role: "operator" };

describe("roles", () => {
  it("orders viewer < operator < engineer < admin", () => {
    expect(hasRole("admin", "operator")).toBe(true);
    expect(hasRole("operator", "operator")).toBe(true);
    expect(hasRole("viewer", "operator")).toBe(false);
    expect(hasRole(null, "viewer")).toBe(false);
  });
  it("says why a viewer may not send commands", () => {
    expect(refusal(viewer, "operator")).toBe("needs the operator role (you are viewer)");
    expect(refusal(operator, "operator")).toBeNull();
    expect(refusal(null, "viewer")).toBe("needs the viewer role (you are not logged in)");
  });
});

describe("csrfFromCookies", () => {
  it("finds the readable CSRF cookie among others", () => {
    expect(csrfFromCookies("a=1; ft_csrf=abc%3D; b=2")).toBe("abc=");
    expect(csrfFromCookies("a=1")).toBeNull();
    expect(csrfFromCookies("")).toBeNull();
  });
});
