// Low-poly machine models built from primitives, one per machine kind, each animated from live values.
// Units are metres; +y is up, the machine faces +z (its operator side) before the layout's rotation.

import { useFrame } from "@react-three/fiber";
import { useMemo, useRef } from "react";
import type * as THREE from "three";
import { Color as THREE_COLOR } from "three";
import type { FactoryLayout, Machine } from "../api/types";
import { approach, runningValue, visualSpin } from "./live";
import { MAT } from "./materials";

export interface ModelProps {
  machine: Machine;
  accent: THREE.Material;
  /** The factory layout, with every kind's footprint. */
  layout: FactoryLayout;
}

type V3 = [number, number, number];

function Box({ p, s, m, r }: { p: V3; s: V3; m: THREE.Material; r?: V3 }) {
  return (
    <mesh position={p} rotation={r} material={m}>
      <boxGeometry args={s} />
    </mesh>
  );
}

function Cyl({
  p,
  rad,
  h,
  m,
  r,
  seg = 20,
}: {
  p: V3;
  rad: number | [number, number];
  h: number;
  m: THREE.Material;
  r?: V3;
  seg?: number;
}) {
  const [top, bottom] = Array.isArray(rad) ? rad : [rad, rad];
  return (
    <mesh position={p} rotation={r} material={m}>
      <cylinderGeometry args={[top, bottom, h, seg]} />
    </mesh>
  );
}

/** A spinning part: ``rpm`` sensor drives rotation about the group's local axis. */
function useSpin(id: string, sensor: string, axis: "x" | "y" | "z", scale = 1) {
  const ref = useRef<THREE.Group>(null);
  const speed = useRef(0);
  useFrame((_, dt) => {
    speed.current = approach(speed.current, visualSpin(runningValue(id, sensor)) * scale, dt);
    if (ref.current) ref.current.rotation[axis] += speed.current * dt;
  });
  return ref;
}

export function CncMill({ machine, accent }: ModelProps) {
  const spindle = useSpin(machine.id, "spindle_speed", "y");
  return (
    <group>
      <Box p={[0, 0.2, 0]} s={[2.6, 0.4, 2]} m={MAT.darkSteel} />
      <Box p={[0, 1.3, -0.55]} s={[2.4, 1.8, 0.9]} m={MAT.paintLight} />
      {/* enclosure with a window and a status-coloured door frame */}
      <Box p={[0, 1.25, 0.35]} s={[2.4, 1.7, 0.9]} m={MAT.paintLight} />
      <Box p={[0.25, 1.35, 0.81]} s={[1.3, 1.0, 0.04]} m={MAT.glass} />
      <Box p={[0.25, 1.93, 0.81]} s={[1.4, 0.08, 0.05]} m={accent} />
      <Box p={[-0.95, 1.3, 0.82]} s={[0.35, 0.6, 0.06]} m={MAT.darkSteel} />
      <Box p={[0, 2.35, -0.55]} s={[1.0, 0.5, 0.7]} m={MAT.paintBlue} />
      <group ref={spindle} position={[0.25, 1.55, 0.3]}>
        <Cyl p={[0, 0, 0]} rad={0.12} h={0.55} m={MAT.steel} />
        <Box p={[0.09, -0.2, 0]} s={[0.05, 0.2, 0.05]} m={MAT.darkSteel} />
      </group>
      <Box p={[0.25, 0.95, 0.3]} s={[1.2, 0.12, 0.7]} m={MAT.steel} />
    </group>
  );
}

export function Lathe({ machine, accent }: ModelProps) {
  const chuck = useSpin(machine.id, "spindle_speed", "x");
  return (
    <group>
      <Box p={[0, 0.45, 0]} s={[3.6, 0.9, 1.0]} m={MAT.paintGreen} />
      <Box p={[0, 0.95, -0.1]} s={[3.4, 0.12, 0.6]} m={MAT.steel} />
      <Box p={[-1.35, 1.35, -0.05]} s={[0.8, 0.8, 0.9]} m={MAT.paintGreen} />
      <group ref={chuck} position={[-0.85, 1.35, -0.05]}>
        <Cyl p={[0, 0, 0]} rad={0.32} h={0.2} r={[0, 0, Math.PI / 2]} m={MAT.steel} />
        <Box p={[0.02, 0.2, 0]} s={[0.22, 0.12, 0.08]} m={MAT.darkSteel} />
        <Box p={[0.02, -0.2, 0]} s={[0.22, 0.12, 0.08]} m={MAT.darkSteel} />
        <Cyl p={[0.55, 0, 0]} rad={0.09} h={0.9} r={[0, 0, Math.PI / 2]} m={MAT.steel} />
      </group>
      <Box p={[1.25, 1.25, -0.05]} s={[0.45, 0.5, 0.5]} m={MAT.paintGreen} />
      <Box p={[0.2, 1.12, 0.15]} s={[0.5, 0.22, 0.5]} m={MAT.darkSteel} />
      <Box p={[-1.35, 1.8, -0.05]} s={[0.82, 0.08, 0.92]} m={accent} />
      <Box p={[0.3, 1.6, 0.45]} s={[2.0, 0.9, 0.04]} m={MAT.glass} />
    </group>
  );
}

