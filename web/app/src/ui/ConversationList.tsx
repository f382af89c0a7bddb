import { useState } from "preact/hooks";
import type { AppStore } from "../store";
import { preview as previewOf } from "../system";
import { NewConversation } from "./NewConversation";

export function ConversationList({ store }: { store: AppStore }) {
  const [adding, setAdding] = useState(false);
  const convs = store.sortedConversations();
  return (
    <nav class="sidebar" aria-label="Conversations">
      <div class="sidebar-head">
        <h2>Chats</h2>
        <button type="button" onClick={() => setAdding(!adding)} aria-expanded={adding} aria-controls="new-conv">New</button>
      </div>
      {adding && <NewConversation store={store} onDone={() => setAdding(false)} />}
      <ul class="convs">
        {convs.map((c) => {
          const other = store.otherMember(c);
          const online = other && store.state === "connected" ? store.presence.get(other)?.status === "online" : false;
          const last = c.last_message;
          const preview = last ? previewOf(last, store) : "No messages yet";
          const title = store.title(c);
          return (
            <li key={c.id}>
              <button
                type="button"
                class={`conv ${store.openId === c.id ? "active" : ""}`}
                data-conv-id={c.id}
                aria-current={store.openId === c.id ? "true" : undefined}
                onClick={() => void store.open(c.id)}
              >
                {other && <span class={`dot ${online ? "online" : ""}`} role="img" aria-label={online ? "online" : "offline"} />}
                <span class="conv-title">{title}</span>
                {c.unread_count > 0 && <span class="badge" aria-label={`${c.unread_count} unread`}>{c.unread_count}</span>}
                <span class="conv-last">{last && last.kind !== "system" && last.sender_id === store.me?.id ? "You: " : ""}{preview}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
