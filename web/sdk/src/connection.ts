import { fullJitter } from "./backoff.js";
import type { ClientFrame, ConnectionState, HelloFrame, ServerFrame } from "./types.js";

/** The part of the WebSocket API the SDK uses (browsers, React Native, `ws`). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a WebSocket to url (globalThis.WebSocket by default). */
export type WebSocketFactory = (url: string) => WebSocketLike;

/**
 * NetworkMonitor tells when the platform believes the network is up. The
 * browser one listens to online/offline; React Native apps wrap NetInfo.
 */
export interface NetworkMonitor {
  isOnline(): boolean;
  subscribe(onChange: (online: boolean) => void): () => void;
}

export const alwaysOnline: NetworkMonitor = { isOnline: () => true, subscribe: () => () => {} };

export interface ConnectionOptions {
  /** The ws(s):// URL of /v1/ws, without the token. */
  url: string;
  socket: WebSocketFactory;
  network: NetworkMonitor;
  /** A fresh access token; refresh when force is set (after close 4001). */
  token: (force: boolean) => Promise<string>;
  /** Runs after hello and before `connected` (catch-up, outbox resend). */
  ready: (hello: HelloFrame) => Promise<void>;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnectionState, detail: { attempt: number; delayMs?: number; closeCode?: number }) => void;
  /** A fatal close (4003, 4008, 4010, 4011, 4012; the error's closeCode) or a token that cannot be had (signed out). */
  onFatal: (err: unknown) => void;
  random?: () => number;
  /** No hello within this time: drop the socket and retry. Default 10 s. */
  helloTimeoutMs?: number;
  /** No frame within this time after our ping: the link is dead. Default 10 s. */
  pongTimeoutMs?: number;
}

const OPEN = 1;

/**
 * Connection keeps one WebSocket up: disconnected → connecting → connected
 * → reconnecting → connected…, with full-jitter exponential backoff capped
 * at 30 s, an immediate retry when the platform reports the network back or
 * the server closes with 1001, an application ping every ping_interval_ms
 * (a dead link is noticed even when the OS never reports it), and a refresh
 * of the access token on 4001.
 */
export class Connection {
  state: ConnectionState = "disconnected";
  private ws: WebSocketLike | null = null;
  private helloSeen = false;
  private wanted = false;
  private attempt = 0;
  private forceRefresh = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private helloTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribeNet: (() => void) | null = null;
  private everConnected = false;
  private pingSeq = 0;

