// AppStore is the view's state, kept from the SDK's events. Components read
// it and call its methods; every change bumps `version` and re-renders.
import type { Client, ConnectionState, Conversation, Message, OutgoingMessage, PresenceStatus, User } from "@parley/client";

export const PAGE = 50;

export class AppStore {
  conversations = new Map<string, Conversation>();
  messages = new Map<string, Message[]>();
  hasOlder = new Map<string, boolean>();
  users = new Map<string, User>();
  presence = new Map<string, PresenceStatus>();
  outbox = new Map<string, OutgoingMessage>();
  uploads = new Map<string, { conversationId: string; name: string; sent: number; total: number; error?: string }>();
  openId: string | null = null;
  /** The last failed edit, delete or reaction, shown above the composer. */
  notice = "";
  state: ConnectionState = "disconnected";
  version = 0;
  private listeners = new Set<() => void>();
  private unsubs: (() => void)[] = [];

  constructor(readonly client: Client) {}

  get me(): User | null {
    return this.client.user;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  async boot(): Promise<void> {
    const c = this.client;
    this.unsubs.push(
      c.on("state", (s) => {
        const was = this.state;
        this.state = s.state;
        if (s.state === "connected" && was !== "connected") this.refreshPresence();
        this.changed();
      }),
      c.on("message", (m) => this.onMessage(m)),
      c.on("messageUpdated", (m) => this.onUpdated(m)),
      c.on("conversationRemoved", ({ conversationId }) => {
        this.conversations.delete(conversationId);
        this.messages.delete(conversationId);
        if (this.openId === conversationId) this.openId = null;
        this.changed();
      }),
      // The server did not know our sync cursor: what we hold may be stale.
      c.on("resync", () => {
        this.messages.clear();
        this.hasOlder.clear();
        const open = this.openId;
        if (open) void this.open(open).catch(() => {});
        this.changed();
      }),
      c.on("outbox", (m) => {
        this.outbox.set(m.clientId, m);
        this.changed();
      }),
      c.on("receipt", (r) => {
        // Read on another of your devices (sync carries your own receipts).
        const conv = this.conversations.get(r.conversationId);
        if (conv && r.userId === this.me?.id && r.readSeq >= conv.last_seq && conv.unread_count) {
          this.conversations.set(conv.id, { ...conv, unread_count: 0 });
        }
        this.changed();
      }),
      c.on("typing", () => this.changed()),
      c.on("presence", (p) => {
        this.presence.set(p.userId, { user_id: p.userId, status: p.status, last_seen: p.lastSeen });
        this.changed();
      }),
      c.on("conversation", (conv) => this.upsert(conv)),
      c.on("signedOut", () => this.reset()),
    );
    if (await c.restore()) this.start();
  }

  // ---- session ----

  async signIn(mode: "in" | "up", username: string, password: string, displayName?: string): Promise<void> {
    if (mode === "up") await this.client.register(username, password, displayName);
    else await this.client.login(username, password);
    this.start();
  }

  async signOut(): Promise<void> {
    await this.client.logout();
    this.reset();
  }

  private start(): void {
    this.client.connect();
    void this.client.conversations().then((list) => {
      for (const c of list) this.upsert(c, false);
      this.changed();
    }).catch(() => {});
    this.changed();
  }

  private reset(): void {
    this.conversations.clear();
    this.messages.clear();
    this.outbox.clear();
    this.uploads.clear();
    this.openId = null;
    this.changed();
  }

  // ---- conversations ----

  sortedConversations(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) => b.last_activity_at.localeCompare(a.last_activity_at));
  }

  private upsert(conv: Conversation, notify = true): void {
    const prev = this.conversations.get(conv.id);
    // Keep what we counted locally when the server copy is older.
    const next = prev && prev.last_seq > conv.last_seq ? { ...conv, last_seq: prev.last_seq, last_message: prev.last_message, last_activity_at: prev.last_activity_at } : conv;
    if (this.openId === conv.id) next.unread_count = 0;
    this.conversations.set(conv.id, next);
    for (const m of conv.members) void this.loadUser(m.user_id);
    const other = this.otherMember(next);
    if (other && !this.presence.has(other)) {
      void this.client.presence(other).then((p) => {
        if (!this.presence.has(other)) this.presence.set(other, p);
        this.changed();
      }).catch(() => {});
    }
    if (notify) this.changed();
  }

  /** refreshPresence asks again for the people on screen (frames were missed while offline). */
  private refreshPresence(): void {
    for (const conv of this.conversations.values()) {
      const other = this.otherMember(conv);
      if (!other) continue;
      void this.client.presence(other).then((p) => {
        this.presence.set(other, p);
        this.changed();
      }).catch(() => {});
    }
  }

  otherMember(conv: Conversation): string | null {
    if (conv.kind !== "direct") return null;
    return conv.members.find((m) => m.user_id !== this.me?.id)?.user_id ?? null;
  }

  title(conv: Conversation): string {
    if (conv.title) return conv.title;
    const names = conv.members.filter((m) => m.user_id !== this.me?.id).map((m) => this.name(m.user_id));
    return names.join(", ") || "Just you";
  }

  name(userId: string): string {
    const u = this.users.get(userId);
    return u ? u.display_name || u.username : "…";
  }

  async loadUser(id: string): Promise<void> {
    if (this.users.has(id)) return;
    this.users.set(id, { id, username: "…", display_name: "", role: "user", created_at: "", avatar: null });
    try {
      this.users.set(id, await this.client.api.user(id));
      this.changed();
    } catch {
      this.users.delete(id);
    }
  }

  /** startConversation opens a direct conversation (one name) or a new group. */
  async startConversation(usernames: string[], title?: string): Promise<Conversation> {
    const ids: string[] = [];
    for (const name of usernames) {
      const u = await this.client.findUser(name);
      if (!u) throw new Error(`No user called “${name}”.`);
      this.users.set(u.id, u);
      ids.push(u.id);
    }
    const conv = ids.length === 1 ? await this.client.openDirect(ids[0]) : await this.client.createGroup(ids, title);
    this.upsert(conv);
    await this.open(conv.id);
    return conv;
  }

  // ---- messages ----

  async open(id: string | null): Promise<void> {
    this.openId = id;
    this.changed();
    if (!id) return;
    if (!this.messages.has(id)) {
      const page = await this.client.history(id, { limit: PAGE });
      const have = this.messages.get(id) ?? [];
      this.messages.set(id, merge(have, page));
      this.hasOlder.set(id, page.length === PAGE);
    }
    this.markRead(id);
    this.changed();
  }

  async loadOlder(id: string): Promise<void> {
    const list = this.messages.get(id) ?? [];
    if (!this.hasOlder.get(id) || list.length === 0) return;
    const page = await this.client.history(id, { before: list[0].seq, limit: PAGE });
    this.messages.set(id, merge(this.messages.get(id) ?? [], page));
    this.hasOlder.set(id, page.length === PAGE && page[page.length - 1].seq > 1);
    this.changed();
  }

  /** markRead sends `read` for the newest message of others when the page is visible. */
  markRead(id: string): void {
    if (typeof document !== "undefined" && document.visibilityState === "hidden") return;
    const list = this.messages.get(id) ?? [];
    const newest = list[list.length - 1];
    const conv = this.conversations.get(id);
    if (newest) this.client.markRead(id, newest.seq);
    if (conv && conv.unread_count) this.conversations.set(id, { ...conv, unread_count: 0 });
  }

  private onMessage(m: Message): void {
    const list = this.messages.get(m.conversation_id);
    if (list) this.messages.set(m.conversation_id, merge(list, [m]));
    const conv = this.conversations.get(m.conversation_id);
    if (conv && m.seq >= conv.last_seq) {
      const mine = m.sender_id === this.me?.id;
      const open = this.openId === m.conversation_id;
      // Counted once (the list may already hold it), and as the server
      // counts: not your own, not system messages.
      const counts = !mine && !open && m.seq > conv.last_seq && m.kind !== "system" && !m.deleted_at;
      this.conversations.set(conv.id, {
        ...conv,
        last_seq: m.seq,
        last_message: m,
        last_activity_at: m.created_at,
        unread_count: counts ? conv.unread_count + 1 : conv.unread_count,
      });
      if (open && !mine) this.markRead(conv.id);
    }
    if (m.sender_id === this.me?.id) this.outbox.delete(m.client_id);
    this.changed();
  }

  private onUpdated(m: Message): void {
    const list = this.messages.get(m.conversation_id);
    if (list) this.messages.set(m.conversation_id, list.map((x) => (x.seq === m.seq ? m : x.reply_to_seq === m.seq && x.reply_to ? { ...x, reply_to: quoteOf(m) } : x)));
    const conv = this.conversations.get(m.conversation_id);
    if (conv?.last_message?.seq === m.seq) this.conversations.set(conv.id, { ...conv, last_message: m });
    this.changed();
  }

  /** canModerate: you are an owner or admin of this group (you may delete anyone's messages). */
  canModerate(conversationId: string): boolean {
    const conv = this.conversations.get(conversationId);
    if (!conv || conv.kind !== "group") return false;
    const role = conv.members.find((x) => x.user_id === this.me?.id)?.role;
    return role === "owner" || role === "admin";
  }

  async edit(m: Message, body: string): Promise<boolean> {
    return this.act(() => this.client.editMessage(m.conversation_id, m.seq, body), "Could not edit the message");
  }

  async remove(m: Message): Promise<boolean> {
    return this.act(() => this.client.deleteMessage(m.conversation_id, m.seq), "Could not delete the message");
  }

  async toggleReaction(m: Message, emoji: string): Promise<boolean> {
    return this.act(() => this.client.toggleReaction(m, emoji), "Could not react");
  }

  private async act(fn: () => Promise<unknown>, what: string): Promise<boolean> {
    this.notice = "";
    try {
      await fn();
      return true;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      this.notice = e.code === "conflict" ? `${what}: it can no longer be changed.` : `${what}: ${e.message ?? String(err)}`;
      this.changed();
      return false;
    }
  }

  /** pending are your messages of a conversation not yet stored. */
  pending(id: string): OutgoingMessage[] {
    return [...this.outbox.values()].filter((m) => m.conversationId === id && !m.message);
  }

  send(id: string, body: string, o: { replyToSeq?: number; attachmentIds?: string[] } = {}): void {
    this.client.send(id, body, o);
  }

  /** sendFile uploads a file with progress, then sends the message carrying it. */
  async sendFile(id: string, file: File, kind: "image" | "voice" | "video" | "file", body = ""): Promise<void> {
    const key = `${Date.now()}-${Math.random()}`;
    this.uploads.set(key, { conversationId: id, name: file.name, sent: 0, total: file.size });
    this.changed();
    try {
      const att = await this.client.upload(file, {
        kind,
        conversationId: id,
        contentType: file.type.split(";")[0] || undefined,
        onProgress: (sent, total) => {
          this.uploads.set(key, { conversationId: id, name: file.name, sent, total });
          this.changed();
        },
      });
      this.uploads.delete(key);
      this.send(id, body, { attachmentIds: [att.id] });
    } catch (err) {
      this.uploads.set(key, { conversationId: id, name: file.name, sent: 0, total: file.size, error: (err as Error).message });
    }
    this.changed();
  }
}

// quoteOf is the reply_to a reply carries of m, as the server makes it.
function quoteOf(m: Message): NonNullable<Message["reply_to"]> {
  return { seq: m.seq, sender_id: m.sender_id, body: m.deleted_at ? "" : [...m.body].slice(0, 200).join(""), kind: m.kind, deleted: !!m.deleted_at };
}

function merge(list: Message[], more: Message[]): Message[] {
  const by = new Map(list.map((m) => [m.seq, m]));
  for (const m of more) by.set(m.seq, m);
  return [...by.values()].sort((a, b) => a.seq - b.seq);
}
