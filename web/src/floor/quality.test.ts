import { describe, expect, it } from "vitest";
import { isSoftwareRenderer, nextDpr, pinnedDpr } from "./quality";

const policy = { min: 0.5, max: 2, low: 24, high: 50 };

describe("adaptive resolution", () => {
  it("recognises software renderers", () => {
    expect(isSoftwareRenderer("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)")).toBe(
      true,
    );
    expect(isSoftwareRenderer("llvmpipe (LLVM 15.0.6, 256 bits)")).toBe(true);
    expect(isSoftwareRenderer("ANGLE (NVIDIA, NVIDIA GeForce RTX 3060)")).toBe(false);
  });

  it("steps the pixel ratio down when slow and up with headroom, within bounds", () => {
    expect(nextDpr(1, 10, policy)).toBe(0.8);
    expect(nextDpr(0.5, 5, policy)).toBe(0.5);
    expect(nextDpr(1, 60, policy)).toBe(1.2);
    expect(nextDpr(2, 60, policy)).toBe(2);
    expect(nextDpr(1, 30, policy)).toBe(1);
  });
});

describe("?quality=", () => {
  it("pins the device's ratio for high, a render scale for a number, and nothing otherwise", () => {
    expect(pinnedDpr("?quality=high", 1.5)).toBe(1.5);
    expect(pinnedDpr("?quality=0.3", 1)).toBe(0.3);
    expect(pinnedDpr("?quality=1", 2)).toBe(1);
    expect(pinnedDpr("", 1)).toBeNull();
    expect(pinnedDpr("?quality=low", 1)).toBeNull();
    expect(pinnedDpr("?quality=0.05", 1)).toBeNull();
    expect(pinnedDpr("?quality=3", 1)).toBeNull();
    expect(pinnedDpr("?quality=-1", 1)).toBeNull();
  });
});
