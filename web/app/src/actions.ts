// Message actions shown on each bubble. Reply is here today; edit, delete
// and reactions (the messaging issue) add entries to this list, each
// deciding for itself whether it applies to a message.
import type { Message } from "@parley/client";
import type { AppStore } from "./store";

export interface MessageAction {
  id: string;
  label: string;
  applies(m: Message, store: AppStore): boolean;
  run(m: Message, ctx: { store: AppStore; setReply: (m: Message | null) => void }): void;
}

export const messageActions: MessageAction[] = [
  {
    id: "reply",
    label: "Reply",
    applies: () => true,
    run: (m, ctx) => ctx.setReply(m),
  },
];