export function HydraulicPress({ machine, accent }: ModelProps) {
  const ram = useRef<THREE.Group>(null);
  const phase = useRef(0);
  const rate = useRef(0);
  useFrame((_, dt) => {
    rate.current = approach(rate.current, runningValue(machine.id, "stroke_rate") / 60, dt);
    phase.current += rate.current * dt * 2 * Math.PI;
    if (ram.current) ram.current.position.y = 2.2 + 0.55 * Math.cos(phase.current);
  });
  return (
    <group>
      <Box p={[0, 0.45, 0]} s={[2.6, 0.9, 1.8]} m={MAT.paintBlue} />
      <Box p={[0, 0.95, 0]} s={[1.8, 0.1, 1.3]} m={MAT.steel} />
      {([-1, 1] as const).flatMap((sx) =>
        ([-1, 1] as const).map((sz) => (
          <Cyl key={`${sx}${sz}`} p={[sx * 1.05, 2.3, sz * 0.7]} rad={0.13} h={2.8} m={MAT.steel} />
        )),
      )}
      <Box p={[0, 3.95, 0]} s={[2.7, 0.9, 1.9]} m={MAT.paintBlue} />
      <Box p={[0, 4.45, 0]} s={[1.2, 0.15, 0.9]} m={accent} />
      <Cyl p={[0, 3.2, 0]} rad={0.28} h={0.8} m={MAT.darkSteel} />
      <group ref={ram} position={[0, 2.2, 0]}>
        <Cyl p={[0, 0.6, 0]} rad={0.18} h={1.0} m={MAT.steel} />
        <Box p={[0, 0, 0]} s={[1.7, 0.3, 1.2]} m={MAT.paintYellow} />
      </group>
      <Box p={[1.55, 1.0, 0.4]} s={[0.4, 1.4, 0.6]} m={MAT.paintLight} />
    </group>
  );
}

export function Pump({ machine, accent }: ModelProps) {
  const shaft = useSpin(machine.id, "motor_speed", "x");
  return (
    <group>
      <Box p={[0, 0.08, 0]} s={[2.0, 0.16, 0.8]} m={MAT.darkSteel} />
      <Cyl p={[-0.45, 0.55, 0]} rad={0.3} h={0.9} r={[0, 0, Math.PI / 2]} m={MAT.paintBlue} />
      <Cyl p={[-0.93, 0.55, 0]} rad={0.2} h={0.08} r={[0, 0, Math.PI / 2]} m={accent} />
      <group ref={shaft} position={[0.15, 0.55, 0]}>
        <Cyl p={[0, 0, 0]} rad={0.1} h={0.3} r={[0, 0, Math.PI / 2]} m={MAT.steel} />
        <Box p={[0, 0.1, 0]} s={[0.3, 0.05, 0.05]} m={MAT.paintYellow} />
      </group>
      <Cyl p={[0.6, 0.55, 0]} rad={0.38} h={0.35} r={[0, 0, Math.PI / 2]} m={MAT.paintRed} />
      <Cyl p={[0.6, 1.05, 0]} rad={0.1} h={0.7} m={MAT.steel} />
      <Cyl p={[0.9, 0.55, 0]} rad={0.1} h={0.35} r={[0, 0, Math.PI / 2]} m={MAT.steel} />
      <Cyl p={[0.6, 1.4, 0.35]} rad={0.1} h={0.8} r={[Math.PI / 2, 0, 0]} m={MAT.steel} />
    </group>
  );
}

