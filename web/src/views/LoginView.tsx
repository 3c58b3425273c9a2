// The login form: shown instead of the dashboard while there is no valid session.

import { useState, type FormEvent } from "react";
import { api, ApiError } from "../api/client";
import type { Me } from "../api/types";

export function LoginView({ onLoggedIn, reason }: { onLoggedIn: (me: Me) => void; reason: string | null }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api.login(username, password);
      onLoggedIn(session.user);
    } catch (err) {
      const locked = err instanceof ApiError && err.status === 429;
      setError(
        locked ? "Too many failed attempts: try again later." : err instanceof Error ? err.message : String(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="login-card" onSubmit={(e) => void submit(e)} data-testid="login-form">
        <div className="brand-mark">ft</div>
        <h1>factorytwin</h1>
        {reason && <p className="muted">{reason}</p>}
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
            autoFocus
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="login-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button className="btn primary" type="submit" disabled={busy} data-testid="login-submit">
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </div>
  );
}
