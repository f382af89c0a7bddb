// systemText renders a system message ("Anna added Ben") from its
// `system` event (docs/protocol.md, System messages).
import type { Message } from "@parley/client";
import type { AppStore } from "./store";

function list(names: string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

export function systemText(m: Message, store: AppStore): string {
  const e = m.system;
  if (!e) return "Conversation updated";
  const who = (id: string) => (id === store.me?.id ? "You" : store.name(id));
  const whom = (id: string) => (id === store.me?.id ? "you" : store.name(id));
  for (const id of [e.actor_id, ...(e.user_ids ?? [])]) void store.loadUser(id);
  const actor = who(e.actor_id);
  const users = list((e.user_ids ?? []).map(whom));
  switch (e.event) {
    case "conversation_created":
      return e.title ? `${actor} created “${e.title}”${users ? ` with ${users}` : ""}` : `${actor} created the group${users ? ` with ${users}` : ""}`;
    case "member_added":
      return `${actor} added ${users}`;
    case "member_removed":
      return `${actor} removed ${users}`;
    case "member_left":
      return `${actor} left`;
    case "role_changed":
      if (e.role === "owner") return `${users ? users[0].toUpperCase() + users.slice(1) : actor} ${users === "you" ? "are" : "is"} now the owner`;
      return e.role === "admin" ? `${actor} made ${users} an admin` : `${actor} made ${users} a member`;
    case "title_changed":
      return e.title ? `${actor} renamed the group “${e.title}”` : `${actor} removed the group name`;
    default:
      return "Conversation updated";
  }
}

/** preview is the one line the conversation list shows for a message. */
export function preview(m: Message, store: AppStore): string {
  if (m.deleted_at) return "Message deleted";
  if (m.kind === "system") return systemText(m, store);
  if (m.body) return m.body;
  const kinds: Record<string, string> = { image: "Photo", voice: "Voice note", video: "Video", file: "File" };
  if (m.attachments.length) return kinds[m.attachments[0].kind] ?? "Attachment";
  if (m.kind === "location") return m.location?.name ? `Location: ${m.location.name}` : "Location";
  return "";
}
