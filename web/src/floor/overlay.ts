// Machine labels as HTML over the 3D floor: crisp at any WebGL render scale (software WebGL drops it to 0.3),
// because the browser draws the text, not the canvas. The scene registers an anchor per machine; each frame the
// projector moves each label's element to its anchor's screen position (DOM writes, no React renders).

import * as THREE from "three";

/** Where an anchor lands in the canvas, in CSS px from its top-left, and how deep (for stacking). */
export interface LabelPlacement {
  x: number;
  y: number;
  /** Normalised depth, -1 (near plane) .. 1 (far plane). */
  depth: number;
  visible: boolean;
}

/** A point in normalised device coordinates (three's `Vector3.project`) as a placement in a `width` x `height` view. */
export function placement(ndc: { x: number; y: number; z: number }, width: number, height: number): LabelPlacement {
  const visible = ndc.z > -1 && ndc.z < 1 && Math.abs(ndc.x) <= 1.2 && Math.abs(ndc.y) <= 1.2;
  return { x: ((ndc.x + 1) / 2) * width, y: ((1 - ndc.y) / 2) * height, depth: ndc.z, visible };
}

/** The anchors (in the scene) and the label elements (in the overlay), by machine id. */
export class LabelRegistry {
  readonly anchors = new Map<string, THREE.Object3D>();
  readonly elements = new Map<string, HTMLElement>();
  private readonly last = new Map<string, string>();
  private readonly v = new THREE.Vector3();

  anchor(id: string, obj: THREE.Object3D | null): void {
    if (obj) this.anchors.set(id, obj);
    else this.anchors.delete(id);
  }

  element(id: string, el: HTMLElement | null): void {
    if (el) this.elements.set(id, el);
    else {
      this.elements.delete(id);
      this.last.delete(id);
    }
  }

  /** Move every label to its anchor as `camera` sees it in a `width` x `height` (CSS px) canvas. */
  project(camera: THREE.Camera, width: number, height: number): void {
    for (const [id, el] of this.elements) {
      const obj = this.anchors.get(id);
      if (!obj) continue;
      obj.getWorldPosition(this.v).project(camera);
      const p = placement(this.v, width, height);
      // Whole pixels keep the text on the pixel grid (sharp); only changed styles are written.
      const style = p.visible
        ? `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px) translate(-50%, -100%)|${Math.round((1 - p.depth) * 1e5)}`
        : "hidden";
      if (this.last.get(id) === style) continue;
      this.last.set(id, style);
      if (!p.visible) {
        el.style.visibility = "hidden";
        continue;
      }
      const [transform, z] = style.split("|");
      el.style.visibility = "visible";
      el.style.transform = transform ?? "";
      el.style.zIndex = z ?? "0";
    }
  }
}
