import { useState } from "preact/hooks";
import type { AppStore } from "../store";

export function AuthScreen({ store }: { store: AppStore }) {
  const [mode, setMode] = useState<"in" | "up">("in");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(ev: Event) {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    setBusy(true);
    setError("");
    try {
      await store.signIn(mode, String(f.get("username")), String(f.get("password")), String(f.get("display_name") ?? "") || undefined);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main class="auth">
      <h1>Parley</h1>
      <form onSubmit={submit} aria-labelledby="auth-title">
        <h2 id="auth-title">{mode === "in" ? "Sign in" : "Create an account"}</h2>
        <label>
          Username
          <input name="username" autoComplete="username" required minLength={3} maxLength={32} pattern="[A-Za-z0-9_.\-]+" />
        </label>
        {mode === "up" && (
          <label>
            Display name <span class="hint">(optional)</span>
            <input name="display_name" autoComplete="nickname" maxLength={64} />
          </label>
        )}
        <label>
          Password
          <input name="password" type="password" autoComplete={mode === "in" ? "current-password" : "new-password"} required minLength={8} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{mode === "in" ? "Sign in" : "Sign up"}</button>
      </form>
      <button type="button" class="link" onClick={() => { setMode(mode === "in" ? "up" : "in"); setError(""); }}>
        {mode === "in" ? "New here? Create an account" : "Have an account? Sign in"}
      </button>
    </main>
  );
}
