import type { Message, MessageStatus, OutgoingMessage } from "@parley/client";
import type { AppStore } from "../store";
import { messageActions } from "../actions";
import { AttachmentView } from "./AttachmentView";

const statusText: Record<MessageStatus, string> = {
  sending: "Sending…",
  sent: "✓ Sent",
  delivered: "✓✓ Delivered",
  read: "✓✓ Read",
  failed: "Not sent",
};

function time(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function MessageItem({ store, m, reply, setReply }: { store: AppStore; m: Message; reply?: Message; setReply: (m: Message | null) => void }) {
  const mine = m.sender_id === store.me?.id;
  const status = store.client.statusOf(m);
  return (
    <li class={`msg ${mine ? "mine" : "theirs"}`} data-seq={m.seq} data-client-id={m.client_id} data-status={status ?? undefined}>
      {!mine && <span class="sender">{store.name(m.sender_id)}</span>}
      {m.reply_to_seq && (
        <blockquote class="quote">{reply ? `${store.name(reply.sender_id)}: ${reply.body || "attachment"}` : `Reply to message ${m.reply_to_seq}`}</blockquote>
      )}
      {m.attachments.map((a) => (
        <AttachmentView key={a.id} store={store} a={a} />
      ))}
      {m.body && <p class="body">{m.body}</p>}
      <span class="meta">
        <time dateTime={m.created_at}>{time(m.created_at)}</time>
        {status && <span class={`status status-${status}`}>{statusText[status]}</span>}
      </span>
      <span class="actions">
        {messageActions.filter((a) => a.applies(m, store)).map((a) => (
          <button type="button" class="link" key={a.id} data-action={a.id} onClick={() => a.run(m, { store, setReply })} aria-label={`${a.label}: ${m.body.slice(0, 40)}`}>
            {a.label}
          </button>
        ))}
      </span>
    </li>
  );
}

export function PendingItem({ store, p }: { store: AppStore; p: OutgoingMessage }) {
  return (
    <li class="msg mine pending" data-client-id={p.clientId} data-status={p.status}>
      {p.body && <p class="body">{p.body}</p>}
      {!p.body && p.attachmentIds?.length ? <p class="body hint">Attachment</p> : null}
      <span class="meta">
        <span class={`status status-${p.status}`}>{statusText[p.status]}</span>
        {p.status === "failed" && (
          <button type="button" class="link" onClick={() => void store.client.retry(p.clientId).catch(() => {})}>Retry</button>
        )}
      </span>
    </li>
  );
}
