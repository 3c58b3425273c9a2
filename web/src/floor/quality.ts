// Rendering quality that adapts to the machine: software WebGL (SwiftShader, llvmpipe: no GPU) gets no MSAA
// and a lower starting resolution, and the resolution follows the measured frame rate everywhere.

/** The WebGL renderer's name, or "" when it cannot be told. */
export function rendererName(): string {
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2") ?? canvas.getContext("webgl");
    if (!gl) return "";
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    const name = ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return name;
  } catch (e) {
    console.warn("could not read the WebGL renderer's name; assuming a GPU:", e);
    return "";
  }
}

export function isSoftwareRenderer(name: string): boolean {
  return /swiftshader|llvmpipe|softpipe|software/i.test(name);
}

export interface DprPolicy {
  min: number;
  max: number;
  /** Below this fps the resolution steps down. */
  low: number;
  /** Above this fps it steps back up. */
  high: number;
}

/** The next device-pixel ratio for a measured frame rate: step down when slow, up when there is headroom. */
export function nextDpr(current: number, fps: number, p: DprPolicy): number {
  if (fps < p.low && current > p.min) return Math.max(p.min, round2(current * 0.8));
  if (fps > p.high && current < p.max) return Math.min(p.max, round2(current * 1.2));
  return current;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The render resolution `?quality=` pins, if it does: `high` is the device's pixel ratio, a number from 0.1 to
 * 2 that render scale (`?quality=0.3` draws the floor as the adaptive policy's floor would on a slow machine, to
 * see and test that the HTML labels stay crisp); anything else (or nothing) leaves it adaptive. */
export function pinnedDpr(search: string, deviceDpr: number): number | null {
  const q = new URLSearchParams(search).get("quality");
  if (q === null) return null;
  if (q === "high") return deviceDpr;
  const scale = /^\d+(\.\d+)?$/.test(q) ? Number(q) : NaN;
  return scale >= 0.1 && scale <= 2 ? scale : null;
}
