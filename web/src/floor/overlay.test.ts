import { describe, expect, it } from "vitest";
import * as THREE from "three";
import { LabelRegistry, placement } from "./overlay";

describe("placement", () => {
  it("maps normalised device coordinates to CSS pixels, y down", () => {
    expect(placement({ x: 0, y: 0, z: 0.5 }, 800, 600)).toEqual({ x: 400, y: 300, depth: 0.5, visible: true });
    expect(placement({ x: -1, y: 1, z: 0 }, 800, 600)).toMatchObject({ x: 0, y: 0, visible: true });
  });

  it("hides what is behind the camera or far off screen", () => {
    expect(placement({ x: 0, y: 0, z: 1.5 }, 800, 600).visible).toBe(false);
    expect(placement({ x: 3, y: 0, z: 0.5 }, 800, 600).visible).toBe(false);
  });
});

describe("LabelRegistry", () => {
  it("moves a label to its anchor's screen position, in whole pixels, and hides it behind the camera", () => {
    const camera = new THREE.PerspectiveCamera(60, 800 / 600, 0.1, 100);
    camera.position.set(0, 0, 10);
    camera.lookAt(0, 0, 0);
    camera.updateMatrixWorld();
    const reg = new LabelRegistry();
    const anchor = new THREE.Object3D();
    anchor.updateMatrixWorld();
    const style: Record<string, string> = {};
    reg.anchor("m", anchor);
    reg.element("m", { style } as unknown as HTMLElement);
    reg.project(camera, 800, 600);
    expect(style.transform).toBe("translate(400px, 300px) translate(-50%, -100%)");
    expect(style.visibility).toBe("visible");
    anchor.position.set(0, 0, 20); // behind the camera
    anchor.updateMatrixWorld();
    reg.project(camera, 800, 600);
    expect(style.visibility).toBe("hidden");
  });
});
