import { useEffect, useRef, useState } from "preact/hooks";
import type { Attachment } from "@parley/client";
import type { AppStore } from "../store";
import { drawBlurhash, drawWaveform, variantBlobURL } from "../media";

/** AttachmentView: blurhash on a canvas until the preview loads; voice with waveform; video poster then playback. */
export function AttachmentView({ store, a }: { store: AppStore; a: Attachment }) {
  if (a.status === "failed") return <p class="att att-failed" data-att-status="failed">Couldn’t process {a.filename || a.kind} ({a.error ?? "error"})</p>;
  switch (a.kind) {
    case "image":
      return <Visual store={store} a={a} variant="preview" label={a.filename || "Photo"} />;
    case "video":
      return <Video store={store} a={a} />;
    case "voice":
      return <Voice store={store} a={a} />;
    default:
      return <FileLink store={store} a={a} />;
  }
}

function box(a: Attachment) {
  const w = a.width ?? 4;
  const h = a.height ?? 3;
  return { aspectRatio: `${w} / ${h}` };
}

function Visual({ store, a, variant, label }: { store: AppStore; a: Attachment; variant: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [src, setSrc] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    if (a.blurhash && canvas.current) drawBlurhash(canvas.current, a.blurhash);
  }, [a.blurhash]);
  useEffect(() => {
    if (a.status !== "ready" || !a.variants?.[variant]) return;
    let live = true;
    variantBlobURL(store.client, a.id, variant).then((u) => live && setSrc(u)).catch(() => {});
    return () => {
      live = false;
    };
  }, [a.status, a.id]);
  return (
    <figure class={`att att-${a.kind}`} data-att-status={a.status} style={box(a)}>
      {!loaded && <canvas ref={canvas} class="blurhash" data-blurhash={a.blurhash ? "drawn" : undefined} aria-hidden="true" />}
      {a.status !== "ready" && <figcaption class="processing">Processing…</figcaption>}
      {src && <img class={`preview ${loaded ? "" : "loading"}`} src={src} alt={label} onLoad={() => setLoaded(true)} />}
    </figure>
  );
}

function Video({ store, a }: { store: AppStore; a: Attachment }) {
  const [play, setPlay] = useState<string | null>(null);
  async function start() {
    const v = a.variants?.playback ? "playback" : "original";
    setPlay(await variantBlobURL(store.client, a.id, v));
  }
  if (play) return <video class="att att-video" controls autoPlay src={play} style={box(a)} />;
  return (
    <div class="att-video-wrap">
      <Visual store={store} a={a} variant="poster" label={`Video poster${a.filename ? `: ${a.filename}` : ""}`} />
      {a.status === "ready" && (
        <button type="button" class="play" onClick={() => void start()} aria-label="Play video">Play</button>
      )}
    </div>
  );
}

function Voice({ store, a }: { store: AppStore; a: Attachment }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [src, setSrc] = useState<string | null>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const variant = a.status === "ready" && a.variants?.audio ? "audio" : "original";
  useEffect(() => {
    if (canvas.current && a.waveform) drawWaveform(canvas.current, a.waveform);
  }, [a.waveform]);
  useEffect(() => {
    if (a.status !== "ready") return;
    let live = true;
    variantBlobURL(store.client, a.id, variant).then((u) => live && setSrc(u)).catch(() => {});
    return () => {
      live = false;
    };
  }, [a.status, a.id, variant]);
  const onTime = () => {
    const el = audio.current;
    if (el && canvas.current && a.waveform && el.duration) drawWaveform(canvas.current, a.waveform, el.currentTime / el.duration);
  };
  return (
    <figure class="att att-voice" data-att-status={a.status}>
      {a.waveform && <canvas ref={canvas} class="waveform" role="img" aria-label="Voice note waveform" />}
      {a.status !== "ready" && <figcaption class="processing">Processing voice note…</figcaption>}
      {src && <audio ref={audio} controls src={src} onTimeUpdate={onTime} aria-label={`Voice note${a.duration_ms ? `, ${Math.round(a.duration_ms / 1000)} seconds` : ""}`} />}
    </figure>
  );
}

function FileLink({ store, a }: { store: AppStore; a: Attachment }) {
  async function download(ev: Event) {
    ev.preventDefault();
    const u = await variantBlobURL(store.client, a.id, "original");
    const link = document.createElement("a");
    link.href = u;
    link.download = a.filename || "file";
    link.click();
  }
  return (
    <p class="att att-file" data-att-status={a.status}>
      <a href="#" onClick={download}>{a.filename || "File"}</a> <span class="hint">({Math.ceil(a.size / 1024)} KiB)</span>
    </p>
  );
}
