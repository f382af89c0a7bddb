import type { Attachment, Conversation, Message, MessageStatus, Reaction, Receipt } from "./types.js";

interface ConvState {
  messages: Map<number, Message>;
  /** Highest seq held (or the conversation's last_seq when first seen). */
  lastSeq: number;
  receipts: Map<string, { delivered: number; read: number }>;
  conversation?: Conversation;
}

/**
 * MessageCache holds what the client has seen per conversation: messages by
 * seq (so a seq is reported once however often it arrives), the highest seq
 * held (where catch-up resumes) and every member's receipts (to compute the
 * status of your own messages).
 */
export class MessageCache {
  private convs = new Map<string, ConvState>();

  private conv(id: string): ConvState {
    let c = this.convs.get(id);
    if (!c) {
      c = { messages: new Map(), lastSeq: 0, receipts: new Map() };
      this.convs.set(id, c);
    }
    return c;
  }

  has(id: string): boolean {
    return this.convs.has(id);
  }

  ids(): string[] {
    return [...this.convs.keys()];
  }

  /** add stores m and says whether its seq was new. */
  add(m: Message): boolean {
    const c = this.conv(m.conversation_id);
    if (c.messages.has(m.seq)) return false;
    c.messages.set(m.seq, m);
    if (m.seq > c.lastSeq) c.lastSeq = m.seq;
    return true;
  }

  /**
   * update applies a newer state of a message (edited, deleted, reacted
   * to, from a frame, an ack or sync) and returns the state held after it,
   * or null when nothing changed. A tombstone never comes back to life and
   * an older edit never replaces a newer one, whatever order the frames,
   * acks and sync pages arrive in. A message not held is stored.
   */
  update(m: Message): Message | null {
    const c = this.conv(m.conversation_id);
    const held = c.messages.get(m.seq);
    if (held) {
      if (held.deleted_at && !m.deleted_at) return null;
      if (!m.deleted_at && held.edited_at && (!m.edited_at || Date.parse(m.edited_at) < Date.parse(held.edited_at))) return null;
      if (JSON.stringify(held) === JSON.stringify(m)) return null;
    }
    c.messages.set(m.seq, m);
    if (m.seq > c.lastSeq) c.lastSeq = m.seq;
    return m;
  }

  /** setReactions replaces a held message's reactions (a reaction frame); the message, or null if not held. */
  setReactions(conversationId: string, seq: number, reactions: Reaction[]): Message | null {
    const c = this.convs.get(conversationId);
    const held = c?.messages.get(seq);
    if (!c || !held || held.deleted_at) return null;
    const next = { ...held, reactions };
    c.messages.set(seq, next);
    return next;
  }

  /** remove forgets a conversation (you left or were removed). */
  remove(conversationId: string): void {
    this.convs.delete(conversationId);
  }

  /** clear forgets everything (a sync cursor the server no longer knows: start again). */
  clear(): void {
    this.convs.clear();
  }

  get(conversationId: string, seq: number): Message | undefined {
    return this.convs.get(conversationId)?.messages.get(seq);
  }

  /** messages returns the held messages of a conversation, oldest first. */
  messages(conversationId: string): Message[] {
    const c = this.convs.get(conversationId);
    if (!c) return [];
    return [...c.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  lastSeq(conversationId: string): number {
    return this.convs.get(conversationId)?.lastSeq ?? 0;
  }

  /**
   * setConversation records a conversation's members and receipts. The
   * first time the conversation itself is seen (perhaps after a message of
   * it), what is new starts after its current last_seq (older messages are
   * history, paged on demand; a change to one of them is an update).
   */
  setConversation(conv: Conversation): void {
    const c = this.conv(conv.id);
    if (!c.conversation) c.lastSeq = Math.max(c.lastSeq, conv.last_seq);
    c.conversation = conv;
    for (const m of conv.members) this.mergeReceipt(conv.id, m.user_id, m.delivered_seq, m.read_seq);
  }

  conversation(id: string): Conversation | undefined {
    return this.convs.get(id)?.conversation;
  }

  /** applyReceipt merges a receipt (positions only move forward). */
  applyReceipt(r: Receipt): void {
    this.mergeReceipt(r.conversation_id, r.user_id, r.delivered_seq, r.read_seq);
  }

  private mergeReceipt(convId: string, userId: string, delivered: number, read: number): void {
    const c = this.conv(convId);
    const cur = c.receipts.get(userId) ?? { delivered: 0, read: 0 };
    c.receipts.set(userId, { delivered: Math.max(cur.delivered, delivered, read), read: Math.max(cur.read, read) });
  }

  /**
   * status of a message you sent, from the other members' receipts:
   * read when every other member read it, delivered when every other
   * member's device has it, else sent.
   */
  status(conversationId: string, seq: number, me: string): MessageStatus {
    const c = this.convs.get(conversationId);
    if (!c) return "sent";
    const members = c.conversation ? c.conversation.members.map((m) => m.user_id) : [...c.receipts.keys()];
    const others = members.filter((id) => id !== me);
    if (others.length === 0) return "sent";
    const pos = others.map((id) => c.receipts.get(id) ?? { delivered: 0, read: 0 });
    if (pos.every((p) => p.read >= seq)) return "read";
    if (pos.every((p) => p.delivered >= seq)) return "delivered";
    return "sent";
  }

  /** updateAttachment replaces att in every held message and returns them. */
  updateAttachment(att: Attachment, conversationIds: string[]): Message[] {
    const changed: Message[] = [];
    for (const id of conversationIds) {
      const c = this.convs.get(id);
      if (!c) continue;
      for (const [seq, m] of c.messages) {
        if (!m.attachments.some((a) => a.id === att.id)) continue;
        const next = { ...m, attachments: m.attachments.map((a) => (a.id === att.id ? att : a)) };
        c.messages.set(seq, next);
        changed.push(next);
      }
    }
    return changed;
  }
}
