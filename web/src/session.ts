// Who is logged in, and what their role lets them do. The server decides (every route checks the role); the
// dashboard only hides or disables what would be refused, and says why.

import { createContext, useContext } from "react";
import type { Me, Role } from "./api/types";

export const ROLE_ORDER: readonly Role[] = ["viewer", "operator", "engineer", "admin"];

/** True when `role` is `need` or above (viewer < operator < engineer < admin). A device key holds no role. */
export function hasRole(role: Role | null | undefined, need: Role): boolean {
  if (!role) return false;
  return ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(need);
}

/** Why the logged-in user may not do what needs `need`, or null when they may. */
export function refusal(me: Me | null, need: Role): string | null {
  if (hasRole(me?.role, need)) return null;
  return `needs the ${need} role (you are ${me?.role ?? "not logged in"})`;
}

export const SessionContext = createContext<Me | null>(null);

export function useSession(): Me | null {
  return useContext(SessionContext);
}
