// The dashboard shell: loads the factory description, keeps the live stream running, routes between views.

import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { api, ApiError } from "./api/client";
import type { Machine, Me } from "./api/types";
import {
  AuditIcon,
  BellIcon,
  CubeIcon,
  FloorIcon,
  HistoryIcon,
  KpiIcon,
  OverviewIcon,
  PlugIcon,
  WhatIfIcon,
  WrenchIcon,
} from "./components/Icons";
import { notify, Toast } from "./components/Toast";
import { FactoryContext, type FactoryInfo } from "./context";
import { formatAgeS, formatClock, plantZoneName, setPlantZone } from "./format";
import { errorText } from "./hooks/usePolling";
import { useStaleness } from "./hooks/useStaleness";
import { DEFAULT_HISTORY_STATE } from "./historyState";
import { parseRoute, routeHash, type Route, type View } from "./route";
import { watchCapabilities } from "./state/capabilities";
import { fleetKpis } from "./state/selectors";
import { twinStore, useTwin } from "./state/store";
import { StreamConnection, streamUrl } from "./state/stream";
import { FloorView } from "./views/FloorView";
import { HistoryView } from "./views/HistoryView";
import { LoginView } from "./views/LoginView";
import { hasRole, SessionContext } from "./session";
import { OverviewView } from "./views/OverviewView";
import {
  loadUnitPrefs,
  setUnitPrefs,
  subscribeUnitPrefs,
  unitPrefs,
  type PressureUnit,
  type TemperatureUnit,
  type UnitPrefs,
} from "./units";
import { AuditView } from "./views/AuditView";
import { ConnectorsView } from "./views/ConnectorsView";
import { ProfilesView } from "./views/ProfilesView";
import { KpisView } from "./views/KpisView";
import { WhatIfView } from "./views/WhatIfView";
import { WorkOrdersView } from "./views/WorkOrdersView";
import { DEFAULT_KPI_STATE, PLANT, type KpiPath, type KpiViewState } from "./kpis";

/** The route of the hash, and `go` to another: a new browser-history entry, or with `replace` the current one
 * rewritten in place (the History view's every toggle, so Back leaves the view rather than undoing a click). */
function useRoute(): [Route, (r: Route, replace?: boolean) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  const go = useCallback((r: Route, replace = false) => {
    const h = routeHash(r);
    if (window.location.hash === h) return;
    if (!replace) {
      window.location.hash = h;
      return;
    }
    window.history.replaceState(window.history.state, "", h); // no hashchange event: the route is set here
    setRoute(parseRoute(h));
  }, []);
  return [route, go];
}

type SessionState = { state: "checking" } | { state: "anonymous"; reason: string | null } | { state: "in"; me: Me };

/** Who is logged in: asks the server once, then follows logins, logouts and any 401 (an expired session). */
function useSessionState(): [SessionState, (s: SessionState) => void] {
  const [session, setSession] = useState<SessionState>({ state: "checking" });
  useEffect(() => {
    let cancelled = false;
    api.onUnauthorized = () => setSession({ state: "anonymous", reason: "Your session has ended: log in again." });
    const check = async (attempt: number): Promise<void> => {
      try {
        const me = await api.me();
        if (!cancelled) setSession({ state: "in", me });
      } catch (e) {
        if (cancelled) return;
        if (e instanceof ApiError && e.status === 401) setSession({ state: "anonymous", reason: null });
        else setTimeout(() => void check(attempt + 1), Math.min(10_000, 1000 * 2 ** attempt)); // API not up yet
      }
    };
    void check(0);
    return () => {
      cancelled = true;
      api.onUnauthorized = null;
    };
  }, []);
  return [session, setSession];
}

