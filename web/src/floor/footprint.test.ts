import { describe, expect, it } from "vitest";
import type { FactoryLayout, Footprint, Machine } from "../api/types";
import { conveyorLength, footprint, modelHeight } from "./models";

const box = (width: number, top: number, ring_radius: number): Footprint => ({
  shape: "box",
  width,
  depth: 1,
  height: 1,
  top,
  ring_radius,
  color: [0.5, 0.5, 0.5],
});

const layout: FactoryLayout = {
  name: "f",
  floor_width: 40,
  floor_depth: 30,
  lines: [],
  machines: [],
  footprints: { pump: box(0.9, 1.6, 1.2), conveyor: box(12, 1.4, 0) },
  profile_names: {},
};

const machine = (profile: Machine["profile"], metadata: Machine["metadata"] = {}): Machine => ({
  id: "m",
  name: "m",
  profile,
  line: "l",
  x: 0,
  y: 0,
  rotation: 0,
  metadata,
});

describe("footprints from the layout", () => {
  it("takes ring radius and label height from the served footprint of the kind", () => {
    expect(footprint(machine("pump"), layout)).toBe(1.2);
    expect(modelHeight(machine("pump"), layout)).toBe(1.6);
  });

  it("gives a conveyor its metadata length, else its kind's footprint width", () => {
    expect(conveyorLength(machine("conveyor", { length_m: 8 }), layout)).toBe(8);
    expect(conveyorLength(machine("conveyor"), layout)).toBe(12);
  });
});
