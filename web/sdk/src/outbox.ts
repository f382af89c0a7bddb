import { ParleyError } from "./errors.js";
import type { Message, MessageStatus } from "./types.js";

/** OutgoingMessage is a message you sent, from `send()` until it is stored and beyond. */
export interface OutgoingMessage {
  clientId: string;
  conversationId: string;
  body: string;
  replyToSeq?: number;
  attachmentIds?: string[];
  status: MessageStatus;
  /** When send() was called (ms since the epoch). */
  createdAt: number;
  /** The stored message once acked. */
  message?: Message;
  error?: ParleyError;
}

interface Entry extends OutgoingMessage {
  lastSentAt: number;
  failTimer?: ReturnType<typeof setTimeout>;
  waiters: { resolve: (m: Message) => void; reject: (e: ParleyError) => void }[];
}

export interface OutboxOptions {
  /** Writes the send frame; false when no socket is up. */
  transmit: (m: OutgoingMessage) => boolean;
  now: () => number;
  onChange: (m: OutgoingMessage) => void;
  /** A message still unacked after this long turns `failed`. Default 60 s. */
  failAfterMs: number;
  /** An unacked send on a live socket is sent again after this. Default 10 s. */
  ackTimeoutMs: number;
}

/**
 * Outbox keeps messages until the server acks them. Every (re)send uses the
 * message's original client_id, so the server stores each one once however
 * many sockets it took; messages are resent in the order they were written.
 */
export class Outbox {
  private entries = new Map<string, Entry>();
  private retryTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly o: OutboxOptions) {}

  add(m: Omit<OutgoingMessage, "status" | "createdAt">): { entry: OutgoingMessage; stored: Promise<Message> } {
    const e: Entry = { ...m, status: "sending", createdAt: this.o.now(), lastSentAt: 0, waiters: [] };
    const stored = new Promise<Message>((resolve, reject) => e.waiters.push({ resolve, reject }));
    stored.catch(() => {}); // callers that ignore the promise must not see an unhandled rejection
    this.entries.set(e.clientId, e);
    this.armFail(e);
    this.o.onChange(this.view(e));
    this.transmit(e);
    this.ensureRetryLoop();
    return { entry: this.view(e), stored };
  }

  /** flush resends every pending message, oldest first (after a reconnect). */
  flush(): void {
    for (const e of this.entries.values()) if (e.status === "sending") this.transmit(e);
  }

  ack(clientId: string, message: Message): boolean {
    const e = this.entries.get(clientId);
    if (!e || e.message) return false;
    if (e.failTimer) clearTimeout(e.failTimer);
    e.message = message;
    e.status = "sent";
    e.error = undefined;
    for (const w of e.waiters.splice(0)) w.resolve(message);
    this.o.onChange(this.view(e));
    return true;
  }

  /** error handles an error frame whose ref is one of our client_ids. */
  error(clientId: string, err: ParleyError): boolean {
    const e = this.entries.get(clientId);
    if (!e || e.status !== "sending") return false;
    if (err.code === "rate_limited" || err.code === "internal" || err.code === "unavailable") {
      // Transient: the retry loop sends it again.
      e.lastSentAt = this.o.now() + (err.retryAfterMs ?? 1000) - this.o.ackTimeoutMs;
      return true;
    }
    this.fail(e, err);
    return true;
  }

  /** setStatus moves an acked message to delivered/read (never back). */
  setStatus(clientId: string, status: MessageStatus): void {
    const e = this.entries.get(clientId);
    if (!e || !e.message) return;
    const rank: Record<MessageStatus, number> = { failed: -1, sending: 0, sent: 1, delivered: 2, read: 3 };
    if (rank[status] <= rank[e.status]) return;
    e.status = status;
    this.o.onChange(this.view(e));
  }

  /** retry sends a failed message again with the same client_id. */
  retry(clientId: string): Promise<Message> {
    const e = this.entries.get(clientId);
    if (!e) return Promise.reject(new ParleyError("not_found", "no such outgoing message"));
    if (e.message) return Promise.resolve(e.message);
    const stored = new Promise<Message>((resolve, reject) => e.waiters.push({ resolve, reject }));
    if (e.status === "failed") {
      e.status = "sending";
      e.error = undefined;
      e.createdAt = this.o.now();
      this.armFail(e);
      this.o.onChange(this.view(e));
      this.transmit(e);
      this.ensureRetryLoop();
    }
    return stored;
  }

  get(clientId: string): OutgoingMessage | undefined {
    const e = this.entries.get(clientId);
    return e && this.view(e);
  }

  /** pending lists messages not yet stored (sending or failed), oldest first. */
  pending(conversationId?: string): OutgoingMessage[] {
    return [...this.entries.values()]
      .filter((e) => !e.message && (!conversationId || e.conversationId === conversationId))
      .map((e) => this.view(e));
  }

  /** sent lists acked messages still tracked for delivered/read. */
  acked(conversationId: string): OutgoingMessage[] {
    return [...this.entries.values()].filter((e) => e.message && e.conversationId === conversationId).map((e) => this.view(e));
  }

  close(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
    for (const e of this.entries.values()) if (e.failTimer) clearTimeout(e.failTimer);
  }

  private transmit(e: Entry): void {
    if (this.o.transmit(this.view(e))) e.lastSentAt = this.o.now();
  }

  private armFail(e: Entry): void {
    if (e.failTimer) clearTimeout(e.failTimer);
    e.failTimer = setTimeout(() => {
      if (e.status === "sending") this.fail(e, new ParleyError("timeout", "not delivered to the server in time"));
    }, this.o.failAfterMs);
  }

  private fail(e: Entry, err: ParleyError): void {
    if (e.failTimer) clearTimeout(e.failTimer);
    e.status = "failed";
    e.error = err;
    for (const w of e.waiters.splice(0)) w.reject(err);
    this.o.onChange(this.view(e));
  }

  // The retry loop resends what a live socket has not acked in time.
  private ensureRetryLoop(): void {
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => {
      let waiting = false;
      const now = this.o.now();
      for (const e of this.entries.values()) {
        if (e.status !== "sending") continue;
        waiting = true;
        if (now - e.lastSentAt >= this.o.ackTimeoutMs) this.transmit(e);
      }
      if (!waiting && this.retryTimer) {
        clearInterval(this.retryTimer);
        this.retryTimer = null;
      }
    }, 1000);
  }

  private view(e: Entry): OutgoingMessage {
    const { clientId, conversationId, body, replyToSeq, attachmentIds, status, createdAt, message, error } = e;
    return { clientId, conversationId, body, replyToSeq, attachmentIds, status, createdAt, message, error };
  }
}