/** Load layout and catalogue, retrying while the API is not up yet. */
function useFactoryInfo(enabled: boolean): { info: FactoryInfo | null; error: string | null } {
  const [info, setInfo] = useState<FactoryInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A machine created, changed or deleted anywhere (the stream's machine_changed): load the plant again.
  const plantVersion = useTwin((s) => s.plantVersion);
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (attempt: number): Promise<void> => {
      try {
        const [layout, catalogue, plant] = await Promise.all([api.layout(), api.catalogue(), api.plant()]);
        if (cancelled) return;
        setPlantZone(plant.timezone); // before anything renders a time
        const byId: Record<string, Machine> = {};
        for (const m of layout.machines) byId[m.id] = m;
        setInfo({ layout, catalogue, byId, plant });
        setError(null);
      } catch (e) {
        if (cancelled) return;
        setError(e instanceof Error ? e.message : String(e));
        timer = setTimeout(() => void load(attempt + 1), Math.min(10_000, 1000 * 2 ** attempt));
      }
    };
    void load(0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [enabled, plantVersion]);
  return { info, error };
}

function useLiveStream(enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const conn = new StreamConnection(streamUrl(window.location), twinStore.dispatch);
    conn.start();
    // Acknowledged alarms are not in the stream's snapshot; fetch them once so the table is complete.
    api.alarms().then(
      (alarms) => twinStore.dispatch({ type: "alarms/loaded", alarms }),
      (e: unknown) => {
        console.warn("loading the alarm list failed:", e);
        notify(`Could not load the alarm list: ${errorText(e)}`);
      },
    );
    (window as unknown as { __ftStream?: StreamConnection }).__ftStream = conn;
    const stopCaps = watchCapabilities();
    return () => {
      conn.stop();
      stopCaps();
    };
  }, [enabled]);
}

/** The server's `error` messages on the stream (a subscription it could not use) shown as a warning. */
function StreamErrors() {
  const error = useTwin((s) => s.serverError);
  useEffect(() => {
    if (error) notify(`Live stream: ${error.detail}`, "warn");
  }, [error]);
  return null;
}

function ConnectionPill() {
  const status = useTwin((s) => s.connection);
  const attempt = useTwin((s) => s.reconnectAttempt);
  const text =
    status === "open" ? "Live" : status === "connecting" ? "Connecting…" : `Reconnecting… (attempt ${attempt})`;
  return (
    <span className={`pill conn-${status}`} data-testid="connection" data-status={status}>
      <span className="dot" />
      {text}
    </span>
  );
}

/** While the stream is down: a banner that says since when everything on screen is as it was. */
function StaleBanner() {
  const { stale, asOf, ageS } = useStaleness();
  if (!stale || asOf === null || ageS === null) return null;
  return (
    <div className="stale-banner" role="status" data-testid="stale-banner">
      <b>Live stream down.</b> Every value on screen is as of <span className="num">{formatClock(asOf)}</span> (
      <span className="num" data-testid="stale-age">
        {formatAgeS(ageS)}
      </span>
      ) and may no longer be true.
    </div>
  );
}

function AlarmPill({ info, onClick }: { info: FactoryInfo; onClick: () => void }) {
  const machines = useTwin((s) => s.machines);
  const alarms = useTwin((s) => s.alarms);
  const k = useMemo(() => fleetKpis(info.layout.machines, machines, alarms), [info, machines, alarms]);
  const hot = k.alarmsBySeverity.critical + k.alarmsBySeverity.major > 0;
  const { stale, asOf } = useStaleness();
  return (
    <button
      className={`pill${stale ? " stale" : ""}`}
      onClick={onClick}
      title={stale && asOf !== null ? `as of ${formatClock(asOf)}` : undefined}
      style={{ cursor: "pointer", color: hot ? "#fca5a5" : undefined }}
      data-testid="alarm-pill"
    >
      <BellIcon /> <span className="num">{k.activeAlarms}</span>
      <span className="wide-only"> active</span> · <span className="num">{k.unacknowledged}</span>
      <span className="wide-only"> unack</span>
    </button>
  );
}

function Clock() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  const zone = plantZoneName();
  return (
    <span className="num muted clock" data-testid="clock" title={`every time is shown in the plant's zone, ${zone}`}>
      {formatClock(now.getTime())} <span className="faint zone">{zone}</span>
    </span>
  );
}

