// The factory's static description (layout, sensor catalogue, the plant's clock and currency), loaded once and shared by every view.

import { createContext, useContext } from "react";
import type { Catalogue, FactoryLayout, Machine, PlantInfo, SensorSpec } from "./api/types";

export interface FactoryInfo {
  layout: FactoryLayout;
  catalogue: Catalogue;
  byId: Record<string, Machine>;
  /** The plant's time zone, clock compression and currency (GET /plant). */
  plant: PlantInfo;
}

export const FactoryContext = createContext<FactoryInfo | null>(null);

export function useFactory(): FactoryInfo {
  const f = useContext(FactoryContext);
  if (!f) throw new Error("useFactory outside FactoryContext");
  return f;
}

export function sensorsOf(info: FactoryInfo, machineId: string): SensorSpec[] {
  const m = info.byId[machineId];
  return m ? (info.catalogue[m.profile] ?? []) : [];
}
