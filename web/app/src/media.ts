// Media helpers: attachment variants are fetched with the bearer token
// (the route redirects to a short-lived store URL) and shown from blob:
// URLs, which the strict CSP allows; blurhashes are decoded onto a canvas.
import { decode } from "blurhash";
import type { Client } from "@parley/client";

const urls = new Map<string, Promise<string>>();

/** variantBlobURL fetches a variant once and returns a blob: URL for it. */
export function variantBlobURL(client: Client, attachmentId: string, variant: string): Promise<string> {
  const key = `${attachmentId}/${variant}`;
  let p = urls.get(key);
  if (!p) {
    p = (async () => {
      const token = await client.auth.accessToken();
      const res = await fetch(client.variantURL(attachmentId, variant), { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`variant ${variant}: HTTP ${res.status}`);
      return URL.createObjectURL(await res.blob());
    })();
    p.catch(() => urls.delete(key));
    urls.set(key, p);
  }
  return p;
}

/** drawBlurhash paints a blurhash on a canvas (32×32, stretched by CSS). */
export function drawBlurhash(canvas: HTMLCanvasElement, hash: string): void {
  try {
    const w = 32;
    const h = 32;
    const pixels = decode(hash, w, h);
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const img = ctx.createImageData(w, h);
    img.data.set(pixels);
    ctx.putImageData(img, 0, 0);
  } catch {
    // A malformed hash: leave the neutral background.
  }
}

/** drawWaveform paints a voice note's peaks (0–255) as bars. */
export function drawWaveform(canvas: HTMLCanvasElement, peaks: number[], progress = 0): void {
  const ctx = canvas.getContext("2d");
  if (!ctx || peaks.length === 0) return;
  const w = (canvas.width = 240);
  const h = (canvas.height = 40);
  ctx.clearRect(0, 0, w, h);
  const bar = w / peaks.length;
  const style = getComputedStyle(canvas);
  peaks.forEach((p, i) => {
    const ph = Math.max(2, (p / 255) * h);
    ctx.fillStyle = i / peaks.length < progress ? style.getPropertyValue("--wave-done") || "#2563eb" : style.getPropertyValue("--wave") || "#94a3b8";
    ctx.fillRect(i * bar, (h - ph) / 2, Math.max(1, bar - 1), ph);
  });
}

/** kindOf picks the upload kind for a file from its type. */
export function kindOf(file: File): "image" | "voice" | "video" | "file" {
  const t = file.type;
  if (t.startsWith("image/")) return "image";
  if (t.startsWith("video/")) return "video";
  if (t.startsWith("audio/")) return "voice";
  return "file";
}
