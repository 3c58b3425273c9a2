import { describe, expect, it } from "vitest";
import * as THREE from "three";
import { fitCamera, fogRange } from "./Scene";

describe("fitCamera", () => {
  it("puts every corner on screen, as close as it can", () => {
    const camera = new THREE.PerspectiveCamera(45, 16 / 9, 0.5, 1000);
    const corners = [
      new THREE.Vector3(-30, 0, -20),
      new THREE.Vector3(30, 0, -20),
      new THREE.Vector3(-30, 0, 20),
      new THREE.Vector3(30, 0, 20),
    ];
    const target = new THREE.Vector3(0, 0, 0);
    fitCamera(camera, target, corners, 0.9);
    const extent = (): number =>
      Math.max(
        ...corners.map((c) => {
          const p = c.clone().project(camera);
          return Math.max(Math.abs(p.x), Math.abs(p.y));
        }),
      );
    expect(extent()).toBeLessThanOrEqual(0.9);
    expect(extent()).toBeGreaterThan(0.85);
    const far = camera.position.length();
    camera.aspect = 0.8; // a narrow view must back off further
    camera.updateProjectionMatrix();
    fitCamera(camera, target, corners, 0.9);
    expect(camera.position.length()).toBeGreaterThan(far);
  });
});

describe("fogRange", () => {
  it("starts the fog behind the framed floor, also for a portrait phone where the camera is far back", () => {
    const corners = [new THREE.Vector3(-30, 0, -20), new THREE.Vector3(30, 0, 20)];
    for (const aspect of [16 / 9, 338 / 792]) {
      const camera = new THREE.PerspectiveCamera(45, aspect, 0.5, 1000);
      fitCamera(camera, new THREE.Vector3(0, 0, 0), corners, 0.93);
      const [near, far] = fogRange(camera.position.length());
      // every corner of the floor is less than half fogged (the fixed 70-150 m fog hid it all on the phone)
      for (const c of [...corners, new THREE.Vector3(-30, 0, 20), new THREE.Vector3(30, 0, -20)]) {
        const fogged = (camera.position.distanceTo(c) - near) / (far - near);
        expect(fogged).toBeLessThan(0.5);
      }
    }
  });
});
