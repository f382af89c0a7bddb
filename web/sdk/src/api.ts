import type { Auth } from "./auth.js";
import { ParleyError } from "./errors.js";
import { errorFromReply, joinURL, type FetchLike, type RequestOptions } from "./http.js";
import type {
  Attachment, Conversation, Job, Message, PresenceStatus, Receipt, SyncReply, UploadRequest, UploadStatus, UploadTicket, User,
} from "./types.js";

const msgPath = (id: string, seq: number) => `/v1/conversations/${encodeURIComponent(id)}/messages/${seq}`;

/**
 * Api is the REST half of docs/protocol.md, one method per route, typed
 * with the shapes generated from docs/openapi.json. A 401 refreshes the
 * access token once and retries the call.
 */
export class Api {
  constructor(
    private readonly baseURL: string,
    private readonly fetchFn: FetchLike,
    private readonly auth: Auth,
  ) {}

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const useAuth = o.auth !== false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {};
      if (useAuth) headers.Authorization = `Bearer ${await this.auth.accessToken()}`;
      if (o.body !== undefined) headers["Content-Type"] = "application/json";
      let res;
      try {
        res = await this.fetchFn(joinURL(this.baseURL, path, o.query), {
          method,
          headers,
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
          signal: o.signal,
        });
      } catch (err) {
        if (o.signal?.aborted) throw err;
        throw new ParleyError("network", `network error: ${String(err)}`);
      }
      if (res.status === 401 && useAuth && attempt === 0) {
        await this.auth.refresh();
        continue;
      }
      if (!res.ok) throw await errorFromReply(res);
      if (res.status === 204) return undefined as T;
      return JSON.parse(await res.text()) as T;
    }
  }

  // Users and presence.
  me(): Promise<User> {
    return this.request<{ user: User }>("GET", "/v1/me").then((r) => r.user);
  }
  findUsers(prefix: string, limit = 20): Promise<User[]> {
    return this.request<{ users: User[] }>("GET", "/v1/users", { query: { username: prefix, limit } }).then((r) => r.users);
  }
  user(id: string): Promise<User> {
    return this.request<{ user: User }>("GET", `/v1/users/${encodeURIComponent(id)}`).then((r) => r.user);
  }
  presence(id: string): Promise<PresenceStatus> {
    return this.request<PresenceStatus>("GET", `/v1/users/${encodeURIComponent(id)}/presence`);
  }

  // Conversations.
  listConversations(o: { limit?: number; before?: string } = {}): Promise<Conversation[]> {
    return this.request<{ conversations: Conversation[] }>("GET", "/v1/conversations", { query: o }).then((r) => r.conversations);
  }
  conversation(id: string): Promise<Conversation> {
    return this.request<{ conversation: Conversation }>("GET", `/v1/conversations/${encodeURIComponent(id)}`).then((r) => r.conversation);
  }
  createConversation(memberIds: string[], title?: string): Promise<Conversation> {
    return this.request<{ conversation: Conversation }>("POST", "/v1/conversations", { body: { member_ids: memberIds, title } }).then((r) => r.conversation);
  }
  addMembers(id: string, userIds: string[]): Promise<Conversation> {
    return this.request<{ conversation: Conversation }>("POST", `/v1/conversations/${encodeURIComponent(id)}/members`, { body: { user_ids: userIds } }).then((r) => r.conversation);
  }
  removeMember(id: string, userId: string): Promise<void> {
    return this.request<void>("DELETE", `/v1/conversations/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`);
  }

  // Messages and receipts.
  messages(id: string, q: { before?: number; after?: number; limit?: number } = {}): Promise<Message[]> {
    return this.request<{ messages: Message[] }>("GET", `/v1/conversations/${encodeURIComponent(id)}/messages`, { query: q }).then((r) => r.messages);
  }
  sendHTTP(id: string, m: { client_id: string; body: string; reply_to_seq?: number; attachment_ids?: string[] }): Promise<{ client_id: string; message: Message }> {
    return this.request("POST", `/v1/conversations/${encodeURIComponent(id)}/messages`, { body: m });
  }
  /** message returns one message (tombstones too) as the caller sees it. */
  message(id: string, seq: number): Promise<Message> {
    return this.request<{ message: Message }>("GET", msgPath(id, seq)).then((r) => r.message);
  }
  /** editMessage replaces the body of your own message (48 h window; 409 after). */
  editMessage(id: string, seq: number, body: string): Promise<Message> {
    return this.request<{ message: Message }>("PATCH", msgPath(id, seq), { body: { body } }).then((r) => r.message);
  }
  /** deleteMessage turns a message into a tombstone and returns it. */
  deleteMessage(id: string, seq: number): Promise<Message> {
    return this.request<{ message: Message }>("DELETE", msgPath(id, seq)).then((r) => r.message);
  }
  /** react adds (on) or removes your reaction; idempotent. */
  react(id: string, seq: number, emoji: string, on = true): Promise<Message> {
    return this.request<{ message: Message }>(on ? "PUT" : "DELETE", `${msgPath(id, seq)}/reactions/${encodeURIComponent(emoji)}`).then((r) => r.message);
  }
  /** sync is one page of the change feed (docs/protocol.md, Sync); without since: a fresh device. */
  sync(q: { since?: string; limit?: number } = {}): Promise<SyncReply> {
    return this.request<SyncReply>("GET", "/v1/sync", { query: q });
  }
  receipt(id: string, which: "read" | "delivered", seq: number): Promise<Receipt> {
    return this.request<{ receipt: Receipt }>("POST", `/v1/conversations/${encodeURIComponent(id)}/${which}`, { body: { seq } }).then((r) => r.receipt);
  }

  // Uploads and attachments.
  createUpload(req: UploadRequest): Promise<UploadTicket> {
    return this.request<UploadTicket>("POST", "/v1/uploads", { body: req });
  }
  completeUpload(id: string): Promise<Attachment> {
    return this.request<{ attachment: Attachment }>("POST", `/v1/uploads/${encodeURIComponent(id)}/complete`).then((r) => r.attachment);
  }
  /** uploadStatus lists the parts the store holds and those still missing. */
  uploadStatus(id: string): Promise<UploadStatus> {
    return this.request<UploadStatus>("GET", `/v1/uploads/${encodeURIComponent(id)}`);
  }
  /** uploadParts hands out fresh presigned URLs for these part numbers. */
  uploadParts(id: string, numbers: number[]): Promise<UploadTicket> {
    return this.request<UploadTicket>("POST", `/v1/uploads/${encodeURIComponent(id)}/parts`, { body: { numbers } });
  }
  attachment(id: string): Promise<Attachment> {
    return this.request<{ attachment: Attachment }>("GET", `/v1/attachments/${encodeURIComponent(id)}`).then((r) => r.attachment);
  }
  /** variantURL is the route that redirects to a variant's bytes (send the bearer token). */
  variantURL(id: string, variant: string): string {
    return joinURL(this.baseURL, `/v1/attachments/${encodeURIComponent(id)}/${encodeURIComponent(variant)}`);
  }

  // Admin.
  jobs(q: { queue?: string; state?: string; limit?: number } = {}): Promise<Job[]> {
    return this.request<{ jobs: Job[] }>("GET", "/v1/admin/jobs", { query: q }).then((r) => r.jobs);
  }
}
