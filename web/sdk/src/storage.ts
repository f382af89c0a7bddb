import type { User } from "./types.js";

/** Session is what a signed-in client keeps between runs. */
export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, in ms since the epoch (local clock). */
  accessExpiresAt: number;
}

/**
 * TokenStorage keeps the session. Browsers use localStorageTokens (or
 * memoryTokens), React Native apps wrap the Keychain/Keystore; any object
 * with these two methods works. Both may be async.
 */
export interface TokenStorage {
  load(): Session | null | Promise<Session | null>;
  save(session: Session | null): void | Promise<void>;
}

/** memoryTokens keeps the session in memory only (lost on reload). */
export function memoryTokens(initial: Session | null = null): TokenStorage {
  let s = initial;
  return {
    load: () => s,
    save: (v) => {
      s = v;
    },
  };
}

/** The part of the Web Storage API that webStorageTokens needs. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * webStorageTokens keeps the session as JSON under key in a Web Storage
 * object (window.localStorage or sessionStorage), passed in so the core
 * does not depend on the DOM.
 */
export function webStorageTokens(store: KeyValueStore, key = "parley.session"): TokenStorage {
  return {
    load: () => {
      const raw = store.getItem(key);
      if (!raw) return null;
      try {
        return JSON.parse(raw) as Session;
      } catch {
        return null;
      }
    },
    save: (v) => {
      if (v) store.setItem(key, JSON.stringify(v));
      else store.removeItem(key);
    },
  };
}

/**
 * SyncStorage keeps the sync cursor (docs/protocol.md, Sync) per user
 * between runs, so a device that comes back asks only for what changed.
 * Browsers use localStorageSync; any object with these methods works.
 */
export interface SyncStorage {
  load(userId: string): string | null | Promise<string | null>;
  save(userId: string, cursor: string | null): void | Promise<void>;
}

/** memorySync keeps cursors in memory only (the default). */
export function memorySync(): SyncStorage {
  const m = new Map<string, string>();
  return {
    load: (u) => m.get(u) ?? null,
    save: (u, c) => {
      if (c) m.set(u, c);
      else m.delete(u);
    },
  };
}

/** webStorageSync keeps cursors under `prefix + userId` in a Web Storage object. */
export function webStorageSync(store: KeyValueStore, prefix = "parley.sync."): SyncStorage {
  return {
    load: (u) => store.getItem(prefix + u),
    save: (u, c) => {
      if (c) store.setItem(prefix + u, c);
      else store.removeItem(prefix + u);
    },
  };
}
