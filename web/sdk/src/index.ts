// @parley/client: the TypeScript SDK of Parley (docs/protocol.md). The
// core uses no DOM or Node API; see "@parley/client/browser" and
// "@parley/client/node" for the platform pieces.
export { Client, type ClientOptions, type ClientEvents } from "./client.js";
export { Api } from "./api.js";
export { Auth, type SignOutReason } from "./auth.js";
export { MessageCache } from "./cache.js";
export { Connection, alwaysOnline, type NetworkMonitor, type WebSocketFactory, type WebSocketLike } from "./connection.js";
export { ParleyError } from "./errors.js";
export { fullJitter } from "./backoff.js";
export { newClientId } from "./ids.js";
export type { OutgoingMessage } from "./outbox.js";
export { memorySync, memoryTokens, webStorageSync, webStorageTokens, type Session, type SyncStorage, type TokenStorage, type KeyValueStore } from "./storage.js";
export { contentMD5, md5 } from "./md5.js";
export { TypingSender, TypingTracker } from "./typing.js";
export { fetchTransport, type UploadBody, type UploadOptions, type UploadTransport, type StoreRequest } from "./upload.js";
export type * from "./types.js";
