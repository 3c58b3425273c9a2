// Text painted on the 3D floor, drawn on a canvas (no font files to download): the production lines' names.
// Machine labels are HTML over the canvas (overlay.ts), crisp at any render scale.

import * as THREE from "three";

/** A flat, floor-painted text texture (for production line names). */
export function floorTextTexture(
  text: string,
  color = "rgba(245, 158, 11, 0.75)",
): { texture: THREE.Texture; aspect: number } {
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const h = 96;
  if (!ctx) return { texture: new THREE.Texture(), aspect: 8 };
  const font = `700 64px Inter, "Segoe UI", Roboto, Arial, sans-serif`;
  ctx.font = font;
  const w = Math.ceil(ctx.measureText(text.toUpperCase()).width) + 40;
  canvas.width = w;
  canvas.height = h;
  ctx.font = font;
  ctx.fillStyle = color;
  ctx.textBaseline = "middle";
  ctx.fillText(text.toUpperCase(), 20, h / 2 + 4);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  return { texture, aspect: w / h };
}
