// The 3D factory floor: lighting, floor and line markings, one animated model per machine, orbit controls.

import { useFrame, useThree, type ThreeEvent } from "@react-three/fiber";
import { memo, useCallback, useEffect, useMemo, useRef } from "react";
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import type { AlarmSeverity, FactoryLayout, Machine, MachineStatus } from "../api/types";
import { healthColor, SEVERITY_COLOR, STATUS_COLOR } from "../format";
import { worstAlarmByMachine } from "../state/selectors";
import { useTwin } from "../state/store";
import { EditDrag, type EditCanvas } from "./EditDrag";
import { GltfModel } from "./GltfModel";
import { hoverStore } from "./hover";
import { floorTextTexture } from "./labels";
import { accentMaterial, MAT } from "./materials";
import { conveyorLength, footprint, MODELS, modelHeight, Primitive, type ModelProps } from "./models";
import type { LabelRegistry } from "./overlay";
import { nextDpr, type DprPolicy } from "./quality";

/** Layout metres (x east, y north) -> scene coordinates centred on the floor, north = -z. */
export function toScene(layout: FactoryLayout, x: number, y: number): [number, number, number] {
  return [x - layout.floor_width / 2, 0, -(y - layout.floor_depth / 2)];
}

/** Camera direction from the target: from the south, 48 degrees above the floor. */
const VIEW_DIR = new THREE.Vector3(0, Math.sin((48 * Math.PI) / 180), Math.cos((48 * Math.PI) / 180));

/** Place the camera along VIEW_DIR at the smallest distance where every ``corner`` is on screen (with margin). */
export function fitCamera(
  camera: THREE.PerspectiveCamera,
  target: THREE.Vector3,
  corners: THREE.Vector3[],
  margin = 0.92,
): void {
  const p = new THREE.Vector3();
  const fits = (d: number): boolean => {
    camera.position.copy(target).addScaledVector(VIEW_DIR, d);
    camera.lookAt(target);
    camera.updateMatrixWorld();
    return corners.every((c) => {
      p.copy(c).project(camera);
      return Math.abs(p.x) <= margin && Math.abs(p.y) <= margin && p.z < 1;
    });
  };
  let lo = 2;
  let hi = 400;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  fits(hi);
}

/** Fog that starts behind the floor wherever the camera is: `[near, far]` metres for a camera `distance` metres
 * from the floor's centre (70-150 m at the 1600x900 framing, ~55 m). A fixed 150 m fog hid the whole floor on a
 * 390 px portrait screen, where fitting the floor's width puts the camera ~170 m away. */
export function fogRange(distance: number): [number, number] {
  return [distance + 15, distance + 95];
}

/** Keeps the scene's fog behind the floor as the camera is framed, zoomed or orbited. */
function DistanceFog() {
  useFrame(({ scene, camera }) => {
    if (!(scene.fog instanceof THREE.Fog)) return;
    const [near, far] = fogRange(camera.position.length());
    scene.fog.near = near;
    scene.fog.far = far;
  });
  return null;
}

