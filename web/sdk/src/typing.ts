/**
 * TypingSender debounces the typing frames of the local user: `start` once
 * the user has been typing for startDelayMs (500 ms), again every
 * renewMs (3 s) while they keep typing (the server turns a start not
 * renewed within 6 s into a stop), and `stop` after idleMs (3 s) without
 * a keystroke or at once when the message is sent.
 */
export class TypingSender {
  private s = new Map<string, { started: boolean; firstAt: number; lastStartAt: number; startTimer?: ReturnType<typeof setTimeout>; idleTimer?: ReturnType<typeof setTimeout> }>();

  constructor(
    private readonly send: (conversationId: string, state: "start" | "stop") => void,
    private readonly now: () => number,
    private readonly startDelayMs = 500,
    private readonly idleMs = 3_000,
    private readonly renewMs = 3_000,
  ) {}

  /** input is called on every keystroke in a conversation's composer. */
  input(conversationId: string): void {
    const now = this.now();
    let st = this.s.get(conversationId);
    if (!st) {
      st = { started: false, firstAt: now, lastStartAt: 0 };
      this.s.set(conversationId, st);
    }
    const cur = st;
    if (cur.idleTimer) clearTimeout(cur.idleTimer);
    cur.idleTimer = setTimeout(() => this.stop(conversationId), this.idleMs);
    if (cur.started) {
      if (now - cur.lastStartAt >= this.renewMs) {
        cur.lastStartAt = now;
        this.send(conversationId, "start");
      }
      return;
    }
    if (!cur.startTimer) {
      cur.startTimer = setTimeout(() => {
        cur.startTimer = undefined;
        if (this.s.get(conversationId) !== cur) return;
        cur.started = true;
        cur.lastStartAt = this.now();
        this.send(conversationId, "start");
      }, this.startDelayMs);
    }
  }

  /** stop ends typing (send, cleared input, idle). */
  stop(conversationId: string): void {
    const st = this.s.get(conversationId);
    if (!st) return;
    if (st.startTimer) clearTimeout(st.startTimer);
    if (st.idleTimer) clearTimeout(st.idleTimer);
    this.s.delete(conversationId);
    if (st.started) this.send(conversationId, "stop");
  }

  stopAll(): void {
    for (const id of [...this.s.keys()]) this.stop(id);
  }
}

/**
 * TypingTracker holds who is typing where, from typing frames, hiding an
 * indicator after expireMs (6 s) without news as the protocol asks.
 */
export class TypingTracker {
  private t = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(
    private readonly changed: (conversationId: string, userId: string, typing: boolean) => void,
    private readonly expireMs = 6_000,
  ) {}

  set(conversationId: string, userId: string, typing: boolean): void {
    let m = this.t.get(conversationId);
    const prev = m?.get(userId);
    if (prev) clearTimeout(prev);
    if (typing) {
      if (!m) this.t.set(conversationId, (m = new Map()));
      m.set(userId, setTimeout(() => this.set(conversationId, userId, false), this.expireMs));
      if (!prev) this.changed(conversationId, userId, true);
      return;
    }
    if (prev) {
      m!.delete(userId);
      this.changed(conversationId, userId, false);
    }
  }

  users(conversationId: string): string[] {
    return [...(this.t.get(conversationId)?.keys() ?? [])];
  }

  clear(): void {
    for (const [c, m] of this.t) for (const u of [...m.keys()]) this.set(c, u, false);
  }
}
