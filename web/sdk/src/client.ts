import { Api } from "./api.js";
import { Auth, type SignOutReason } from "./auth.js";
import { MessageCache } from "./cache.js";
import { alwaysOnline, Connection, type NetworkMonitor, type WebSocketFactory, type WebSocketLike } from "./connection.js";
import { Emitter } from "./emitter.js";
import { ParleyError } from "./errors.js";
import type { FetchLike } from "./http.js";
import { newClientId } from "./ids.js";
import { Outbox, type OutgoingMessage } from "./outbox.js";
import { memoryTokens, type Session, type TokenStorage } from "./storage.js";
import { TypingSender, TypingTracker } from "./typing.js";
import type {
  Attachment, ConnectionState, Conversation, HelloFrame, Message, MessageStatus, PresenceStatus, ServerFrame, User,
} from "./types.js";
import { fetchTransport, type UploadBody, type UploadOptions, type UploadTransport } from "./upload.js";

export interface ClientOptions {
  /** The server's base URL, e.g. "http://127.0.0.1:8080" (browsers: location.origin). */
  baseURL: string;
  /** Where the session is kept. Default: memory only. */
  storage?: TokenStorage;
  /** WebSocket factory. Default: `new globalThis.WebSocket(url)`. */
  webSocket?: WebSocketFactory;
  /** Network state. Default: always online (browsers: browserNetwork()). */
  network?: NetworkMonitor;
  /** Cross-instance lock around refreshes (browsers: browserLock). */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /** fetch. Default: globalThis.fetch. */
  fetch?: FetchLike;
  /** Byte transport for uploads. Default: fetch (progress only at the end). */
  uploadTransport?: UploadTransport;
  /** An unacked message turns `failed` after this long. Default 60 s. */
  failAfterMs?: number;
  /** Resend an unacked message on a live socket after this long. Default 10 s. */
  ackTimeoutMs?: number;
  /** Send `delivered` for incoming messages by itself. Default true. */
  autoDelivered?: boolean;
  now?: () => number;
  random?: () => number;
}

/** The events of a Client (`client.on(name, fn)`). */
export interface ClientEvents {
  [key: string]: unknown;
  /** The connection moved; `connected` comes after catch-up. */
  state: { state: ConnectionState; attempt: number; delayMs?: number; closeCode?: number };
  /** A message new to this client (live, caught up, or your own after ack); each seq once. */
  message: Message;
  /** A held message changed (an attachment finished processing). */
  messageUpdated: Message;
  /** One of your outgoing messages changed status (sending, sent, delivered, read, failed). */
  outbox: OutgoingMessage;
  receipt: { conversationId: string; userId: string; deliveredSeq: number; readSeq: number };
  typing: { conversationId: string; userId: string; typing: boolean };
  presence: { userId: string; status: "online" | "offline"; lastSeen?: string };
  attachment: { attachment: Attachment; conversationIds: string[] };
  /** A conversation was created or seen for the first time, or moved. */
  conversation: Conversation;
  session: Session | null;
  /** The session is over: logout, or the server refused the refresh token (reuse, expiry). */
  signedOut: { reason: SignOutReason | "fatal" };
  /** An error frame that no request is waiting for. */
  error: ParleyError;
}

const CATCH_UP_PAGE = 200;

/**
 * Client is a Parley session: REST calls, one WebSocket kept up with
 * catch-up, an outbox, receipts, typing, presence and uploads. It uses no
 * DOM or Node API itself: the platform's WebSocket, network monitor,
 * storage and upload transport are passed in.
 */
export class Client extends Emitter<ClientEvents> {
  readonly api: Api;
  readonly auth: Auth;
  readonly cache = new MessageCache();
  private readonly outbox: Outbox;
  private readonly conn: Connection;
  private readonly typingOut: TypingSender;
  private readonly typingIn: TypingTracker;
  private readonly o: Required<Pick<ClientOptions, "now" | "autoDelivered">> & ClientOptions;
  private outboxOpen = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private deliveredPending = new Map<string, number>();
  private deliveredScheduled = false;
  private presenceCache = new Map<string, PresenceStatus>();
  private authRef = 0;
  private closed = false;

