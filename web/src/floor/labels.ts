// Text for the 3D scene drawn on canvases (no font files to download): machine name tags and floor lettering.

import * as THREE from "three";

/** A sprite material with ``text`` on a rounded dark tag; width in world metres is returned with it. */
export function tagMaterial(text: string, color = "#e5e7eb"): { material: THREE.SpriteMaterial; aspect: number } {
  const scale = 2;
  const font = `600 ${26 * scale}px Inter, "Segoe UI", Roboto, Arial, sans-serif`;
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  if (!ctx) return { material: new THREE.SpriteMaterial(), aspect: 4 };
  ctx.font = font;
  const w = Math.ceil(ctx.measureText(text).width) + 28 * scale;
  const h = 44 * scale;
  canvas.width = w;
  canvas.height = h;
  ctx.font = font;
  ctx.fillStyle = "rgba(12, 15, 20, 0.78)";
  roundRect(ctx, 0, 0, w, h, 10 * scale);
  ctx.fill();
  ctx.fillStyle = color;
  ctx.textBaseline = "middle";
  ctx.fillText(text, 14 * scale, h / 2 + scale);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  tex.anisotropy = 4;
  const material = new THREE.SpriteMaterial({ map: tex, transparent: true, depthWrite: false });
  return { material, aspect: w / h };
}

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

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
