import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Conversation, Message } from "@parley/client";
import type { AppStore } from "../store";
import { MessageItem, PendingItem } from "./MessageItem";
import { Composer } from "./Composer";

export function ConversationView({ store, conv }: { store: AppStore; conv: Conversation }) {
  const [reply, setReply] = useState<Message | null>(null);
  const [editing, setEditing] = useState<number | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<number | null>(null);
  const [picking, setPicking] = useState<number | null>(null);
  const [menu, setMenu] = useState<number | null>(null);
  const ui = { editing, confirmDelete, picking, menu };
  const ctx = { store, setReply, setEditing, setConfirmDelete, setPicking, setMenu };
  const list = store.messages.get(conv.id) ?? [];
  const pending = store.pending(conv.id);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const paging = useRef<{ height: number } | null>(null);
  const typing = store.client.typingUsers(conv.id).map((id) => store.name(id));
  const uploads = [...store.uploads.entries()].filter(([, u]) => u.conversationId === conv.id);
  const other = store.otherMember(conv);
  const presence = other ? store.presence.get(other) : undefined;

  // Keep the view at the bottom while the user is there; keep the
  // position when older messages are prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (paging.current) {
      el.scrollTop += el.scrollHeight - paging.current.height;
      paging.current = null;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  });

  useEffect(() => {
    const onVisible = () => document.visibilityState === "visible" && store.markRead(conv.id);
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [conv.id]);

  async function onScroll() {
    const el = scroller.current!;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 60 && store.hasOlder.get(conv.id) && !paging.current) {
      paging.current = { height: el.scrollHeight };
      await store.loadOlder(conv.id).catch(() => (paging.current = null));
    }
  }

  return (
    <section class="conversation" aria-labelledby="conv-title">
      <header class="conv-head">
        <button type="button" class="back" onClick={() => void store.open(null)} aria-label="Back to chats">←</button>
        <h2 id="conv-title">{store.title(conv)}</h2>
        {presence && store.state === "connected" && (
          <span class={`presence ${presence.status}`}>
            {presence.status === "online" ? "online" : presence.last_seen ? `last seen ${new Date(presence.last_seen).toLocaleString()}` : "offline"}
          </span>
        )}
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label="Messages">
        {store.hasOlder.get(conv.id) && <p class="older">Scroll up for older messages</p>}
        <ol class="msgs" aria-live="polite">
          {list.map((m) => (
            <MessageItem key={m.seq} store={store} m={m} reply={m.reply_to_seq ? list.find((x) => x.seq === m.reply_to_seq) : undefined} ui={ui} ctx={ctx} />
          ))}
          {pending.map((p) => (
            <PendingItem key={p.clientId} store={store} p={p} />
          ))}
        </ol>
      </div>
      <p class="typing" aria-live="polite">{typing.length ? `${typing.join(", ")} ${typing.length > 1 ? "are" : "is"} typing…` : ""}</p>
      {uploads.map(([k, u]) => (
        <div class="upload" key={k}>
          <label>
            {u.error ? `Upload of ${u.name} failed: ${u.error}` : `Uploading ${u.name}`}
            <progress max={u.total} value={u.sent} />
          </label>
        </div>
      ))}
      {store.notice && <p class="notice error" role="alert">{store.notice}</p>}
      <Composer store={store} conv={conv} reply={reply} setReply={setReply} />
    </section>
  );
}