function Controls({ layout, frozen }: { layout: FactoryLayout; frozen: boolean }) {
  const camera = useThree((s) => s.camera);
  const gl = useThree((s) => s.gl);
  const aspect = useThree((s) => s.size.width / Math.max(1, s.size.height));
  const ref = useRef<OrbitControls | null>(null);
  const touched = useRef(false);
  useEffect(() => {
    const c = new OrbitControls(camera, gl.domElement);
    c.enableDamping = true;
    c.dampingFactor = 0.08;
    c.maxPolarAngle = Math.PI / 2.15;
    c.minDistance = 6;
    c.maxDistance = 160;
    c.screenSpacePanning = false;
    c.addEventListener("start", () => (touched.current = true));
    ref.current = c;
    return () => c.dispose();
  }, [camera, gl]);
  // Frame the whole floor until the user takes the camera (and again when the view's shape changes before that).
  useEffect(() => {
    const c = ref.current;
    if (!c || touched.current || !(camera instanceof THREE.PerspectiveCamera)) return;
    // Frame the machines (with their lines' margins), not the empty parts of the hall.
    let x0 = Infinity,
      x1 = -Infinity,
      z0 = Infinity,
      z1 = -Infinity;
    for (const m of layout.machines) {
      const [x, , z] = toScene(layout, m.x, m.y);
      const half = m.profile === "conveyor" ? conveyorLength(m, layout) / 2 : 2;
      x0 = Math.min(x0, x - half - 2);
      x1 = Math.max(x1, x + half + 2);
      z0 = Math.min(z0, z - 3);
      z1 = Math.max(z1, z + 3);
    }
    const corners = [
      new THREE.Vector3(x0, 0, z0),
      new THREE.Vector3(x1, 0, z0),
      new THREE.Vector3(x0, 0, z1),
      new THREE.Vector3(x1, 0, z1),
      new THREE.Vector3(x0, 4, z0),
      new THREE.Vector3(x1, 4, z0),
    ];
    const target = new THREE.Vector3((x0 + x1) / 2, 0, (z0 + z1) / 2);
    fitCamera(camera, target, corners, 0.93);
    c.target.copy(target);
    c.update();
  }, [camera, layout, aspect]);
  useEffect(() => {
    if (ref.current) ref.current.enabled = !frozen; // a machine is being dragged or placed: the camera stays
    if (frozen) touched.current = true; // and is not reframed when the edited plant reloads
  }, [frozen]);
  useFrame(() => ref.current?.update());
  return null;
}

function Floor({ layout }: { layout: FactoryLayout }) {
  const { floor_width: w, floor_depth: d } = layout;
  const grid = useMemo(() => {
    const g = new THREE.GridHelper(Math.max(w, d), Math.max(w, d) / 2, "#2b3340", "#1f252e");
    g.position.y = 0.005;
    return g;
  }, [w, d]);
  return (
    <group>
      <mesh rotation={[-Math.PI / 2, 0, 0]} material={MAT.floor}>
        <planeGeometry args={[w, d]} />
      </mesh>
      <primitive object={grid} scale={[w / Math.max(w, d), 1, d / Math.max(w, d)]} />
      {/* hall walls' footings: a low kerb around the floor */}
      {[
        { p: [0, 0.15, -d / 2] as const, s: [w, 0.3, 0.3] as const },
        { p: [0, 0.15, d / 2] as const, s: [w, 0.3, 0.3] as const },
        { p: [-w / 2, 0.15, 0] as const, s: [0.3, 0.3, d] as const },
        { p: [w / 2, 0.15, 0] as const, s: [0.3, 0.3, d] as const },
      ].map((k, i) => (
        <mesh key={i} position={[...k.p]} material={MAT.darkSteel}>
          <boxGeometry args={[...k.s]} />
        </mesh>
      ))}
    </group>
  );
}

const TAPE = new THREE.MeshBasicMaterial({ color: "#d99a16" });
const ZONE = new THREE.MeshBasicMaterial({ color: "#202733", transparent: true, opacity: 0.85 });

