import { useState } from "preact/hooks";
import type { AppStore } from "../store";

/** NewConversation: one username opens the direct conversation, several make a group. */
export function NewConversation({ store, onDone }: { store: AppStore; onDone: () => void }) {
  const [error, setError] = useState("");
  async function submit(ev: Event) {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    const names = String(f.get("usernames")).split(/[\s,]+/).filter(Boolean);
    if (names.length === 0) return;
    try {
      await store.startConversation(names, String(f.get("title") ?? "") || undefined);
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form id="new-conv" class="new-conv" onSubmit={submit}>
      <label>
        Usernames <span class="hint">(one for a direct chat, several for a group)</span>
        <input name="usernames" required autoComplete="off" />
      </label>
      <label>
        Group title <span class="hint">(optional)</span>
        <input name="title" maxLength={128} />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">Start</button>
    </form>
  );
}
