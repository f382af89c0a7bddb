import { Api } from "./api.js";
import { Auth, type SignOutReason } from "./auth.js";
import { MessageCache } from "./cache.js";
import { alwaysOnline, Connection, type NetworkMonitor, type WebSocketFactory, type WebSocketLike } from "./connection.js";
import { Emitter } from "./emitter.js";
import { ParleyError } from "./errors.js";
import type { FetchLike } from "./http.js";
import { newClientId } from "./ids.js";
import { Outbox, type OutgoingMessage } from "./outbox.js";
import { contentMD5 } from "./md5.js";
import { memorySync, memoryTokens, type Session, type SyncStorage, type TokenStorage } from "./storage.js";
import { TypingSender, TypingTracker } from "./typing.js";
import type {
  Attachment, ClientFrame, ConnectionState, Conversation, HelloFrame, Message, MessageStatus, PresenceStatus, Reaction,
  ServerFrame, SyncChange, SyncReply, UploadPart, UploadStatus, User,
} from "./types.js";
import { fetchTransport, type UploadBody, type UploadOptions, type UploadTransport } from "./upload.js";

export interface ClientOptions {
  /** The server's base URL, e.g. "http://127.0.0.1:8080" (browsers: location.origin). */
  baseURL: string;
  /** Where the session is kept. Default: memory only. */
  storage?: TokenStorage;
  /** Where the sync cursor is kept per user (browsers: localStorageSync()). Default: memory only. */
  syncStorage?: SyncStorage;
  /** Changes per sync page (1–500). Default 200. */
  syncPageSize?: number;
  /** Edit, delete and react frames without an answer after this long go over HTTP. Default 10 s. */
  requestTimeoutMs?: number;
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
  /**
   * A message changed: edited (`edited_at`), deleted (a tombstone:
   * `deleted_at`, empty body), reacted to (`reactions`), or an attachment
   * finished processing. Replace your copy (same conversation_id and seq).
   */
  messageUpdated: Message;
  /** Someone added (on) or removed a reaction; `reactions` is the message's new summary (`me`: you). */
  reaction: { conversationId: string; seq: number; userId: string; emoji: string; on: boolean; reactions: Reaction[] };
  /** You left or were removed from a conversation: drop or archive it. */
  conversationRemoved: { conversationId: string };
  /**
   * The server no longer knows the stored sync cursor (410 gone: a restored
   * database, or away longer than its retention): every held message was
   * dropped and the conversation list comes again (conversation events).
   * Drop what you show and load it again.
   */
  resync: Record<string, never>;
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
const SYNC_PAGE = 200;
/** Frames that carry a sync cursor: held back while catch-up runs, then applied in order. */
const SYNCED_FRAMES = new Set(["message", "message_edited", "message_deleted", "reaction", "receipt", "attachment"]);

/** One catch-up: what was held when it began, and the new messages it found. */
interface CatchUpRun {
  horizon: Map<string, number>;
  fresh: Map<string, Message>;
}

interface PendingRequest {
  resolve: (m: Message) => void;
  reject: (e: ParleyError) => void;
  timer: ReturnType<typeof setTimeout>;
}

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
  private readonly syncStore: SyncStorage;
  /** The sync cursor of cursorUser (undefined: not loaded yet). */
  private cursor: string | null | undefined;
  private cursorUser: string | null = null;
  /** Catch-up generation; frames are buffered while one runs. */
  private syncGen = 0;
  private catchingUp = false;
  private held: ServerFrame[] = [];
  private requests = new Map<string, PendingRequest>();
  private run: CatchUpRun | null = null;
  private requestSeq = 0;