/** Each production line's area, framed by yellow floor tape, with its name painted on the floor. */
function LineZones({ layout }: { layout: FactoryLayout }) {
  const zones = useMemo(() => {
    return layout.lines
      .map((line) => {
        const ms = layout.machines.filter((m) => m.line === line.id);
        if (ms.length === 0) return null;
        let x0 = Infinity,
          x1 = -Infinity,
          y0 = Infinity,
          y1 = -Infinity;
        for (const m of ms) {
          const half = m.profile === "conveyor" ? conveyorLength(m, layout) / 2 : 2;
          const [ex, ey] = Math.abs(Math.sin((m.rotation * Math.PI) / 180)) > 0.7 ? [1.5, half] : [half, 1.5];
          x0 = Math.min(x0, m.x - ex);
          x1 = Math.max(x1, m.x + ex);
          y0 = Math.min(y0, m.y - ey);
          y1 = Math.max(y1, m.y + ey);
        }
        const pad = 1.2;
        x0 -= pad;
        x1 += pad;
        y0 -= pad;
        y1 += pad;
        const [cx, , cz] = toScene(layout, (x0 + x1) / 2, (y0 + y1) / 2);
        const label = floorTextTexture(line.name);
        return { id: line.id, cx, cz, w: x1 - x0, d: y1 - y0, label };
      })
      .filter((z): z is NonNullable<typeof z> => z !== null);
  }, [layout]);
  const t = 0.14;
  return (
    <group>
      {zones.map((z) => (
        <group key={z.id} position={[z.cx, 0.01, z.cz]}>
          <mesh rotation={[-Math.PI / 2, 0, 0]} material={ZONE}>
            <planeGeometry args={[z.w, z.d]} />
          </mesh>
          {(
            [
              [0, -z.d / 2, z.w, t],
              [0, z.d / 2, z.w, t],
              [-z.w / 2, 0, t, z.d],
              [z.w / 2, 0, t, z.d],
            ] as const
          ).map(([x, zz, w, d], i) => (
            <mesh key={i} position={[x, 0.005, zz]} rotation={[-Math.PI / 2, 0, 0]} material={TAPE}>
              <planeGeometry args={[w, d]} />
            </mesh>
          ))}
          <mesh
            position={[-z.w / 2 + 0.6 + 0.55 * z.label.aspect, 0.01, z.d / 2 - 0.75]}
            rotation={[-Math.PI / 2, 0, 0]}
          >
            <planeGeometry args={[1.1 * z.label.aspect, 1.1]} />
            <meshBasicMaterial map={z.label.texture} transparent depthWrite={false} />
          </mesh>
        </group>
      ))}
    </group>
  );
}

interface NodeProps {
  machine: Machine;
  layout: FactoryLayout;
  selected: boolean;
  severity: AlarmSeverity | undefined;
  onSelect: (id: string) => void;
  labels: LabelRegistry;
  /** Edit mode: a press on the machine starts moving it. */
  onGrab: ((id: string) => void) | null;
}

const BUILT_IN = MODELS as Partial<Record<string, (props: ModelProps) => React.JSX.Element>>;

/** A machine drawn as its profile's appearance says (served as its footprint): an uploaded glTF model, a
 * built-in model, or the primitive's box/cylinder. */
function MachineModel(props: ModelProps) {
  const f = props.layout.footprints[props.machine.profile];
  if (f?.asset) return <GltfModel {...props} />;
  const Model = BUILT_IN[f?.model ?? props.machine.profile] ?? Primitive;
  return <Model {...props} />;
}