export function AirCompressor({ machine, accent }: ModelProps) {
  const fan = useSpin(machine.id, "motor_speed", "y", 1.5);
  return (
    <group>
      <Cyl p={[0, 0.55, 0.65]} rad={0.45} h={2.2} r={[0, 0, Math.PI / 2]} m={MAT.paintRed} />
      <Box p={[-0.7, 0.15, 0.65]} s={[0.15, 0.3, 0.6]} m={MAT.darkSteel} />
      <Box p={[0.7, 0.15, 0.65]} s={[0.15, 0.3, 0.6]} m={MAT.darkSteel} />
      <Box p={[0, 0.95, -0.45]} s={[2.0, 1.9, 1.1]} m={MAT.paintLight} />
      {[0.4, 0.7, 1.0, 1.3].map((y) => (
        <Box key={y} p={[0.45, y, 0.11]} s={[0.9, 0.06, 0.02]} m={MAT.darkSteel} />
      ))}
      <Box p={[-0.6, 1.45, 0.11]} s={[0.5, 0.3, 0.02]} m={accent} />
      <group ref={fan} position={[0.4, 1.92, -0.45]}>
        <Cyl p={[0, 0, 0]} rad={0.06} h={0.06} m={MAT.darkSteel} />
        {[0, 1, 2, 3].map((i) => (
          <Box key={i} p={[0, 0.02, 0]} s={[0.7, 0.02, 0.12]} r={[0, (i * Math.PI) / 4, 0.2]} m={MAT.darkSteel} />
        ))}
      </group>
      <Cyl p={[0.4, 1.91, -0.45]} rad={0.42} h={0.03} m={MAT.rubber} />
    </group>
  );
}

const CARTON_SPACING = 2.4; // metres between cartons on a belt

export function Conveyor({ machine, accent, layout }: ModelProps) {
  const length = conveyorLength(machine, layout);
  const n = Math.max(2, Math.floor(length / CARTON_SPACING));
  const cartons = useRef<THREE.Group>(null);
  const offset = useRef(0);
  const speed = useRef(0);
  useFrame((_, dt) => {
    speed.current = approach(speed.current, runningValue(machine.id, "belt_speed"), dt);
    offset.current = (offset.current + speed.current * dt) % CARTON_SPACING;
    const g = cartons.current;
    if (!g) return;
    g.children.forEach((c, i) => {
      c.position.x =
        -length / 2 + ((i * CARTON_SPACING + offset.current) % (n * CARTON_SPACING)) * (length / (n * CARTON_SPACING));
    });
  });
  const legs = useMemo(() => {
    const out: number[] = [];
    for (let x = -length / 2 + 0.5; x <= length / 2 - 0.4; x += 3) out.push(x);
    return out;
  }, [length]);
  return (
    <group>
      <Box p={[0, 0.8, 0]} s={[length, 0.08, 1.0]} m={MAT.belt} />
      <Box p={[0, 0.8, 0.55]} s={[length, 0.16, 0.08]} m={MAT.paintYellow} />
      <Box p={[0, 0.8, -0.55]} s={[length, 0.16, 0.08]} m={MAT.paintYellow} />
      <Cyl p={[-length / 2, 0.8, 0]} rad={0.12} h={1.05} r={[Math.PI / 2, 0, 0]} m={MAT.steel} />
      <Cyl p={[length / 2, 0.8, 0]} rad={0.12} h={1.05} r={[Math.PI / 2, 0, 0]} m={MAT.steel} />
      <Box p={[-length / 2 + 0.4, 0.45, 0.75]} s={[0.5, 0.5, 0.4]} m={MAT.paintBlue} />
      <Box p={[-length / 2 + 0.4, 0.75, 0.75]} s={[0.3, 0.08, 0.3]} m={accent} />
      {legs.map((x) => (
        <group key={x}>
          <Box p={[x, 0.38, 0.45]} s={[0.08, 0.76, 0.08]} m={MAT.darkSteel} />
          <Box p={[x, 0.38, -0.45]} s={[0.08, 0.76, 0.08]} m={MAT.darkSteel} />
        </group>
      ))}
      <group ref={cartons}>
        {Array.from({ length: n }, (_, i) => (
          <Box key={i} p={[0, 1.04, 0]} s={[0.6, 0.4, 0.55]} m={MAT.cardboard} />
        ))}
      </group>
    </group>
  );
}

/** A conveyor's length in metres, from its layout metadata (length_m), else its kind's footprint width. */
export function conveyorLength(machine: Machine, layout: FactoryLayout): number {
  const l = Number(machine.metadata?.length_m);
  return Number.isFinite(l) && l > 0 ? l : (layout.footprints[machine.profile]?.width ?? 0);
}

