import { ParleyError } from "./errors.js";
import { errorFromReply, joinURL, type FetchLike } from "./http.js";
import type { Session, TokenStorage } from "./storage.js";
import type { AuthResult } from "./types.js";

export type SignOutReason = "logout" | "session_ended";

export interface AuthOptions {
  baseURL: string;
  fetch: FetchLike;
  storage: TokenStorage;
  now: () => number;
  /** Called after every change of the session (sign-in, refresh, sign-out). */
  onChange: (session: Session | null, reason?: SignOutReason) => void;
  /**
   * Runs fn while holding a lock shared by every instance using the same
   * storage (browser tabs: navigator.locks), so two tabs never present the
   * same single-use refresh token. Default: no cross-instance lock.
   */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

/**
 * Auth holds the session and keeps the access token fresh. Refreshes are
 * serialized here (one in flight at a time): the refresh token is single
 * use, and presenting a used one revokes the whole session.
 */
export class Auth {
  session: Session | null = null;
  private inflight: Promise<Session> | null = null;

  constructor(private readonly o: AuthOptions) {}

  async restore(): Promise<Session | null> {
    this.session = (await this.o.storage.load()) ?? null;
    return this.session;
  }

  register(username: string, password: string, displayName?: string): Promise<Session> {
    return this.authCall("/v1/auth/register", { username, password, display_name: displayName });
  }

  login(username: string, password: string): Promise<Session> {
    return this.authCall("/v1/auth/login", { username, password });
  }

  /**
   * accessToken returns a token valid for at least minValidityMs,
   * refreshing first when needed. It throws ParleyError "signed_out" when
   * there is no session or the server ended it.
   */
  async accessToken(minValidityMs = 5_000): Promise<string> {
    const s = this.session;
    if (!s) throw new ParleyError("signed_out", "not signed in");
    if (s.accessExpiresAt - this.o.now() > minValidityMs) return s.accessToken;
    return (await this.refresh()).accessToken;
  }

  /**
   * refresh trades the refresh token for a new pair. A 401 means the
   * session is over (expired, logged out, or revoked after reuse
   * detection): the client signs out cleanly. Network errors keep the
   * session so a later try can succeed.
   */
  refresh(): Promise<Session> {
    if (this.inflight) return this.inflight;
    const s = this.session;
    if (!s) return Promise.reject(new ParleyError("signed_out", "not signed in"));
    const lock = this.o.lock ?? ((_name, fn) => fn());
    this.inflight = (async () => {
      try {
        return await lock("parley.refresh", async () => {
          // Another instance sharing the storage (a second tab) may have
          // rotated the token already: adopt its session instead of
          // replaying a used token, which would revoke the session.
          const stored = await this.o.storage.load();
          if (stored && stored.user.id === s.user.id && stored.refreshToken !== s.refreshToken) {
            this.session = stored;
            if (stored.accessExpiresAt - this.o.now() > 5_000) {
              this.o.onChange(stored);
              return stored;
            }
          }
          return this.authCall("/v1/auth/refresh", { refresh_token: this.session!.refreshToken });
        });
      } catch (err) {
        if (err instanceof ParleyError && err.status === 401 && this.session) {
          await this.clear("session_ended");
          throw new ParleyError("signed_out", "the session ended; sign in again", 401);
        }
        throw err;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** logout revokes the session's refresh tokens and forgets the session. */
  async logout(): Promise<void> {
    const s = this.session;
    await this.clear("logout");
    if (!s) return;
    try {
      await this.o.fetch(joinURL(this.o.baseURL, "/v1/auth/logout"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: s.refreshToken }),
      });
    } catch {
      // Offline: the refresh token expires on its own; the session is gone here.
    }
  }

  async clear(reason: SignOutReason): Promise<void> {
    if (!this.session) return;
    this.session = null;
    await this.o.storage.save(null);
    this.o.onChange(null, reason);
  }

  private async authCall(path: string, body: unknown): Promise<Session> {
    let res;
    try {
      res = await this.o.fetch(joinURL(this.o.baseURL, path), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new ParleyError("network", `network error: ${String(err)}`);
    }
    if (!res.ok) throw await errorFromReply(res);
    const r = JSON.parse(await res.text()) as AuthResult;
    const session: Session = {
      user: r.user,
      accessToken: r.access_token,
      refreshToken: r.refresh_token,
      accessExpiresAt: this.o.now() + r.expires_in * 1000,
    };
    this.session = session;
    await this.o.storage.save(session);
    this.o.onChange(session);
    return session;
  }
}