const MachineNode = memo(function MachineNode({
  machine,
  layout,
  selected,
  severity,
  onSelect,
  labels,
  onGrab,
}: NodeProps) {
  const state = useTwin((s) => s.machines[machine.id]);
  const status: MachineStatus = state?.status ?? "offline";
  const accent = useMemo(() => accentMaterial(STATUS_COLOR.offline), []);
  useEffect(() => {
    accent.color.set(STATUS_COLOR[status]);
    accent.emissive.set(STATUS_COLOR[status]);
    accent.setValues({ emissiveIntensity: status === "offline" ? 0.1 : status === "failed" ? 0.9 : 0.55 });
  }, [accent, status]);
  const ringMat = useMemo(
    () => new THREE.MeshBasicMaterial({ color: "#64748b", transparent: true, opacity: 0.85 }),
    [],
  );
  useEffect(() => {
    ringMat.color.set(healthColor(state?.health));
  }, [ringMat, state?.health]);
  // Where the machine's HTML label (floor/overlay.ts) sits: above the model, higher over an alarm beacon.
  const anchorRef = useCallback((o: THREE.Object3D | null) => labels.anchor(machine.id, o), [labels, machine.id]);
  const [x, , z] = toScene(layout, machine.x, machine.y);
  const r = footprint(machine, layout);
  const top = modelHeight(machine, layout);
  const length = machine.profile === "conveyor" ? conveyorLength(machine, layout) : 0;

  const over = (e: ThreeEvent<PointerEvent>): void => {
    e.stopPropagation();
    document.body.style.cursor = "pointer";
    hoverStore.set({ id: machine.id, x: e.nativeEvent.clientX, y: e.nativeEvent.clientY });
  };
  const out = (): void => {
    document.body.style.cursor = "";
    if (hoverStore.get()?.id === machine.id) hoverStore.set(null);
  };
  const click = (e: ThreeEvent<MouseEvent>): void => {
    e.stopPropagation();
    if (e.delta > 6) return; // the end of an orbit drag, not a click
    onSelect(machine.id);
  };

  return (
    <group position={[x, 0, z]} rotation={[0, (machine.rotation * Math.PI) / 180, 0]} name={machine.id}>
      <group
        onClick={click}
        onPointerOver={over}
        onPointerMove={over}
        onPointerOut={out}
        onPointerDown={(e) => {
          if (!onGrab || e.button !== 0) return;
          e.stopPropagation();
          onSelect(machine.id);
          onGrab(machine.id);
        }}
      >
        <MachineModel machine={machine} accent={accent} layout={layout} />
        {/* invisible, generous hit volume so small machines are easy to pick */}
        <mesh position={[0, top / 2, 0]} visible={false}>
          <boxGeometry args={length ? [length, top, 1.6] : [2 * r, top, 2 * r]} />
        </mesh>
      </group>
      {/* health ring on the floor (a strip along a conveyor) */}
      {length ? (
        <mesh position={[0, 0.02, 0.9]} rotation={[-Math.PI / 2, 0, 0]} material={ringMat}>
          <planeGeometry args={[length, 0.18]} />
        </mesh>
      ) : (
        <mesh position={[0, 0.02, 0]} rotation={[-Math.PI / 2, 0, 0]} material={ringMat}>
          <ringGeometry args={[r * 0.92, r, 48]} />
        </mesh>
      )}
      {selected && <SelectionMarker radius={length ? 0 : r + 0.35} length={length} />}
      {severity && (
        <AlarmBeacon
          height={top}
          color={SEVERITY_COLOR[severity]}
          fast={severity === "critical"}
          x={length ? -length / 2 + 0.4 : 0}
        />
      )}
      <object3D ref={anchorRef} position={[length ? -length / 2 + 2 : 0, top + (severity ? 1.0 : 0.35), 0]} />
    </group>
  );
});

function SelectionMarker({ radius, length }: { radius: number; length: number }) {
  const ref = useRef<THREE.Mesh>(null);
  useFrame(({ clock }) => {
    const m = ref.current;
    if (m) (m.material as THREE.MeshBasicMaterial).opacity = 0.55 + 0.35 * Math.sin(clock.elapsedTime * 4);
  });
  return (
    <mesh ref={ref} position={[0, 0.03, 0]} rotation={[-Math.PI / 2, 0, 0]}>
      {length ? <planeGeometry args={[length + 1, 2.2]} /> : <ringGeometry args={[radius - 0.12, radius + 0.12, 64]} />}
      <meshBasicMaterial color="#f59e0b" transparent opacity={0.8} side={THREE.DoubleSide} />
    </mesh>
  );
}

/** A pulsing beacon on top of a machine with an active alarm, in the colour of its worst severity. */
function AlarmBeacon({ height, color, fast, x }: { height: number; color: string; fast: boolean; x: number }) {
  const halo = useRef<THREE.Mesh>(null);
  const lamp = useRef<THREE.MeshLambertMaterial>(null);
  useFrame(({ clock }) => {
    const p = 0.5 + 0.5 * Math.sin(clock.elapsedTime * (fast ? 9 : 5));
    if (halo.current) {
      halo.current.scale.setScalar(1 + 1.2 * p);
      (halo.current.material as THREE.MeshBasicMaterial).opacity = 0.55 * (1 - p) + 0.05;
    }
    if (lamp.current) lamp.current.emissiveIntensity = 0.6 + 1.6 * p;
  });
  return (
    <group position={[x, height, 0]}>
      <mesh position={[0, 0.1, 0]} material={MAT.darkSteel}>
        <cylinderGeometry args={[0.16, 0.18, 0.2, 16]} />
      </mesh>
      <mesh position={[0, 0.38, 0]}>
        <cylinderGeometry args={[0.14, 0.14, 0.36, 16]} />
        <meshLambertMaterial ref={lamp} color={color} emissive={color} emissiveIntensity={1} />
      </mesh>
      <mesh ref={halo} position={[0, 0.38, 0]}>
        <sphereGeometry args={[0.3, 16, 12]} />
        <meshBasicMaterial color={color} transparent opacity={0.4} depthWrite={false} />
      </mesh>
    </group>
  );
}