/** A simulator compressing time: say so, since durations and rates on screen are in the machines' time. */
function TimeScalePill({ scale }: { scale: number }) {
  if (scale === 1) return null;
  const text = Number.isInteger(scale) ? String(scale) : scale.toFixed(1);
  return (
    <span
      className="pill time-scale"
      data-testid="time-scale"
      title={`The machines' clock runs ${text} times the wall clock: a simulated hour passes in ${formatHoursOfWall(scale)}.`}
    >
      <span className="wide-only">simulated time </span>×{text}
    </span>
  );
}

function formatHoursOfWall(scale: number): string {
  const s = 3600 / scale;
  return s >= 60 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`;
}

const NAV: { view: View; label: string; icon: () => React.JSX.Element; admin?: true }[] = [
  { view: "floor", label: "Floor", icon: FloorIcon },
  { view: "overview", label: "Overview", icon: OverviewIcon },
  { view: "history", label: "History", icon: HistoryIcon },
  { view: "kpis", label: "Plant KPIs", icon: KpiIcon },
  { view: "whatif", label: "What-if", icon: WhatIfIcon },
  { view: "workorders", label: "Work orders", icon: WrenchIcon },
  { view: "profiles", label: "Profiles", icon: CubeIcon },
  { view: "connectors", label: "Connect", icon: PlugIcon },
  { view: "audit", label: "Audit", icon: AuditIcon, admin: true },
];

const TITLES: Record<View, string> = {
  floor: "3D factory floor",
  overview: "Fleet overview",
  history: "History",
  kpis: "Plant KPIs",
  audit: "Audit trail",
  whatif: "What-if scenarios",
  workorders: "Work orders",
  profiles: "Machine profiles",
  connectors: "Connectors",
};

loadUnitPrefs();

/** Which units temperatures and pressures are shown in (saved in this browser; the data keeps the sensor's unit). */
function UnitsMenu({ prefs }: { prefs: UnitPrefs }) {
  const [open, setOpen] = useState(false);
  return (
    <span className="units-menu">
      <button
        className="pill"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        data-testid="units"
        title="Display units"
      >
        {prefs.temperature ?? "K"} · {prefs.pressure ?? "bar"}
      </button>
      {open && (
        <span className="units-pop card" data-testid="units-menu">
          <label>
            Temperature
            <select
              value={prefs.temperature ?? ""}
              onChange={(e) =>
                setUnitPrefs({ ...prefs, temperature: (e.target.value || null) as TemperatureUnit | null })
              }
              data-testid="units-temperature"
            >
              <option value="">as reported</option>
              <option value="K">K</option>
              <option value="°C">°C</option>
              <option value="°F">°F</option>
            </select>
          </label>
          <label>
            Pressure
            <select
              value={prefs.pressure ?? ""}
              onChange={(e) => setUnitPrefs({ ...prefs, pressure: (e.target.value || null) as PressureUnit | null })}
              data-testid="units-pressure"
            >
              <option value="">as reported</option>
              <option value="bar">bar</option>
              <option value="psi">psi</option>
              <option value="kPa">kPa</option>
            </select>
          </label>
        </span>
      )}
    </span>
  );
}

function UserPill({ me, onLogout }: { me: Me; onLogout: () => void }) {
  return (
    <span className="pill user-pill" data-testid="user" data-role={me.role ?? ""}>
      <span className="who">
        {me.name} · {me.role}
      </span>
      <button className="btn" onClick={onLogout} data-testid="logout">
        Log out
      </button>
    </span>
  );
}

export function App() {
  const [session, setSession] = useSessionState();
  if (session.state === "checking") return <div className="loading">Connecting to factorytwin…</div>;
  if (session.state === "anonymous")
    return <LoginView reason={session.reason} onLoggedIn={(me) => setSession({ state: "in", me })} />;
  const logout = (): void => {
    api.logout().then(
      () => window.location.reload(), // drops every piece of state the session loaded
      (e: unknown) => notify(`Could not log out: ${errorText(e)}`),
    );
  };
  return (
    <SessionContext.Provider value={session.me}>
      <Dashboard me={session.me} onLogout={logout} />
    </SessionContext.Provider>
  );
}

function Dashboard({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const [route, go] = useRoute();
  const { info, error } = useFactoryInfo(true);
  useLiveStream(info !== null);
  const select = useCallback((id: string | null) => go({ view: route.view, machine: id }), [go, route.view]);
  const drill = useCallback(
    (kpi: KpiPath, kpiState?: KpiViewState, push = true) =>
      go({ view: "kpis", machine: kpi.scope === "machine" ? kpi.id : null, kpi, kpiState }, !push),
    [go],
  );
  // a change of display units re-renders the shell and with it every value on screen
  const prefs = useSyncExternalStore(subscribeUnitPrefs, unitPrefs);

  return (
    <div className="app">
      <nav className="sidebar">
        <div className="brand-mark" title="factorytwin">
          ft
        </div>
        {NAV.filter((n) => !n.admin || hasRole(me.role, "admin")).map(({ view, label, icon: Icon }) => (
          <a
            key={view}
            href={routeHash({ view, machine: view === "kpis" || view === "whatif" ? null : route.machine })}
            className={`nav-btn${route.view === view ? " active" : ""}`}
            data-testid={`nav-${view}`}
          >
            <Icon />
            {label}
          </a>
        ))}
      </nav>
      {/* Three groups that wrap as wholes: on a phone the status pills stay beside the title and the user's tools
          take a second row, so nothing is cut off (styles.css "phones"). */}
      <header className="topbar" data-testid="topbar">
        <div className="topbar-title">
          <h1 title={info?.layout.name ?? "factorytwin"}>{info?.layout.name ?? "factorytwin"}</h1>
          <span className="crumb">/ {TITLES[route.view]}</span>
        </div>
        <div className="topbar-group topbar-status">
          {info && <AlarmPill info={info} onClick={() => go({ view: "overview", machine: route.machine })} />}
          {info && <TimeScalePill scale={info.plant.time_scale} />}
          <ConnectionPill />
        </div>
        <div className="topbar-group topbar-tools">
          <UnitsMenu prefs={prefs} />
          <Clock />
          <UserPill me={me} onLogout={onLogout} />
        </div>
      </header>
      <StaleBanner />
      <main className="main">
        {!info ? (
          <div className="loading">{error ? `Waiting for the factorytwin API… (${error})` : "Loading factory…"}</div>
        ) : (
          <FactoryContext.Provider value={info}>
            {route.view === "floor" && <FloorView selected={route.machine} onSelect={select} />}
            {route.view === "overview" && <OverviewView onOpen={(id) => go({ view: "floor", machine: id })} />}
            {route.view === "history" && (
              <HistoryView
                machine={route.machine}
                state={route.history ?? DEFAULT_HISTORY_STATE}
                onChange={(machine, history, push) => go({ view: "history", machine, history }, !push)}
              />
            )}
            {route.view === "audit" && <AuditView />}
            {route.view === "profiles" && <ProfilesView />}
            {route.view === "connectors" && <ConnectorsView />}
            {route.view === "kpis" && (
              <KpisView path={route.kpi ?? PLANT} state={route.kpiState ?? DEFAULT_KPI_STATE} onChange={drill} />
            )}
            {route.view === "whatif" && <WhatIfView />}
            {route.view === "workorders" && (
              <WorkOrdersView
                order={route.order ?? null}
                onOrder={(id) =>
                  go(
                    id === null
                      ? { view: "workorders", machine: null }
                      : { view: "workorders", machine: null, order: id },
                  )
                }
              />
            )}
          </FactoryContext.Provider>
        )}
      </main>
      <StreamErrors />
      <Toast />
    </div>
  );
}