  constructor(opts: ClientOptions) {
    super();
    this.o = { now: Date.now, autoDelivered: true, ...opts };
    const fetchFn: FetchLike = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.auth = new Auth({
      baseURL: opts.baseURL,
      fetch: fetchFn,
      storage: opts.storage ?? memoryTokens(),
      now: this.o.now,
      onChange: (s, reason) => this.sessionChanged(s, reason),
      lock: opts.lock,
    });
    this.api = new Api(opts.baseURL, fetchFn, this.auth);
    this.outbox = new Outbox({
      transmit: (m) =>
        this.outboxOpen &&
        this.conn.send({ type: "send", client_id: m.clientId, conversation_id: m.conversationId, body: m.body, reply_to_seq: m.replyToSeq, attachment_ids: m.attachmentIds }),
      now: this.o.now,
      onChange: (m) => this.emit("outbox", m),
      failAfterMs: opts.failAfterMs ?? 60_000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 10_000,
    });
    const socket: WebSocketFactory =
      opts.webSocket ?? ((url) => new (globalThis as unknown as { WebSocket: new (u: string) => WebSocketLike }).WebSocket(url));
    this.conn = new Connection({
      url: opts.baseURL.replace(/^http/, "ws").replace(/\/+$/, "") + "/v1/ws",
      socket,
      network: opts.network ?? alwaysOnline,
      token: (force) => (force ? this.auth.refresh().then((s) => s.accessToken) : this.auth.accessToken()),
      ready: (hello) => this.ready(hello),
      onFrame: (f) => this.frame(f),
      onState: (state, d) => {
        if (state !== "connected") {
          this.outboxOpen = false;
          // Presence frames are missed while down: ask again when needed.
          this.presenceCache.clear();
        }
        this.emit("state", { state, ...d });
      },
      onFatal: () => this.emit("signedOut", { reason: "fatal" }),
      random: opts.random,
    });
    this.typingOut = new TypingSender((conversationId, state) => this.conn.send({ type: "typing", conversation_id: conversationId, state }), this.o.now);
    this.typingIn = new TypingTracker((conversationId, userId, typing) => this.emit("typing", { conversationId, userId, typing }));
  }

  // ---- session ----

  /** The signed-in user, or null. */
  get user(): User | null {
    return this.auth.session?.user ?? null;
  }

  get state(): ConnectionState {
    return this.conn.state;
  }

  /** restore loads a stored session; true when there was one. */
  async restore(): Promise<boolean> {
    const s = await this.auth.restore();
    if (s) this.scheduleRefresh(s);
    return !!s;
  }

  register(username: string, password: string, displayName?: string): Promise<Session> {
    return this.auth.register(username, password, displayName);
  }

  login(username: string, password: string): Promise<Session> {
    return this.auth.login(username, password);
  }

  /** logout closes the socket, revokes the session and forgets it. */
  async logout(): Promise<void> {
    this.disconnect();
    await this.auth.logout();
  }

  /** connect opens the WebSocket and keeps it up until disconnect(). */
  connect(): void {
    this.closed = false;
    if (this.auth.session && !this.refreshTimer) this.scheduleRefresh(this.auth.session);
    this.conn.start();
  }

  disconnect(): void {
    this.typingOut.stopAll();
    this.conn.stop();
  }

  /**
   * close stops everything this client runs (socket, refresh timer, outbox
   * retries) without signing out: the stored session stays for next time.
   */
  close(): void {
    this.closed = true;
    this.disconnect();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.outbox.close();
    this.typingIn.clear();
  }

  /** dropConnection abandons the socket as if the network had cut it (tests, debugging). */
  dropConnection(): void {
    this.conn.drop();
  }

