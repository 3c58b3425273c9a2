// The dashboard shell: loads the factory description, keeps the live stream running, routes between views.

import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "./api/client";
import type { Machine, Me } from "./api/types";
import { BellIcon, FloorIcon, HistoryIcon, OverviewIcon } from "./components/Icons";
import { notify, Toast } from "./components/Toast";
import { FactoryContext, type FactoryInfo } from "./context";
import { formatAgeS, formatClock } from "./format";
import { errorText } from "./hooks/usePolling";
import { useStaleness } from "./hooks/useStaleness";
import { parseRoute, routeHash, type Route, type View } from "./route";
import { watchCapabilities } from "./state/capabilities";
import { fleetKpis } from "./state/selectors";
import { twinStore, useTwin } from "./state/store";
import { StreamConnection, streamUrl } from "./state/stream";
import { FloorView } from "./views/FloorView";
import { HistoryView } from "./views/HistoryView";
import { LoginView } from "./views/LoginView";
import { SessionContext } from "./session";
import { OverviewView } from "./views/OverviewView";

function useRoute(): [Route, (r: Route) => void] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  const go = useCallback((r: Route) => {
    const h = routeHash(r);
    if (window.location.hash !== h) window.location.hash = h;
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
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (attempt: number): Promise<void> => {
      try {
        const [layout, catalogue] = await Promise.all([api.layout(), api.catalogue()]);
        if (cancelled) return;
        const byId: Record<string, Machine> = {};
        for (const m of layout.machines) byId[m.id] = m;
        setInfo({ layout, catalogue, byId });
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
  }, [enabled]);
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
      <BellIcon /> <span className="num">{k.activeAlarms}</span> active ·{" "}
      <span className="num">{k.unacknowledged}</span> unack
    </button>
  );
}

function Clock() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  return <span className="num muted clock">{formatClock(now.getTime())}</span>;
}

const NAV: { view: View; label: string; icon: () => React.JSX.Element }[] = [
  { view: "floor", label: "Floor", icon: FloorIcon },
  { view: "overview", label: "Overview", icon: OverviewIcon },
  { view: "history", label: "History", icon: HistoryIcon },
];

const TITLES: Record<View, string> = { floor: "3D factory floor", overview: "Fleet overview", history: "History" };

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

  return (
    <div className="app">
      <nav className="sidebar">
        <div className="brand-mark" title="factorytwin">
          ft
        </div>
        {NAV.map(({ view, label, icon: Icon }) => (
          <a
            key={view}
            href={routeHash({ view, machine: route.machine })}
            className={`nav-btn${route.view === view ? " active" : ""}`}
            data-testid={`nav-${view}`}
          >
            <Icon />
            {label}
          </a>
        ))}
      </nav>
      <header className="topbar">
        <h1>{info?.layout.name ?? "factorytwin"}</h1>
        <span className="crumb">/ {TITLES[route.view]}</span>
        <span className="spacer" />
        {info && <AlarmPill info={info} onClick={() => go({ view: "overview", machine: route.machine })} />}
        <ConnectionPill />
        <Clock />
        <UserPill me={me} onLogout={onLogout} />
      </header>
      <StaleBanner />
      <main className="main">
        {!info ? (
          <div className="loading">{error ? `Waiting for the factorytwin API… (${error})` : "Loading factory…"}</div>
        ) : (
          <FactoryContext.Provider value={info}>
            {route.view === "floor" && <FloorView selected={route.machine} onSelect={select} />}
            {route.view === "overview" && <OverviewView onOpen={(id) => go({ view: "floor", machine: id })} />}
            {route.view === "history" && <HistoryView machine={route.machine} onMachine={select} />}
          </FactoryContext.Provider>
        )}
      </main>
      <StreamErrors />
      <Toast />
    </div>
  );
}
