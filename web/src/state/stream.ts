// The live WebSocket: connects, feeds parsed messages to the store, and reconnects with exponential back-off
// (with jitter, so a restarted server is not hit by every dashboard at the same instant).

import type { TwinAction } from "./reducer";
import { parseServerFrame } from "./messages";

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1: how much of the delay is randomised. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000, jitter: 0.3 };

/** Delay before reconnect attempt ``attempt`` (1-based): base * 2^(attempt-1), capped, minus up to jitter. */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exp = opts.baseMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(opts.maxMs, exp);
  return Math.round(capped * (1 - opts.jitter * random()));
}

/** ws:// or wss:// URL of the stream for the page's origin. The dashboard asks for batch frames (`?batch=true`):
 *  whatever is queued for it comes in one frame, so a plant of 10,000 machines is not 10,000 frames a second. */
export function streamUrl(loc: { protocol: string; host: string }, path = "/api/v1/stream?batch=true"): string {
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}${path}`;
}

/** The subset of the browser WebSocket this module uses (so tests can pass a fake). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
  readonly readyState: number;
}

export interface StreamDeps {
  createSocket: (url: string) => SocketLike;
  setTimer: (cb: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  now: () => number;
  random: () => number;
}

const browserDeps = (): StreamDeps => ({
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
  random: Math.random,
});

export class StreamConnection {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private stopped = false;
  private subscription: string[] | null = null;
  dropped = 0;

  constructor(
    private readonly url: string,
    private readonly dispatch: (a: TwinAction) => void,
    private readonly deps: StreamDeps = browserDeps(),
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.deps.clearTimer(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = null;
      s.onerror = null;
      s.onmessage = null;
      s.close();
    }
  }

  /** Restrict the stream to some machines (null: all); remembered across reconnects. */
  subscribe(machines: string[] | null): void {
    this.subscription = machines;
    this.sendSubscription();
  }

  private sendSubscription(): void {
    if (this.socket && this.socket.readyState === 1 && this.subscription !== null) {
      this.socket.send(JSON.stringify({ type: "subscribe", machines: this.subscription }));
    }
  }

  private connect(): void {
    if (this.stopped) return;
    this.dispatch({
      type: "ws/status",
      status: this.attempt === 0 ? "connecting" : "reconnecting",
      attempt: this.attempt,
    });
    let socket: SocketLike;
    try {
      socket = this.deps.createSocket(this.url);
    } catch (e) {
      console.warn(`could not open the live stream ${this.url}; retrying:`, e);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.dispatch({ type: "ws/status", status: "open" });
      this.sendSubscription();
    };
    socket.onmessage = (ev) => {
      const frame = parseServerFrame(ev.data);
      if (frame === null || frame.dropped > 0) {
        this.dropped += frame === null ? 1 : frame.dropped;
        console.warn(`live stream: dropped what is not a message (${this.dropped} so far):`, ev.data);
        if (frame === null) return;
      }
      const receivedAt = this.deps.now();
      for (const message of frame.messages) this.dispatch({ type: "ws/message", message, receivedAt });
    };
    // onerror is always followed by onclose in browsers; reconnect from there only, once.
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.attempt += 1;
    this.dispatch({ type: "ws/status", status: "reconnecting", attempt: this.attempt });
    const delay = backoffDelay(this.attempt, this.backoff, this.deps.random);
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