  private sessionChanged(s: Session | null, reason?: SignOutReason): void {
    this.emit("session", s);
    if (s) {
      this.scheduleRefresh(s);
      // Hand a live socket the new token so it is not closed with 4001.
      if (this.conn.isLive) this.conn.send({ type: "auth", access_token: s.accessToken, ref: `a-${++this.authRef}` });
      return;
    }
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.disconnect();
    this.outbox.close();
    this.emit("signedOut", { reason: reason ?? "session_ended" });
  }

  // Refresh at 80 % of the token's life (at most a minute early).
  private scheduleRefresh(s: Session): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.closed) return;
    const left = s.accessExpiresAt - this.o.now();
    const early = Math.min(60_000, Math.max(1_000, left * 0.2));
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.auth.refresh().catch(() => {
        // Offline: retry soon; signed-out is handled by sessionChanged.
        if (this.auth.session) this.refreshTimer = setTimeout(() => this.scheduleRefresh(this.auth.session!), 5_000);
      });
    }, Math.max(0, left - early));
  }

  // ---- real time ----

  // ready runs after hello: catch up, then open the outbox, then connected.
  private async ready(_hello: HelloFrame): Promise<void> {
    await this.catchUp();
    this.outboxOpen = true;
    this.outbox.flush();
  }

  /**
   * catchUp fetches what was missed while disconnected: the conversation
   * list, then `after=` pages of every conversation that moved past what
   * this client holds. (The messaging issue's sync feed will replace the
   * body of this one function.)
   */
  async catchUp(): Promise<void> {
    const convs = await this.listAllConversations();
    for (const c of convs) {
      const known = this.cache.has(c.id);
      const held = this.cache.lastSeq(c.id);
      this.cache.setConversation(c);
      if (!known) {
        this.emit("conversation", c);
        continue;
      }
      if (c.last_seq > held) {
        await this.fetchAfter(c.id, held);
        this.emit("conversation", c);
      }
    }
  }

  private async listAllConversations(): Promise<Conversation[]> {
    const out: Conversation[] = [];
    let before: string | undefined;
    for (let page = 0; page < 50; page++) {
      const got = await this.api.listConversations({ limit: 200, before });
      out.push(...got);
      if (got.length < 200) break;
      before = got[got.length - 1].last_activity_at;
    }
    return out;
  }

  private async fetchAfter(conversationId: string, after: number): Promise<void> {
    for (;;) {
      const page = await this.api.messages(conversationId, { after, limit: CATCH_UP_PAGE });
      for (const m of page) this.incoming(m);
      if (page.length < CATCH_UP_PAGE) return;
      after = page[page.length - 1].seq;
    }
  }

  private frame(f: ServerFrame): void {
    switch (f.type) {
      case "ack":
        this.outbox.ack(f.client_id, f.message);
        this.incoming(f.message);
        return;
      case "message":
        this.incoming(f.message);
        return;
      case "receipt":
        this.cache.applyReceipt(f);
        this.emit("receipt", { conversationId: f.conversation_id, userId: f.user_id, deliveredSeq: f.delivered_seq, readSeq: f.read_seq });
        this.refreshStatuses(f.conversation_id);
        return;
      case "typing":
        this.typingIn.set(f.conversation_id, f.user_id, f.state === "start");
        return;
      case "presence": {
        const p: PresenceStatus = { user_id: f.user_id, status: f.status, last_seen: f.last_seen };
        this.presenceCache.set(f.user_id, p);
        this.emit("presence", { userId: f.user_id, status: f.status, lastSeen: f.last_seen });
        return;
      }
      case "attachment":
        for (const m of this.cache.updateAttachment(f.attachment, f.conversation_ids)) this.emit("messageUpdated", m);
        this.emit("attachment", { attachment: f.attachment, conversationIds: f.conversation_ids });
        return;
      case "error": {
        const err = new ParleyError(f.code, f.message, 0, f.retry_after_ms);
        if (f.ref && this.outbox.error(f.ref, err)) return;
        this.emit("error", err);
        return;
      }
      default:
        // pong, auth and frame types this SDK does not know yet.
        return;
    }
  }

  private incoming(m: Message): void {
    const before = this.cache.lastSeq(m.conversation_id);
    const tracked = this.cache.has(m.conversation_id);
    if (!this.cache.add(m)) return;
    if (m.sender_id === this.user?.id) {
      // Ours (from this or another device): mark it sent if the outbox holds it.
      this.outbox.ack(m.client_id, m);
      this.refreshStatuses(m.conversation_id);
    } else {
      this.typingIn.set(m.conversation_id, m.sender_id, false);
      if (this.o.autoDelivered) this.queueDelivered(m.conversation_id, m.seq);
    }
    this.emit("message", m);
    if (tracked && m.seq > before + 1 && this.outboxOpen) {
      // A gap: frames were missed; fill it.
      void this.fetchAfter(m.conversation_id, before).catch(() => this.conn.drop());
    }
    if (!tracked) void this.api.conversation(m.conversation_id).then((c) => {
      this.cache.setConversation(c);
      this.emit("conversation", c);
    }).catch(() => {});
  }

  private queueDelivered(conversationId: string, seq: number): void {
    this.deliveredPending.set(conversationId, Math.max(seq, this.deliveredPending.get(conversationId) ?? 0));
    if (this.deliveredScheduled) return;
    this.deliveredScheduled = true;
    setTimeout(() => {
      this.deliveredScheduled = false;
      for (const [c, s] of this.deliveredPending) this.receipt(c, "delivered", s);
      this.deliveredPending.clear();
    }, 50);
  }

  private refreshStatuses(conversationId: string): void {
    const me = this.user?.id;
    if (!me) return;
    for (const m of this.outbox.acked(conversationId)) {
      this.outbox.setStatus(m.clientId, this.cache.status(conversationId, m.message!.seq, me));
    }
  }

  // ---- messages ----

  /**
   * send queues a message with a new client_id: status `sending` at once,
   * `sent` on ack, then `delivered`/`read` from receipts, or `failed` after
   * failAfterMs. It is resent with the same client_id across reconnects.
   * `stored` resolves with the stored message.
   */
  send(conversationId: string, body: string, o: { replyToSeq?: number; attachmentIds?: string[]; clientId?: string } = {}): { message: OutgoingMessage; stored: Promise<Message> } {
    this.typingOut.stop(conversationId);
    const { entry, stored } = this.outbox.add({
      clientId: o.clientId ?? newClientId(),
      conversationId,
      body,
      replyToSeq: o.replyToSeq,
      attachmentIds: o.attachmentIds,
    });
    return { message: entry, stored };
  }

  /** retry resends a failed message with its original client_id. */
  retry(clientId: string): Promise<Message> {
    return this.outbox.retry(clientId);
  }

  /** pending lists your messages not yet stored in a conversation. */
  pending(conversationId?: string): OutgoingMessage[] {
    return this.outbox.pending(conversationId);
  }

  /** statusOf returns the status of a message: yours from receipts and the outbox. */
  statusOf(m: Message): MessageStatus | null {
    if (m.sender_id !== this.user?.id) return null;
    return this.cache.status(m.conversation_id, m.seq, m.sender_id);
  }

  /**
   * history returns a page of older messages, newest first: the newest
   * `limit` without `before`, else those with seq < before.
   */
  async history(conversationId: string, o: { before?: number; limit?: number } = {}): Promise<Message[]> {
    const page = await this.api.messages(conversationId, o);
    for (const m of page) this.cache.add(m);
    return page;
  }

  /** markRead tells the others you have seen up to seq. */
  markRead(conversationId: string, seq: number): void {
    this.receipt(conversationId, "read", seq);
  }

  private receipt(conversationId: string, which: "read" | "delivered", seq: number): void {
    if (seq < 1) return;
    if (!this.conn.send({ type: which, conversation_id: conversationId, seq })) {
      void this.api.receipt(conversationId, which, seq).catch(() => {});
    }
  }

  // ---- typing and presence ----

  /** typing is called on every keystroke of the composer (debounced here). */
  typing(conversationId: string): void {
    this.typingOut.input(conversationId);
  }

  /** stopTyping is called when the input is cleared. */
  stopTyping(conversationId: string): void {
    this.typingOut.stop(conversationId);
  }

  /** typingUsers lists who is typing in a conversation now. */
  typingUsers(conversationId: string): string[] {
    return this.typingIn.users(conversationId);
  }

  /** presence returns a user's presence: live from frames, else asked once. */
  async presence(userId: string): Promise<PresenceStatus> {
    const p = this.presenceCache.get(userId);
    if (p) return p;
    const got = await this.api.presence(userId);
    if (!this.presenceCache.has(userId)) this.presenceCache.set(userId, got);
    return this.presenceCache.get(userId)!;
  }

  // ---- conversations ----

  async conversations(): Promise<Conversation[]> {
    const list = await this.listAllConversations();
    for (const c of list) this.cache.setConversation(c);
    return list;
  }

  async conversation(id: string): Promise<Conversation> {
    const c = await this.api.conversation(id);
    this.cache.setConversation(c);
    return c;
  }

  /** openDirect opens (or creates) the direct conversation with a user. */
  async openDirect(userId: string): Promise<Conversation> {
    const c = await this.api.createConversation([userId]);
    this.cache.setConversation(c);
    this.emit("conversation", c);
    return c;
  }

  async createGroup(memberIds: string[], title?: string): Promise<Conversation> {
    const c = await this.api.createConversation(memberIds, title);
    this.cache.setConversation(c);
    this.emit("conversation", c);
    return c;
  }

  /** findUser returns the user with exactly this username, or null. */
  async findUser(username: string): Promise<User | null> {
    const name = username.trim().toLowerCase();
    const users = await this.api.findUsers(name, 20);
    return users.find((u) => u.username === name) ?? null;
  }

  // ---- uploads ----

  /**
   * upload runs the presigned flow: ask for a ticket, send the bytes to the
   * store (progress through onProgress), complete, and resolve to the
   * attachment (status `processing`; `attachment` events follow).
   */
  async upload(file: UploadBody, o: UploadOptions): Promise<Attachment> {
    const contentType = o.contentType ?? (file.type || undefined);
    const ticket = await this.api.createUpload({
      kind: o.kind,
      content_type: contentType,
      size: file.size,
      filename: o.filename ?? file.name,
      conversation_id: o.conversationId,
    });
    const transport = this.o.uploadTransport ?? fetchTransport;
    if (ticket.parts && ticket.parts.length > 0) {
      // Above the server's multipart threshold: one PUT per part, then
      // complete (docs/protocol.md, step 8). Content-Length is set by the
      // runtime from the slice.
      const partSize = ticket.part_size ?? 0;
      const blob = file as unknown as Blob;
      let sent = 0;
      for (const p of ticket.parts) {
        const start = (p.number - 1) * partSize;
        const part = blob.slice(start, Math.min(file.size, start + partSize));
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(p.headers ?? {})) {
          if (k.toLowerCase() !== "content-length") headers[k] = v;
        }
        const before = sent;
        await transport({
          method: "PUT",
          url: p.url ?? "",
          headers,
          file: part as unknown as UploadBody,
          onProgress: o.onProgress ? (s) => o.onProgress?.(before + s, file.size) : undefined,
          signal: o.signal,
        });
        sent += part.size;
      }
      return this.api.completeUpload(ticket.upload_id);
    }
    await transport({
      method: ticket.method ?? "POST",
      url: ticket.url ?? "",
      fields: ticket.fields,
      headers: ticket.headers,
      file,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    return this.api.completeUpload(ticket.upload.id);
  }

  /** variantURL is the route of an attachment variant (needs the bearer token; it redirects). */
  variantURL(attachmentId: string, variant: string): string {
    return this.api.variantURL(attachmentId, variant);
  }
}
