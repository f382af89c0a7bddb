import type { AppStore } from "../store";
import { useStore } from "./hooks";
import { AuthScreen } from "./AuthScreen";
import { ConversationList } from "./ConversationList";
import { ConversationView } from "./ConversationView";

const stateLabel: Record<string, string> = {
  connected: "Online",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  disconnected: "Offline",
};

export function App({ store }: { store: AppStore }) {
  useStore(store);
  const me = store.me;
  if (!me) return <AuthScreen store={store} />;
  const open = store.openId ? store.conversations.get(store.openId) : undefined;
  return (
    <div class={`shell ${open ? "has-open" : ""}`}>
      <header class="topbar">
        <h1>Parley</h1>
        <span class={`conn conn-${store.state}`} role="status" data-state={store.state}>{stateLabel[store.state]}</span>
        <span class="me">{me.display_name || me.username}</span>
        {me.role === "admin" && (
          <a class="admin-link" href={`/admin/queues/?access_token=${encodeURIComponent(store.client.auth.session?.accessToken ?? "")}`} target="_blank" rel="noopener">
            Jobs dashboard
          </a>
        )}
        <button type="button" class="link" onClick={() => void store.signOut()}>Sign out</button>
      </header>
      <ConversationList store={store} />
      <main class="pane" aria-label="Conversation">
        {open ? <ConversationView store={store} conv={open} key={open.id} /> : <p class="empty">Pick a conversation or start a new one.</p>}
      </main>
    </div>
  );
}
