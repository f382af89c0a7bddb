import { ParleyError } from "./errors.js";

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** false: no Authorization header (auth routes). Default true. */
  auth?: boolean;
  signal?: AbortSignal;
}

/** The fetch the SDK uses; injected so tests and odd platforms can wrap it. */
export type FetchLike = (input: string, init: {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

/** joinURL resolves a path against the server's base URL. */
export function joinURL(base: string, path: string, query?: Query): string {
  const url = base.replace(/\/+$/, "") + path;
  if (!query) return url;
  const qs = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
  return qs ? `${url}?${qs}` : url;
}

/** errorFromReply turns a non-2xx reply into a ParleyError. */
export async function errorFromReply(res: { status: number; headers: { get(name: string): string | null }; text(): Promise<string> }): Promise<ParleyError> {
  let code = "internal";
  let message = `HTTP ${res.status}`;
  try {
    const body = JSON.parse(await res.text()) as { code?: string; message?: string };
    if (body.code) code = body.code;
    if (body.message) message = body.message;
  } catch {
    // Not Parley's JSON (a proxy's page): keep the status.
  }
  const ra = Number(res.headers.get("Retry-After"));
  return new ParleyError(code, message, res.status, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
}
