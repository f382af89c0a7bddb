// Browser pieces of @parley/client: network state from online/offline
// events, session in localStorage, uploads through XMLHttpRequest (which,
// unlike fetch, reports upload progress).
import type { NetworkMonitor } from "./connection.js";
import { ParleyError } from "./errors.js";
import { webStorageSync, webStorageTokens, type SyncStorage, type TokenStorage } from "./storage.js";
import type { UploadTransport } from "./upload.js";

interface BrowserGlobals {
  navigator: { onLine: boolean };
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
  localStorage: Storage;
  XMLHttpRequest: typeof XMLHttpRequest;
}

const g = globalThis as unknown as BrowserGlobals;

/** browserNetwork follows navigator.onLine and the online/offline events. */
export function browserNetwork(): NetworkMonitor {
  return {
    isOnline: () => g.navigator.onLine !== false,
    subscribe(onChange) {
      const on = () => onChange(true);
      const off = () => onChange(false);
      g.addEventListener("online", on);
      g.addEventListener("offline", off);
      return () => {
        g.removeEventListener("online", on);
        g.removeEventListener("offline", off);
      };
    },
  };
}

/**
 * browserLock serializes refreshes across tabs with the Web Locks API (tabs
 * share the session in localStorage, and a refresh token is single use).
 */
export function browserLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis as unknown as { navigator: { locks?: { request(name: string, fn: () => Promise<T>): Promise<T> } } }).navigator.locks;
  return locks ? locks.request(name, fn) : fn();
}

/** localStorageTokens keeps the session in window.localStorage. */
export function localStorageTokens(key = "parley.session"): TokenStorage {
  return webStorageTokens(g.localStorage, key);
}

/** localStorageSync keeps the sync cursor of each user in window.localStorage. */
export function localStorageSync(prefix = "parley.sync."): SyncStorage {
  return webStorageSync(g.localStorage, prefix);
}

/** xhrTransport sends upload bytes with XMLHttpRequest and reports progress. */
export const xhrTransport: UploadTransport = (req) =>
  new Promise<void>((resolve, reject) => {
    const xhr = new g.XMLHttpRequest();
    xhr.open(req.method, req.url);
    let body: Document | XMLHttpRequestBodyInit;
    if (req.method === "POST") {
      const form = new FormData();
      for (const [k, v] of Object.entries(req.fields ?? {})) form.append(k, v);
      form.append("file", req.file as Blob, req.file.name ?? "file");
      body = form;
    } else {
      // Every header of the ticket; Content-Length is the browser's to set
      // (it refuses it from scripts) and equals the part's length.
      for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() !== "content-length") xhr.setRequestHeader(k, v);
      body = req.file as Blob;
    }
    const total = req.file.size;
    xhr.upload.onprogress = (ev) => req.onProgress?.(Math.min(total, ev.loaded * (ev.total > total ? total / ev.total : 1)), total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        req.onProgress?.(total, total);
        resolve();
      } else reject(new ParleyError("upload_failed", `the store answered ${xhr.status}`, xhr.status));
    };
    xhr.onerror = () => reject(new ParleyError("upload_failed", "upload failed: network error"));
    xhr.onabort = () => reject(new ParleyError("upload_failed", "upload aborted"));
    req.signal?.addEventListener("abort", () => xhr.abort());
    req.onProgress?.(0, total);
    xhr.send(body);
  });
