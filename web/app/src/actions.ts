// Message actions shown on each bubble: Reply and React inline, Edit and
// Delete in the message's menu. Each decides for itself whether it
// applies to a message (tombstones and system messages take none).
import type { Message } from "@parley/client";
import type { AppStore } from "./store";

export interface ActionContext {
  store: AppStore;
  setReply: (m: Message | null) => void;
  /** Open the inline editor of a message. */
  setEditing: (seq: number | null) => void;
  /** Ask "Delete this message?" under it. */
  setConfirmDelete: (seq: number | null) => void;
  /** Show the emoji picker under it. */
  setPicking: (seq: number | null) => void;
}

export interface MessageAction {
  id: string;
  label: string;
  /** "menu": in the message's ⋯ menu; else a button on the bubble. */
  place?: "menu";
  applies(m: Message, store: AppStore): boolean;
  run(m: Message, ctx: ActionContext): void;
}

const live = (m: Message) => !m.deleted_at && m.kind !== "system";

export const messageActions: MessageAction[] = [
  {
    id: "reply",
    label: "Reply",
    applies: live,
    run: (m, ctx) => ctx.setReply(m),
  },
  {
    id: "react",
    label: "React",
    applies: live,
    run: (m, ctx) => ctx.setPicking(m.seq),
  },
  {
    id: "edit",
    label: "Edit",
    place: "menu",
    // Your own messages with text (or a location) to edit; the server
    // answers 409 once its edit window (48 h by default) has passed.
    applies: (m, store) => live(m) && m.sender_id === store.me?.id && m.attachments.length === 0,
    run: (m, ctx) => ctx.setEditing(m.seq),
  },
  {
    id: "delete",
    label: "Delete",
    place: "menu",
    // Yours; in a group, owners and admins delete anyone's.
    applies: (m, store) => live(m) && (m.sender_id === store.me?.id || store.canModerate(m.conversation_id)),
    run: (m, ctx) => ctx.setConfirmDelete(m.seq),
  },
];

/** The emoji the picker offers (any single emoji works on the server). */
export const quickReactions = ["👍", "❤️", "😂", "🎉", "😮", "😢"];
