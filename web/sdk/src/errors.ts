import type { ErrorCode } from "./types.js";

/**
 * ParleyError is every failure the SDK reports: a REST error body, a
 * WebSocket error frame, or a local failure (code "network", "timeout",
 * "upload_failed", "signed_out").
 */
export class ParleyError extends Error {
  readonly code: ErrorCode | "network" | "timeout" | "upload_failed" | "signed_out" | string;
  /** HTTP status, 0 when the error did not come from an HTTP reply. */
  readonly status: number;
  /** From Retry-After or retry_after_ms, when the server gave one. */
  readonly retryAfterMs?: number;
  /** upload_failed of a multipart upload: the upload to pass to Client.resumeUpload later. */
  uploadId?: string;

  constructor(code: string, message: string, status = 0, retryAfterMs?: number) {
    super(message);
    this.name = "ParleyError";
    this.code = code;
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}
