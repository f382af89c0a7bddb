import { useEffect, useRef, useState } from "preact/hooks";
import type { Message, MessageStatus, OutgoingMessage } from "@parley/client";
import type { AppStore } from "../store";
import { messageActions, quickReactions, type ActionContext } from "../actions";
import { systemText } from "../system";
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

/** What a bubble is doing besides showing itself: editing, confirming a delete, picking an emoji. */
export interface BubbleState {
  editing: number | null;
  confirmDelete: number | null;
  picking: number | null;
  menu: number | null;
}

export function MessageItem({ store, m, reply, ui, ctx }: { store: AppStore; m: Message; reply?: Message; ui: BubbleState; ctx: ActionContext & { setMenu: (seq: number | null) => void } }) {
  if (m.kind === "system") {
    return (
      <li class="msg system" data-seq={m.seq} data-kind="system">
        <p class="body">{systemText(m, store)}</p>
      </li>
    );
  }
  const mine = m.sender_id === store.me?.id;
  const status = store.client.statusOf(m);
  const deleted = !!m.deleted_at;
  const actions = messageActions.filter((a) => a.applies(m, store));
  const inline = actions.filter((a) => a.place !== "menu");
  const menu = actions.filter((a) => a.place === "menu");
  const excerpt = m.body.slice(0, 40);
  return (
    <li class={`msg ${mine ? "mine" : "theirs"}${deleted ? " deleted" : ""}`} data-seq={m.seq} data-client-id={m.client_id} data-status={status ?? undefined} data-deleted={deleted ? "true" : undefined}>
      {!mine && <span class="sender">{store.name(m.sender_id)}</span>}
      {!deleted && m.reply_to_seq && <Quote store={store} m={m} reply={reply} />}
      {deleted ? (
        <p class="body tombstone">Message deleted</p>
      ) : ui.editing === m.seq ? (
        <EditForm store={store} m={m} done={() => ctx.setEditing(null)} />
      ) : (
        <>
          {m.attachments.map((a) => (
            <AttachmentView key={a.id} store={store} a={a} />
          ))}
          {m.body && <p class="body">{m.body}</p>}
        </>
      )}
      {!deleted && m.reactions.length > 0 && (
        <ul class="reactions" aria-label="Reactions">
          {m.reactions.map((r) => (
            <li key={r.emoji}>
              <button
                type="button"
                class={`reaction ${r.me ? "me" : ""}`}
                aria-pressed={r.me}
                aria-label={`${r.emoji} ${r.count}${r.me ? ", including you" : ""}`}
                title={r.user_ids.map((id) => (id === store.me?.id ? "You" : store.name(id))).join(", ")}
                onClick={() => void store.toggleReaction(m, r.emoji)}
              >
                {r.emoji} <span class="count">{r.count}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <span class="meta">
        {m.edited_at && !deleted && <span class="edited" title={`Edited ${new Date(m.edited_at).toLocaleString()}`}>edited</span>}
        <time dateTime={m.created_at}>{time(m.created_at)}</time>
        {status && !deleted && <span class={`status status-${status}`}>{statusText[status]}</span>}
      </span>
      {ui.picking === m.seq && !deleted && (
        <div class="picker" role="group" aria-label="Pick a reaction">
          {quickReactions.map((e) => (
            <button type="button" class="icon" key={e} aria-label={`React ${e}`} onClick={() => {
              ctx.setPicking(null);
              void store.toggleReaction(m, e);
            }}>{e}</button>
          ))}
          <button type="button" class="link" onClick={() => ctx.setPicking(null)}>Close</button>
        </div>
      )}
      {ui.confirmDelete === m.seq && !deleted && (
        <div class="confirm" role="alertdialog" aria-label="Delete this message?">
          <span>Delete this message for everyone?</span>
          <button type="button" class="danger" onClick={() => {
            ctx.setConfirmDelete(null);
            void store.remove(m);
          }}>Delete</button>
          <button type="button" class="link" onClick={() => ctx.setConfirmDelete(null)}>Cancel</button>
        </div>
      )}
      {actions.length > 0 && (
        <span class="actions">
          {inline.map((a) => (
            <button type="button" class="link" key={a.id} data-action={a.id} onClick={() => a.run(m, ctx)} aria-label={`${a.label}: ${excerpt}`}>
              {a.label}
            </button>
          ))}
          {menu.length > 0 && (
            <span class="menu-wrap">
              <button type="button" class="link" aria-haspopup="menu" aria-expanded={ui.menu === m.seq} aria-label={`More actions: ${excerpt}`} onClick={() => ctx.setMenu(ui.menu === m.seq ? null : m.seq)}>⋯</button>
              {ui.menu === m.seq && (
                <ul class="menu" role="menu">
                  {menu.map((a) => (
                    <li key={a.id} role="none">
                      <button type="button" role="menuitem" data-action={a.id} onClick={() => {
                        ctx.setMenu(null);
                        a.run(m, ctx);
                      }}>{a.label}</button>
                    </li>
                  ))}
                </ul>
              )}
            </span>
          )}
        </span>
      )}
    </li>
  );
}

function Quote({ store, m, reply }: { store: AppStore; m: Message; reply?: Message }) {
  // The server sends the quote with the reply (reply_to); a message held
  // locally is fresher when it was edited or deleted since.
  const q = reply ? { sender_id: reply.sender_id, body: reply.body, deleted: !!reply.deleted_at, kind: reply.kind } : m.reply_to;
  if (!q) return <blockquote class="quote">Reply to message {m.reply_to_seq}</blockquote>;
  const text = q.deleted ? "Message deleted" : q.body || (q.kind === "location" ? "Location" : "Attachment");
  return (
    <blockquote class={`quote${q.deleted ? " deleted" : ""}`}>
      <span class="quote-sender">{q.sender_id === store.me?.id ? "You" : store.name(q.sender_id)}</span>: {text}
    </blockquote>
  );
}

function EditForm({ store, m, done }: { store: AppStore; m: Message; done: () => void }) {
  const [text, setText] = useState(m.body);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    input.current?.focus();
  }, []);
  async function save(ev?: Event) {
    ev?.preventDefault();
    const body = text.trim();
    if (body === m.body) return done();
    if (!body && m.kind !== "location") return;
    setBusy(true);
    const ok = await store.edit(m, body);
    setBusy(false);
    if (ok) done();
  }
  return (
    <form class="edit" onSubmit={save}>
      <textarea
        ref={input}
        aria-label="Edit message"
        value={text}
        rows={2}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) void save(e);
          else if (e.key === "Escape") done();
        }}
      />
      <span class="edit-buttons">
        <button type="submit" disabled={busy}>Save</button>
        <button type="button" class="link" onClick={done}>Cancel</button>
      </span>
    </form>
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