  constructor(opts: ClientOptions) {
    super();
    this.o = { now: Date.now, autoDelivered: true, ...opts };
    this.syncStore = opts.syncStorage ?? memorySync();
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
          // Edits, deletes and reactions waiting on a dead socket go over HTTP.
          if (state !== "connecting") this.failRequests();
          // Presence frames are missed while down: ask again when needed.
          this.presenceCache.clear();
        }
        this.emit("state", { state, ...d });
      },
      onFatal: (err) => {
        // Account deleted (4011) or session revoked (4012): the session is
        // dead on the server; forget it here (sessionChanged emits signedOut).
        const code = (err as { closeCode?: number }).closeCode;
        if (code === 4011 || code === 4012) void this.auth.clear("session_ended");
        else this.emit("signedOut", { reason: "fatal" });
      },
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
    const me = this.user?.id;
    if (me) {
      // The next sign-in on this device starts as a fresh device.
      this.cursor = null;
      await this.syncStore.save(me, null);
    }
    this.cache.clear();
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

  // ready runs after hello: catch up (live frames are held meanwhile and
  // applied after it, in order), then open the outbox, then connected.
  private async ready(_hello: HelloFrame): Promise<void> {
    const gen = ++this.syncGen;
    this.catchingUp = true;
    this.held = [];
    try {
      await this.catchUp();
    } catch (err) {
      // The held frames are dropped, not applied: their cursors would
      // skip what the failed sync did not bring. The next socket syncs again.
      if (gen === this.syncGen) {
        this.catchingUp = false;
        this.held = [];
      }
      throw err;
    }
    if (gen === this.syncGen) {
      this.catchingUp = false;
      const held = this.held;
      this.held = [];
      for (const f of held) this.frame(f);
    }
    this.outboxOpen = true;
    this.outbox.flush();
  }

  /** syncCursor is the cursor the next catch-up resumes from (null: a fresh device). */
  get syncCursor(): string | null {
    return this.cursorUser === this.user?.id ? this.cursor ?? null : null;
  }

  private async loadCursor(): Promise<string | null> {
    const me = this.user?.id ?? null;
    if (!me) return null;
    if (this.cursorUser !== me || this.cursor === undefined) {
      this.cursorUser = me;
      this.cursor = (await this.syncStore.load(me)) ?? null;
    }
    return this.cursor;
  }

  private saveCursor(cursor: string | null | undefined): void {
    const me = this.user?.id;
    if (!me || cursor === undefined || me !== this.cursorUser) return;
    this.cursor = cursor;
    void Promise.resolve(this.syncStore.save(me, cursor)).catch(() => {});
  }

  /**
   * catchUp applies what changed while this client was away through the
   * sync feed (docs/protocol.md, Sync): `GET /v1/sync?since=<cursor>`, page
   * after page while has_more, storing the cursor. New messages arrive as
   * `message` events, edits, deletions, reactions and attachments as
   * `messageUpdated`, receipts, conversations and removals as theirs.
   * Without a cursor (a fresh device) it gets the conversation list; on 410
   * gone it drops everything held, emits `resync`, and starts again fresh.
   */
  async catchUp(): Promise<void> {
    // Messages new to this client are gathered and reported in seq order at
    // the end: sync puts a message where it last changed (one sent and then
    // edited comes after later ones), so "new" means past what was held
    // when the catch-up began, not past what an earlier page brought.
    const run: CatchUpRun = { horizon: new Map(this.cache.ids().map((id) => [id, this.cache.lastSeq(id)])), fresh: new Map() };
    this.run = run;
    try {
      await this.syncPages(run);
    } finally {
      if (this.run === run) this.run = null;
      const news = [...run.fresh.values()].sort((a, b) => (a.conversation_id === b.conversation_id ? a.seq - b.seq : a.conversation_id < b.conversation_id ? -1 : 1));
      for (const m of news) this.incoming(m);
    }
  }

  private async syncPages(run: CatchUpRun): Promise<void> {
    let since = await this.loadCursor();
    for (let page = 0; page < 10_000; page++) {
      let reply: SyncReply;
      try {
        reply = await this.api.sync({ since: since ?? undefined, limit: this.o.syncPageSize ?? SYNC_PAGE });
      } catch (err) {
        if ((err as ParleyError).code === "gone" && since) {
          this.resync();
          run.horizon.clear();
          run.fresh.clear();
          since = null;
          continue;
        }
        throw err;
      }
      if (!since) await this.applyFresh(reply, run);
      for (const ch of reply.changes) this.applyChange(ch);
      this.saveCursor(reply.cursor);
      // A fresh device continues from its new cursor once (changes made
      // while the list was read), like any device with has_more.
      if (since && !reply.has_more) return;
      since = reply.cursor;
    }
  }

  private resync(): void {
    this.cache.clear();
    this.saveCursor(null);
    this.emit("resync", {});
  }

  private async applyFresh(reply: SyncReply, run: CatchUpRun): Promise<void> {
    const convs = reply.has_more ? await this.listAllConversations() : reply.conversations ?? [];
    for (const c of convs) {
      const known = this.cache.has(c.id);
      const held = this.cache.lastSeq(c.id);
      this.cache.setConversation(c);
      if (known && c.last_seq > held) await this.fetchAfter(c.id, held);
      // What the list covers is history, not news.
      run.horizon.set(c.id, Math.max(run.horizon.get(c.id) ?? 0, c.last_seq));
      this.emit("conversation", c);
    }
  }

  private applyChange(ch: SyncChange): void {
    switch (ch.type) {
      case "message":
        if (ch.message) this.applyMessage(ch.message);
        return;
      case "receipt":
        if (!ch.receipt) return;
        this.cache.applyReceipt(ch.receipt);
        this.emit("receipt", { conversationId: ch.conversation_id, userId: ch.receipt.user_id, deliveredSeq: ch.receipt.delivered_seq, readSeq: ch.receipt.read_seq });
        this.refreshStatuses(ch.conversation_id);
        return;
      case "conversation":
        if (!ch.conversation) return;
        this.cache.setConversation(ch.conversation);
        this.emit("conversation", ch.conversation);
        return;
      case "removed":
        this.cache.remove(ch.conversation_id);
        this.emit("conversationRemoved", { conversationId: ch.conversation_id });
        return;
    }
  }

  /**
   * applyMessage takes a message's latest state from sync, a frame or an
   * answer: new to this client → `message`; held (or older than what this
   * client started from) → `messageUpdated` when it changed.
   */
  private applyMessage(m: Message): void {
    const key = `${m.conversation_id}/${m.seq}`;
    const run = this.run;
    if (run && (run.fresh.has(key) || (!this.cache.get(m.conversation_id, m.seq) && m.seq > (run.horizon.get(m.conversation_id) ?? 0)))) {
      run.fresh.set(key, m);
      return;
    }
    const isNew = !this.cache.get(m.conversation_id, m.seq) && (!this.cache.has(m.conversation_id) || m.seq > this.cache.lastSeq(m.conversation_id));
    if (isNew) {
      this.incoming(m);
      return;
    }
    const next = this.cache.update(m);
    if (next) this.emit("messageUpdated", next);
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
    if (this.catchingUp && SYNCED_FRAMES.has(f.type)) {
      this.held.push(f);
      return;
    }
    switch (f.type) {
      case "ack": {
        const req = f.ref ? this.requests.get(f.ref) : undefined;
        if (req && f.ref) {
          this.requests.delete(f.ref);
          clearTimeout(req.timer);
          req.resolve(f.message);
          return;
        }
        if (f.client_id) {
          this.outbox.ack(f.client_id, f.message);
          this.incoming(f.message);
        }
        return;
      }
      case "message":
        this.incoming(f.message);
        break;
      case "message_edited":
      case "message_deleted":
        this.applyMessage(f.message);
        break;
      case "reaction": {
        const m = this.cache.setReactions(f.conversation_id, f.seq, f.reactions);
        if (m) this.emit("messageUpdated", m);
        this.emit("reaction", { conversationId: f.conversation_id, seq: f.seq, userId: f.user_id, emoji: f.emoji, on: f.on, reactions: f.reactions });
        break;
      }
      case "receipt":
        this.cache.applyReceipt(f);
        this.emit("receipt", { conversationId: f.conversation_id, userId: f.user_id, deliveredSeq: f.delivered_seq, readSeq: f.read_seq });
        this.refreshStatuses(f.conversation_id);
        break;
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
        break;
      case "error": {
        const err = new ParleyError(f.code, f.message, 0, f.retry_after_ms);
        const req = f.ref ? this.requests.get(f.ref) : undefined;
        if (req && f.ref) {
          this.requests.delete(f.ref);
          clearTimeout(req.timer);
          req.reject(err);
          return;
        }
        if (f.ref && this.outbox.error(f.ref, err)) return;
        this.emit("error", err);
        return;
      }
      default:
        // pong, auth and frame types this SDK does not know yet.
        return;
    }
    // Applied: this is where the next catch-up resumes.
    if ("cursor" in f && f.cursor) this.saveCursor(f.cursor);
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

  /**
   * editMessage replaces the body of one of your messages (within the
   * server's edit window, 48 h by default; then 409 conflict). Sent over the
   * socket when it is up (an `edit` frame), else over HTTP; resolves with
   * the edited message, which `messageUpdated` also reports.
   */
  editMessage(conversationId: string, seq: number, body: string): Promise<Message> {
    return this.change(
      { type: "edit", conversation_id: conversationId, seq, body, ref: "" },
      () => this.api.editMessage(conversationId, seq, body),
    );
  }

  /**
   * deleteMessage turns a message into a tombstone (yours; in groups,
   * owners and admins delete anyone's). Resolves with the tombstone.
   */
  deleteMessage(conversationId: string, seq: number): Promise<Message> {
    return this.change(
      { type: "delete", conversation_id: conversationId, seq, ref: "" },
      () => this.api.deleteMessage(conversationId, seq),
    );
  }

  /** react adds your reaction (one emoji, one grapheme) to a message; idempotent. */
  react(conversationId: string, seq: number, emoji: string): Promise<Message> {
    return this.change(
      { type: "react", conversation_id: conversationId, seq, emoji, on: true, ref: "" },
      () => this.api.react(conversationId, seq, emoji, true),
    );
  }

  /** unreact removes your reaction; idempotent. */
  unreact(conversationId: string, seq: number, emoji: string): Promise<Message> {
    return this.change(
      { type: "react", conversation_id: conversationId, seq, emoji, on: false, ref: "" },
      () => this.api.react(conversationId, seq, emoji, false),
    );
  }

  /** toggleReaction adds the emoji, or removes it when you already reacted with it (`me`). */
  toggleReaction(m: Message, emoji: string): Promise<Message> {
    const mine = m.reactions?.some((r) => r.emoji === emoji && r.me);
    return mine ? this.unreact(m.conversation_id, m.seq, emoji) : this.react(m.conversation_id, m.seq, emoji);
  }

  // change sends an edit/delete/react frame and waits for its ack; without
  // a live socket, or when the socket dies or stays silent, it goes over
  // HTTP instead (all three are idempotent, so a second try is harmless).
  private async change(frame: Extract<ClientFrame, { type: "edit" | "delete" | "react" }>, http: () => Promise<Message>): Promise<Message> {
    let m: Message | undefined;
    if (this.outboxOpen && this.conn.isLive) {
      const ref = `${frame.type[0]}-${++this.requestSeq}`;
      try {
        m = await new Promise<Message>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.requests.delete(ref);
            reject(new ParleyError("timeout", `no answer to ${frame.type} on the socket`));
          }, this.o.requestTimeoutMs ?? 10_000);
          this.requests.set(ref, { resolve, reject, timer });
          if (!this.conn.send({ ...frame, ref })) {
            clearTimeout(timer);
            this.requests.delete(ref);
            reject(new ParleyError("network", "the socket is down"));
          }
        });
      } catch (err) {
        const code = (err as ParleyError).code;
        if (code !== "timeout" && code !== "network") throw err;
      }
    }
    if (!m) m = await http();
    const next = this.cache.update(m);
    if (next) this.emit("messageUpdated", next);
    return this.cache.get(m.conversation_id, m.seq) ?? m;
  }

  private failRequests(): void {
    for (const [ref, r] of this.requests) {
      clearTimeout(r.timer);
      r.reject(new ParleyError("network", "the socket closed"));
      this.requests.delete(ref);
    }
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
      return this.sendParts(ticket.upload_id, file, ticket.part_size ?? 0, ticket.parts, o);
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

  /**
   * resumeUpload finishes a multipart upload started earlier (by upload(),
   * perhaps in a run of the app that was killed): it asks the server which
   * parts the store holds, sends only the missing ones with fresh URLs, and
   * completes. `file` must be the same bytes. An upload already completed
   * resolves to its attachment.
   */
  async resumeUpload(uploadId: string, file: UploadBody, o: Pick<UploadOptions, "onProgress" | "signal" | "retries"> = {}): Promise<Attachment> {
    const st = await this.api.uploadStatus(uploadId);
    if (st.upload.status !== "pending") return this.api.completeUpload(uploadId);
    if (!st.multipart) {
      throw Object.assign(new ParleyError("upload_failed", "a single-request upload cannot be resumed: upload the file again"), { uploadId });
    }
    return this.sendParts(uploadId, file, st.part_size ?? 0, [], o, st);
  }

  // sendParts PUTs each part (with every header of the ticket and a
  // Content-MD5), then completes. After a failure it asks the server which
  // parts the store holds and sends only the missing ones, with fresh URLs,
  // up to `retries` times; then it gives up with the upload id in the error.
  private async sendParts(
    uploadId: string,
    file: UploadBody,
    partSize: number,
    parts: UploadPart[],
    o: Pick<UploadOptions, "onProgress" | "signal" | "retries">,
    status?: UploadStatus,
  ): Promise<Attachment> {
    const transport = this.o.uploadTransport ?? fetchTransport;
    const blob = file as unknown as Blob;
    const total = file.size;
    const partLen = (n: number) => Math.max(0, Math.min(total, n * partSize) - (n - 1) * partSize);
    const done = new Map<number, number>();
    const sentSoFar = () => [...done.values()].reduce((a, b) => a + b, 0);
    const retries = o.retries ?? 3;
    let todo = parts;
    let last: unknown;
    // fromStatus: what the store holds is done; fresh URLs for the rest.
    const fromStatus = async (st: UploadStatus): Promise<UploadPart[]> => {
      done.clear();
      const count = st.part_count ?? Math.ceil(total / partSize);
      const missing = new Set(st.missing);
      for (let n = 1; n <= count; n++) if (!missing.has(n)) done.set(n, partLen(n));
      o.onProgress?.(sentSoFar(), total);
      if (st.missing.length === 0) return [];
      return (await this.api.uploadParts(uploadId, st.missing)).parts ?? [];
    };
    for (let attempt = 0; ; attempt++) {
      try {
        if (status) todo = await fromStatus(status);
        status = undefined;
        for (const p of todo) {
          const start = (p.number - 1) * partSize;
          const part = blob.slice(start, start + partLen(p.number));
          const md5 = contentMD5(new Uint8Array(await part.arrayBuffer()));
          const before = sentSoFar();
          await transport({
            method: "PUT",
            url: p.url ?? "",
            headers: { ...p.headers, "Content-MD5": md5 },
            file: part as unknown as UploadBody,
            onProgress: o.onProgress ? (s) => o.onProgress?.(before + s, total) : undefined,
            signal: o.signal,
          });
          done.set(p.number, part.size);
        }
        return await this.api.completeUpload(uploadId);
      } catch (err) {
        last = err;
        const e = err as ParleyError;
        // Only the store's and the network's failures (and complete's
        // "parts missing" or "conflict") are worth another round.
        const retriable = e.code === "upload_failed" || e.code === "network" || e.code === "internal" || e.code === "unavailable" || e.code === "conflict" || (e.code === "invalid" && e.status === 400 && todo.length > 0);
        if (o.signal?.aborted || !retriable || attempt >= retries) break;
      }
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      try {
        status = await this.api.uploadStatus(uploadId);
        if (status.upload.status !== "pending") return await this.api.completeUpload(uploadId);
      } catch (err) {
        last = err;
        status = undefined;
        todo = [];
      }
    }
    const e = last instanceof ParleyError ? last : new ParleyError("upload_failed", `upload failed: ${String(last)}`);
    e.uploadId = uploadId;
    throw e;
  }

  /** variantURL is the route of an attachment variant (needs the bearer token; it redirects). */
  variantURL(attachmentId: string, variant: string): string {
    return this.api.variantURL(attachmentId, variant);
  }
}