/** Follows the frame rate: lowers the render resolution when frames are slow, raises it when there is room. */
function AdaptiveResolution({ policy }: { policy: DprPolicy }) {
  const setDpr = useThree((s) => s.setDpr);
  const dpr = useThree((s) => s.viewport.dpr);
  const window_ = useRef({ frames: 0, since: 0 });
  useFrame(({ clock }) => {
    const w = window_.current;
    const now = clock.elapsedTime;
    if (w.since === 0) w.since = now;
    w.frames += 1;
    if (now - w.since < 1.5) return;
    const fps = w.frames / (now - w.since);
    w.frames = 0;
    w.since = now;
    const next = nextDpr(dpr, fps, policy);
    if (next !== dpr) setDpr(next);
    (window as unknown as { __ftFloorDpr?: number }).__ftFloorDpr = next;
  });
  return null;
}

/** Moves the HTML machine labels to their anchors every frame (after the camera has moved). */
function LabelProjector({ labels }: { labels: LabelRegistry }) {
  useFrame(({ camera, size }) => labels.project(camera, size.width, size.height));
  return null;
}

/** Publishes each machine's on-screen position (CSS px) for tests and tools: window.__ftFloor. */
function ScreenPositions({ layout }: { layout: FactoryLayout }) {
  const { camera, gl } = useThree();
  const frame = useRef(0);
  const v = useMemo(() => new THREE.Vector3(), []);
  useFrame(() => {
    frame.current += 1;
    if (frame.current % 15 !== 1) return;
    const rect = gl.domElement.getBoundingClientRect();
    const positions: Record<string, [number, number]> = {};
    for (const m of layout.machines) {
      const [x, , z] = toScene(layout, m.x, m.y);
      v.set(x, modelHeight(m, layout) * 0.45, z).project(camera);
      positions[m.id] = [rect.left + ((v.x + 1) / 2) * rect.width, rect.top + ((1 - v.y) / 2) * rect.height];
    }
    (window as unknown as { __ftFloor?: unknown }).__ftFloor = { positions, frames: frame.current };
  });
  return null;
}

export function FactoryScene({
  layout,
  selected,
  onSelect,
  dprPolicy,
  labels,
  edit = null,
}: {
  layout: FactoryLayout;
  selected: string | null;
  onSelect: (id: string) => void;
  dprPolicy: DprPolicy;
  labels: LabelRegistry;
  /** The floor's edit mode (null: viewing only). */
  edit?: EditCanvas | null;
}) {
  const alarms = useTwin((s) => s.alarms);
  const worst = useMemo(() => worstAlarmByMachine(alarms), [alarms]);
  return (
    <>
      <color attach="background" args={["#0b0e13"]} />
      <fog attach="fog" args={["#0b0e13", 70, 150]} />
      <DistanceFog />
      <hemisphereLight args={["#c8d6ff", "#1a1d22", 0.9]} />
      <directionalLight position={[20, 40, 25]} intensity={1.6} />
      <directionalLight position={[-25, 20, -15]} intensity={0.45} color="#9db4ff" />
      <Floor layout={layout} />
      <LineZones layout={layout} />
      {layout.machines.map((m) => (
        <MachineNode
          key={m.id}
          machine={m}
          layout={layout}
          selected={m.id === selected}
          severity={worst[m.id]}
          onSelect={onSelect}
          labels={labels}
          onGrab={edit ? edit.grab : null}
        />
      ))}
      <Controls layout={layout} frozen={!!edit && (edit.dragging || edit.placing)} />
      {edit && <EditDrag layout={layout} edit={edit} />}
      <LabelProjector labels={labels} />
      <ScreenPositions layout={layout} />
      <AdaptiveResolution policy={dprPolicy} />
    </>
  );
}
