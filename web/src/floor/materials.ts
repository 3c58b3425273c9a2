// Materials shared by every machine model (one instance each keeps GPU state and draw setup small).

import * as THREE from "three";

// Lambert shading: a fraction of the per-pixel cost of PBR, which matters under software WebGL (SwiftShader),
// and flat low-poly models gain little from physically based shading.
const std = (color: string, _roughness = 0.6, _metalness = 0.3): THREE.MeshLambertMaterial =>
  new THREE.MeshLambertMaterial({ color });

export const MAT = {
  paintLight: std("#c7ccd3", 0.55, 0.2),
  paintBlue: std("#2f4a6b", 0.5, 0.3),
  paintGreen: std("#3d5a48", 0.55, 0.25),
  paintOrange: std("#d07a1c", 0.5, 0.2),
  paintYellow: std("#e0a81c", 0.5, 0.2),
  paintRed: std("#9f2d2d", 0.5, 0.2),
  steel: std("#9aa3ad", 0.35, 0.8),
  darkSteel: std("#3b424c", 0.45, 0.7),
  rubber: std("#1d2127", 0.9, 0.0),
  belt: std("#23272e", 0.85, 0.05),
  cardboard: std("#b08a57", 0.9, 0.0),
  glass: new THREE.MeshLambertMaterial({ color: "#7fb4d9", transparent: true, opacity: 0.28 }),
  floor: std("#1a1f27", 0.95, 0.0),
} as const;

/** A status-coloured, slightly glowing material; one per machine, recoloured when its status changes. */
export function accentMaterial(color: string): THREE.MeshLambertMaterial {
  return new THREE.MeshLambertMaterial({ color, emissive: color, emissiveIntensity: 0.55 });
}
