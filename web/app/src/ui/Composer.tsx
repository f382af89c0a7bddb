import { useRef, useState } from "preact/hooks";
import type { Conversation, Message } from "@parley/client";
import type { AppStore } from "../store";
import { kindOf } from "../media";

export function Composer({ store, conv, reply, setReply }: { store: AppStore; conv: Conversation; reply: Message | null; setReply: (m: Message | null) => void }) {
  const [text, setText] = useState("");
  const [recording, setRecording] = useState<MediaRecorder | null>(null);
  const [error, setError] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);

  function send() {
    const body = text.trim();
    if (!body) return;
    store.send(conv.id, body, { replyToSeq: reply?.seq });
    setText("");
    setReply(null);
    input.current?.focus();
  }

  function onKey(ev: KeyboardEvent) {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      send();
    } else if (ev.key === "Escape" && reply) {
      setReply(null);
    }
  }

  function onInput(ev: Event) {
    const v = (ev.target as HTMLTextAreaElement).value;
    setText(v);
    if (v) store.client.typing(conv.id);
    else store.client.stopTyping(conv.id);
  }

  async function onFile() {
    const f = file.current?.files?.[0];
    if (!f) return;
    file.current!.value = "";
    await store.sendFile(conv.id, f, kindOf(f));
  }

  async function toggleRecord() {
    setError("");
    if (recording) {
      recording.stop();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"].find((t) => MediaRecorder.isTypeSupported(t));
      const rec = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      const chunks: Blob[] = [];
      rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      rec.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        setRecording(null);
        const mime = (rec.mimeType || "audio/webm").split(";")[0];
        const blob = new Blob(chunks, { type: mime });
        const ext = mime.includes("ogg") ? "ogg" : "webm";
        void store.sendFile(conv.id, new File([blob], `voice-note.${ext}`, { type: mime }), "voice");
      };
      rec.start(250);
      setRecording(rec);
    } catch (err) {
      setError(`Microphone unavailable: ${(err as Error).message}`);
    }
  }

  return (
    <div class="composer-wrap">
      {reply && (
        <p class="replying">
          Replying to {store.name(reply.sender_id)}: “{reply.body.slice(0, 80) || "attachment"}”
          <button type="button" class="link" onClick={() => setReply(null)} aria-label="Cancel reply">✕</button>
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <form class="composer" onSubmit={(e) => { e.preventDefault(); send(); }}>
        <label class="visually-hidden" htmlFor="attach">Attach a photo, video or file</label>
        <input id="attach" ref={file} type="file" class="visually-hidden" accept="image/*,video/*,audio/*,*/*" onChange={() => void onFile()} />
        <button type="button" class="icon" onClick={() => file.current?.click()} aria-label="Attach a photo, video or file">Attach</button>
        <button type="button" class={`icon ${recording ? "recording" : ""}`} onClick={() => void toggleRecord()} aria-pressed={!!recording} aria-label={recording ? "Stop recording and send" : "Record a voice note"}>
          {recording ? "Stop" : "Record"}
        </button>
        <label class="visually-hidden" htmlFor="compose">Message</label>
        <textarea id="compose" ref={input} rows={1} value={text} onInput={onInput} onKeyDown={onKey} placeholder="Message" autoComplete="off" />
        <button type="submit" disabled={!text.trim()}>Send</button>
      </form>
    </div>
  );
}
