// A machine drawn with an uploaded glTF/GLB model (a profile's appearance {"kind": "gltf"}): loaded once per asset
// from GET /api/v1/assets/{id}, cloned per machine, stood on the floor and centred on the machine's position. Until
// it has loaded (or if it cannot be) the machine shows its footprint's stand-in box, so it is never missing.

import { useEffect, useMemo, useState } from "react";
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { API_BASE } from "../api/client";
import { Primitive, type ModelProps } from "./models";

const loads = new Map<string, Promise<THREE.Group>>();

/** What the floor knows of each uploaded model (for tests and tools): window.__ftGltf[assetId]. */
function report(assetId: string, state: "loaded" | "failed", meshes = 0): void {
  const w = window as unknown as { __ftGltf?: Record<string, { state: string; meshes: number }> };
  w.__ftGltf = { ...w.__ftGltf, [assetId]: { state, meshes } };
}

/** The asset's scene, loaded once (a failed load is forgotten, so the next machine tries again). */
export function loadAsset(assetId: string): Promise<THREE.Group> {
  let p = loads.get(assetId);
  if (!p) {
    const loader = new GLTFLoader();
    p = loader.loadAsync(`${API_BASE}/assets/${encodeURIComponent(assetId)}`).then((gltf) => gltf.scene);
    p.catch(() => loads.delete(assetId));
    loads.set(assetId, p);
  }
  return p;
}

/** A copy of ``scene`` moved so that it stands on y = 0, centred on x = z = 0. */
export function standOnFloor(scene: THREE.Object3D): THREE.Group {
  const copy = scene.clone(true);
  const box = new THREE.Box3().setFromObject(copy);
  const group = new THREE.Group();
  if (!box.isEmpty()) {
    const c = box.getCenter(new THREE.Vector3());
    copy.position.sub(new THREE.Vector3(c.x, box.min.y, c.z));
  }
  group.add(copy);
  return group;
}

export function GltfModel(props: ModelProps) {
  const { machine, accent, layout } = props;
  const f = layout.footprints[machine.profile];
  const assetId = f?.asset ?? null;
  const [scene, setScene] = useState<THREE.Group | null>(null);
  useEffect(() => {
    if (!assetId) return;
    let cancelled = false;
    loadAsset(assetId).then(
      (s) => {
        if (cancelled) return;
        const placed = standOnFloor(s);
        let meshes = 0;
        placed.traverse((o) => {
          if ((o as THREE.Mesh).isMesh) meshes += 1;
        });
        report(assetId, "loaded", meshes);
        setScene(placed);
      },
      (e: unknown) => {
        console.warn(`loading the model of asset ${assetId} failed:`, e);
        report(assetId, "failed");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [assetId]);
  const w = f?.width ?? 1;
  const d = f?.depth ?? 1;
  const plinth = useMemo(() => new THREE.BoxGeometry(w + 0.2, 0.06, d + 0.2), [w, d]);
  if (!scene) return <Primitive {...props} />;
  return (
    <group>
      <primitive object={scene} />
      {/* the status-coloured plinth under the model: its status light, as the built-in models' accent parts */}
      <mesh position={[0, 0.03, 0]} geometry={plinth} material={accent} />
    </group>
  );
}
