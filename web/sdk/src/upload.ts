import { ParleyError } from "./errors.js";
import type { AttachmentKind } from "./types.js";

/** UploadBody is the file to send: a Blob/File in browsers and Node ≥ 20. */
export interface UploadBody {
  readonly size: number;
  readonly type: string;
  readonly name?: string;
}

/** One request to the object store, as an upload ticket describes it. */
export interface StoreRequest {
  method: "POST" | "PUT";
  url: string;
  /** POST: form fields, sent first, values exactly as given. */
  fields?: Record<string, string>;
  /** PUT: headers to send: every header of the ticket (Content-Length included: transports whose runtime sets it from the body may leave it out), and Content-MD5 for multipart parts. */
  headers?: Record<string, string>;
  file: UploadBody;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * UploadTransport sends the bytes to the store and resolves on a 2xx. The
 * reply of the store is not Parley JSON: any non-2xx is a failure. Browsers
 * use xhrTransport (upload progress), Node uses nodeTransport; the default
 * fetchTransport works everywhere but reports progress only at the end.
 */
export type UploadTransport = (req: StoreRequest) => Promise<void>;

/** fetchTransport uses fetch and FormData: no progress events in between. */
export const fetchTransport: UploadTransport = async (req) => {
  let body: unknown;
  if (req.method === "POST") {
    const form = new FormData();
    for (const [k, v] of Object.entries(req.fields ?? {})) form.append(k, v);
    form.append("file", req.file as Blob, req.file.name ?? "file");
    body = form;
  } else {
    body = req.file;
  }
  req.onProgress?.(0, req.file.size);
  let res: Response;
  try {
    // fetch sets Content-Length from the body (it is a forbidden header).
    const headers = req.method === "PUT" ? Object.fromEntries(Object.entries(req.headers ?? {}).filter(([k]) => k.toLowerCase() !== "content-length")) : undefined;
    res = await fetch(req.url, { method: req.method, headers, body: body as BodyInit, signal: req.signal });
  } catch (err) {
    throw new ParleyError("upload_failed", `upload failed: ${String(err)}`);
  }
  if (!res.ok) throw new ParleyError("upload_failed", `the store answered ${res.status}`, res.status);
  req.onProgress?.(req.file.size, req.file.size);
};

export interface UploadOptions {
  kind: AttachmentKind;
  /** Declared media type; default the file's type (required except for kind file). */
  contentType?: string;
  filename?: string;
  conversationId?: string;
  /** Bytes sent to the store so far, and the total. */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * Multipart uploads: how often a failed part is tried again (after
   * asking the server which parts the store holds, with fresh URLs)
   * before upload() gives up with code "upload_failed" and the upload id
   * in `uploadId`. Default 3.
   */
  retries?: number;
}