  constructor(private readonly o: ConnectionOptions) {}

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.unsubscribeNet = this.o.network.subscribe((online) => this.networkChanged(online));
    void this.open();
  }

  stop(): void {
    this.wanted = false;
    this.unsubscribeNet?.();
    this.unsubscribeNet = null;
    this.clearTimers();
    const ws = this.ws;
    this.detach();
    ws?.close(1000, "bye");
    this.setState("disconnected", {});
  }

  /** send writes a frame if the socket is up (after hello); false otherwise. */
  send(frame: ClientFrame): boolean {
    if (!this.ws || !this.helloSeen || this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** isLive: a socket past hello (frames can be sent), even during catch-up. */
  get isLive(): boolean {
    return this.helloSeen && this.ws?.readyState === OPEN;
  }

  /** drop abandons the current socket and reconnects (tests, "the link is dead"). */
  drop(): void {
    if (!this.ws) return;
    const ws = this.ws;
    this.detach();
    try {
      ws.close(4000, "client reconnect");
    } catch {
      // already closed
    }
    this.scheduleRetry(1006);
  }

  private async open(): Promise<void> {
    if (!this.wanted || this.ws) return;
    this.clearRetry();
    if (!this.o.network.isOnline()) {
      // Wait for the platform to say the network is back.
      this.setState(this.everConnected ? "reconnecting" : "connecting", { attempt: this.attempt });
      return;
    }
    this.setState(this.everConnected || this.attempt > 0 ? "reconnecting" : "connecting", { attempt: this.attempt });
    let token: string;
    try {
      token = await this.o.token(this.forceRefresh);
      this.forceRefresh = false;
    } catch (err) {
      if ((err as { code?: string }).code === "signed_out") {
        this.stop();
        this.o.onFatal(err);
        return;
      }
      this.scheduleRetry();
      return;
    }
    if (!this.wanted || this.ws) return;
    let ws: WebSocketLike;
    try {
      ws = this.o.socket(`${this.o.url}?access_token=${encodeURIComponent(token)}`);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.helloSeen = false;
    this.helloTimer = setTimeout(() => {
      if (this.ws === ws) this.drop();
    }, this.o.helloTimeoutMs ?? 10_000);
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.frameArrived();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === "hello") {
        void this.hello(ws, frame);
        return;
      }
      this.o.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.detach();
      this.closed(ev.code);
    };
    ws.onerror = () => {
      // onclose follows.
    };
  }

  private async hello(ws: WebSocketLike, hello: HelloFrame): Promise<void> {
    this.helloSeen = true;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.startKeepalive(ws, hello.ping_interval_ms || 25_000);
    try {
      await this.o.ready(hello);
    } catch {
      // Catch-up failed (network or server): try again on a new socket.
      if (this.ws === ws) this.drop();
      return;
    }
    if (this.ws !== ws) return;
    this.attempt = 0;
    this.everConnected = true;
    this.setState("connected", {});
  }

  private closed(code: number): void {
    if (!this.wanted) {
      this.setState("disconnected", { closeCode: code });
      return;
    }
    if (code === 4003 || code === 4008 || code === 4010 || code === 4011 || code === 4012) {
      // 4008: this was the oldest of too many sockets of the user (a
      // reconnect would close another one in turn); 4010: the account was
      // disabled; 4011: deleted; 4012: this session was revoked (its
      // refresh token is dead too). None gets better by retrying.
      const why = { 4003: "token of another user", 4008: "too many sockets", 4010: "account disabled", 4011: "account deleted", 4012: "session revoked" }[code];
      this.stop();
      this.o.onFatal(Object.assign(new Error(`socket closed ${code}: ${why}`), { closeCode: code }));
      return;
    }
    if (code === 4001) {
      this.forceRefresh = true;
      this.attempt = 0;
      this.scheduleRetry(code, 0);
      return;
    }
    if (code === 1001) {
      this.attempt = 0;
      this.scheduleRetry(code, 0);
      return;
    }
    this.scheduleRetry(code);
  }

  private scheduleRetry(closeCode?: number, delay?: number): void {
    if (!this.wanted) return;
    this.clearRetry();
    const ms = delay ?? fullJitter(this.attempt, this.o.random);
    this.attempt++;
    this.setState("reconnecting", { attempt: this.attempt, delayMs: ms, closeCode });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, ms);
  }

  private networkChanged(online: boolean): void {
    if (!this.wanted) return;
    if (online) {
      // The network is back: retry now instead of waiting out the backoff.
      if (!this.ws) {
        this.attempt = 0;
        void this.open();
      }
      return;
    }
    // The OS says we are offline: the socket is dead even if it looks open.
    if (this.ws) {
      const ws = this.ws;
      this.detach();
      try {
        ws.close(4000, "offline");
      } catch {
        // ignore
      }
    }
    this.clearRetry();
    this.setState("reconnecting", { attempt: this.attempt });
  }

  private startKeepalive(ws: WebSocketLike, intervalMs: number): void {
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws) return;
      this.send({ type: "ping", ref: `p-${++this.pingSeq}` });
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null;
        if (this.ws === ws) this.drop();
      }, this.o.pongTimeoutMs ?? 10_000);
    }, intervalMs);
  }

  private frameArrived(): void {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private detach(): void {
    const ws = this.ws;
    this.ws = null;
    this.helloSeen = false;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      ws.onopen = null;
      ws.onerror = null;
    }
    if (this.helloTimer) clearTimeout(this.helloTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.helloTimer = this.pingTimer = this.pongTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private clearTimers(): void {
    this.clearRetry();
    this.detach();
  }

  private setState(state: ConnectionState, detail: { attempt?: number; delayMs?: number; closeCode?: number }): void {
    const changed = state !== this.state;
    this.state = state;
    if (changed || state === "reconnecting") this.o.onState(state, { attempt: this.attempt, ...detail });
  }
}