export function RobotArm({ machine, accent }: ModelProps) {
  const turret = useRef<THREE.Group>(null);
  const shoulder = useRef<THREE.Group>(null);
  const elbow = useRef<THREE.Group>(null);
  const phase = useRef(0);
  const rate = useRef(0);
  useFrame((_, dt) => {
    const cycle = runningValue(machine.id, "cycle_time");
    rate.current = approach(rate.current, cycle > 0 ? 1 / Math.max(4, cycle) : 0, dt);
    phase.current += rate.current * dt * 2 * Math.PI;
    const p = phase.current;
    if (turret.current) turret.current.rotation.y = 1.2 * Math.sin(p);
    if (shoulder.current) shoulder.current.rotation.z = -0.35 + 0.3 * Math.sin(2 * p);
    if (elbow.current) elbow.current.rotation.z = 1.1 + 0.35 * Math.cos(2 * p);
  });
  return (
    <group>
      <Cyl p={[0, 0.15, 0]} rad={[0.5, 0.6]} h={0.3} m={MAT.darkSteel} />
      <group ref={turret} position={[0, 0.3, 0]}>
        <Cyl p={[0, 0.25, 0]} rad={0.4} h={0.5} m={MAT.paintOrange} />
        <Box p={[0, 0.55, 0]} s={[0.4, 0.15, 0.45]} m={accent} />
        <group ref={shoulder} position={[0, 0.7, 0]}>
          <Cyl p={[0, 0, 0]} rad={0.2} h={0.55} r={[Math.PI / 2, 0, 0]} m={MAT.darkSteel} />
          <Box p={[0, 0.7, 0]} s={[0.28, 1.4, 0.3]} m={MAT.paintOrange} />
          <group ref={elbow} position={[0, 1.4, 0]}>
            <Cyl p={[0, 0, 0]} rad={0.16} h={0.45} r={[Math.PI / 2, 0, 0]} m={MAT.darkSteel} />
            <Box p={[0, 0.6, 0]} s={[0.22, 1.2, 0.24]} m={MAT.paintOrange} />
            <group position={[0, 1.25, 0]}>
              <Cyl p={[0, 0, 0]} rad={0.1} h={0.18} m={MAT.darkSteel} />
              <Box p={[0.07, 0.16, 0]} s={[0.04, 0.2, 0.12]} m={MAT.steel} />
              <Box p={[-0.07, 0.16, 0]} s={[0.04, 0.2, 0.12]} m={MAT.steel} />
            </group>
          </group>
        </group>
      </group>
    </group>
  );
}

/** A machine of a profile without a built-in model: its footprint's box or cylinder (a primitive's own size and
 * colour, served with the layout), with an accent band so its status reads like the others'. */
export function Primitive({ machine, accent, layout }: ModelProps) {
  const f = layout.footprints[machine.profile];
  const color = useMemo(() => {
    const [r, g, b] = f?.color ?? [0.27, 0.29, 0.32];
    return new THREE_COLOR(r, g, b);
  }, [f]);
  const w = f?.width ?? 1;
  const h = f?.height ?? 1;
  const d = f?.depth ?? 1;
  return (
    <group>
      <mesh position={[0, h / 2, 0]} castShadow receiveShadow>
        {f?.shape === "cylinder" ? <cylinderGeometry args={[w / 2, w / 2, h, 32]} /> : <boxGeometry args={[w, h, d]} />}
        <meshStandardMaterial color={color} roughness={0.6} metalness={0.2} />
      </mesh>
      <mesh position={[0, h * 0.85, 0]} material={accent}>
        {f?.shape === "cylinder" ? (
          <cylinderGeometry args={[w / 2 + 0.02, w / 2 + 0.02, h * 0.06, 32]} />
        ) : (
          <boxGeometry args={[w + 0.04, h * 0.06, d + 0.04]} />
        )}
      </mesh>
    </group>
  );
}

export const MODELS = {
  cnc_mill: CncMill,
  lathe: Lathe,
  hydraulic_press: HydraulicPress,
  pump: Pump,
  air_compressor: AirCompressor,
  conveyor: Conveyor,
  robot_arm: RobotArm,
} as const;

/** The footprint radius of a machine (metres), for its floor ring and hit area (served with the layout). */
export function footprint(machine: Machine, layout: FactoryLayout): number {
  return layout.footprints[machine.profile]?.ring_radius ?? 0;
}

/** Height of a machine's top (metres), where its label and alarm beacon sit (served with the layout). */
export function modelHeight(machine: Machine, layout: FactoryLayout): number {
  return layout.footprints[machine.profile]?.top ?? 2.7;
}
