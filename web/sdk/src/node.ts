// Node pieces of @parley/client: uploads through node:http(s) with
// progress (Node's fetch cannot report upload progress). WebSockets in
// Node 20 come from the `ws` package: `webSocket: (url) => new WebSocket(url)`.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { randomBytes } from "node:crypto";
import { ParleyError } from "./errors.js";
import type { UploadTransport } from "./upload.js";

const CHUNK = 64 * 1024;

/** nodeTransport streams the multipart body in 64 KiB chunks, reporting progress after each. */
export const nodeTransport: UploadTransport = async (req) => {
  const bytes = new Uint8Array(await (req.file as Blob).arrayBuffer());
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  const headers: Record<string, string | number> = {};
  if (req.method === "POST") {
    const boundary = `----parley${randomBytes(12).toString("hex")}`;
    const parts: string[] = [];
    for (const [k, v] of Object.entries(req.fields ?? {})) {
      parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
    }
    const name = (req.file.name ?? "file").replace(/["\r\n]/g, "_");
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${req.file.type || "application/octet-stream"}\r\n\r\n`);
    head = Buffer.from(parts.join(""));
    tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    headers["Content-Type"] = `multipart/form-data; boundary=${boundary}`;
  } else {
    for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() !== "content-length") headers[k] = v;
  }
  // The body's real length (for a part it is the ticket's Content-Length).
  headers["Content-Length"] = head.length + bytes.length + tail.length;
  const url = new URL(req.url);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const r = send(url, { method: req.method, headers, signal: req.signal }, (res) => {
      res.resume();
      res.on("end", () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve();
        else reject(new ParleyError("upload_failed", `the store answered ${code}`, code));
      });
    });
    r.on("error", (err) => reject(new ParleyError("upload_failed", `upload failed: ${err.message}`)));
    const total = bytes.length;
    req.onProgress?.(0, total);
    r.write(head);
    let off = 0;
    const next = () => {
      if (off >= total) {
        r.end(tail);
        req.onProgress?.(total, total);
        return;
      }
      const end = Math.min(total, off + CHUNK);
      const ok = r.write(bytes.subarray(off, end), () => req.onProgress?.(end, total));
      off = end;
      if (ok) setImmediate(next);
      else r.once("drain", next);
    };
    next();
  });
};
