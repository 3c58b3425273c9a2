// The floor's edit mode inside the canvas: a press on the floor (while placing) or on a machine starts a drag, the
// pointer is followed on the floor plane (y = 0) and the release ends it, in layout metres (x east, y north).

import { useThree } from "@react-three/fiber";
import { useEffect } from "react";
import * as THREE from "three";
import type { FactoryLayout } from "../api/types";

export interface EditCanvas {
  /** Placing a new machine: a press on the floor starts its drag there. */
  placing: boolean;
  /** A drag is under way (orbit controls are off meanwhile). */
  dragging: boolean;
  /** A machine was pressed (edit mode): start moving it. */
  grab: (id: string) => void;
  /** The pressed point, while placing. */
  start: (x: number, y: number) => void;
  move: (x: number, y: number) => void;
  drop: (x: number, y: number) => void;
}

/** Layout metres of a pointer event's point on the floor plane, or null when the ray misses it. */
function floorPoint(
  e: PointerEvent,
  el: HTMLElement,
  camera: THREE.Camera,
  layout: FactoryLayout,
): [number, number] | null {
  const r = el.getBoundingClientRect();
  const ndc = new THREE.Vector2(((e.clientX - r.left) / r.width) * 2 - 1, -((e.clientY - r.top) / r.height) * 2 + 1);
  const ray = new THREE.Raycaster();
  ray.setFromCamera(ndc, camera);
  const hit = ray.ray.intersectPlane(new THREE.Plane(new THREE.Vector3(0, 1, 0), 0), new THREE.Vector3());
  if (!hit) return null;
  const x = Math.min(layout.floor_width, Math.max(0, hit.x + layout.floor_width / 2));
  const y = Math.min(layout.floor_depth, Math.max(0, -hit.z + layout.floor_depth / 2));
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
}

export function EditDrag({ layout, edit }: { layout: FactoryLayout; edit: EditCanvas }) {
  const { camera, gl } = useThree();
  useEffect(() => {
    const el = gl.domElement;
    const at = (e: PointerEvent): [number, number] | null => floorPoint(e, el, camera, layout);
    const down = (e: PointerEvent): void => {
      if (!edit.placing || e.button !== 0) return;
      const p = at(e);
      if (p) edit.start(p[0], p[1]);
    };
    const move = (e: PointerEvent): void => {
      if (!edit.dragging) return;
      const p = at(e);
      if (p) edit.move(p[0], p[1]);
    };
    const up = (e: PointerEvent): void => {
      if (!edit.dragging) return;
      const p = at(e);
      if (p) edit.drop(p[0], p[1]);
    };
    el.addEventListener("pointerdown", down);
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    return () => {
      el.removeEventListener("pointerdown", down);
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
  }, [camera, gl, layout, edit]);
  return null;
}
