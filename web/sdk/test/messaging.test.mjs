// SDK tests of edits, deletes, reactions, the sync feed and resumable
// uploads, against a real `parley dev` (built from this repo and started
// by the test): what one client changes reaches a second one live and,
// after being offline, through sync; a restarted client resumes from its
// stored cursor; a cursor the server no longer knows (410) starts afresh;
// an interrupted multipart upload sends only its missing parts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { Client, memorySync, memoryTokens } from "../dist/index.js";
import { nodeTransport } from "../dist/node.js";
import { startParley, uniqueName, waitFor } from "../../testing/server.mjs";

const MiB = 1024 * 1024;
let server;
before(async () => {
  // Multipart above 6 MiB in 5 MiB parts: a 12 MiB file is 3 parts.
  server = await startParley({ PARLEY_MULTIPART_THRESHOLD: String(6 * MiB), PARLEY_UPLOAD_PART_SIZE: String(5 * MiB) });
});
const clients = [];
after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

/**
 * A client whose sockets the test can kill or block, and whose frames
 * sent and sync requests it can see. `storage`/`syncStorage` may be shared
 * with a later client (the same app, restarted).
 */
function newClient(o = {}) {
  const ctl = { blocked: false, sockets: [], sent: [], syncURLs: [] };
  const client = new Client({
    baseURL: o.url ?? server.url,
    storage: o.storage ?? memoryTokens(),
    syncStorage: o.syncStorage ?? memorySync(),
    uploadTransport: o.uploadTransport ?? nodeTransport,
    syncPageSize: o.syncPageSize,
    fetch: (url, init) => {
      if (url.includes("/v1/sync")) ctl.syncURLs.push(url);
      return fetch(url, init);
    },
    webSocket: (url) => {
      if (ctl.blocked) throw new Error("network blocked by the test");
      const ws = new WebSocket(url);
      const send = ws.send.bind(ws);
      ws.send = (data) => {
        ctl.sent.push(JSON.parse(data));
        send(data);
      };
      ctl.sockets.push(ws);
      return ws;
    },
  });
  ctl.kill = () => ctl.sockets.at(-1)?.terminate();
  clients.push(client);
  return { client, ctl };
}

async function signUp(prefix, o) {
  const { client, ctl } = newClient(o);
  await client.register(uniqueName(prefix), "correct horse battery");
  return { client, ctl };
}

async function connected(client) {
  if (client.state === "connected") return;
  await new Promise((res) => {
    const off = client.on("state", (s) => {
      if (s.state === "connected") {
        off();
        res();
      }
    });
  });
}

/** latest keeps the newest state of each message a client reports, by seq. */
function track(client) {
  const byKey = new Map();
  const log = [];
  const put = (kind) => (m) => {
    byKey.set(`${m.conversation_id}/${m.seq}`, m);
    log.push(`${kind}:${m.seq}`);
  };
  client.on("message", put("message"));
  client.on("messageUpdated", put("updated"));
  client.on("state", (s) => log.push(`state:${s.state}`));
  return { get: (conv, seq) => byKey.get(`${conv}/${seq}`), log };
}

describe("messaging against parley dev", () => {
  test("edit, delete and reactions reach the other member live, over the socket", async () => {
    const { client: alice, ctl } = await signUp("alice");
    const { client: bob } = await signUp("bob");
    const conv = await alice.openDirect(bob.user.id);
    const seen = track(bob);
    const mine = track(alice);
    alice.connect();
    bob.connect();
    await Promise.all([connected(alice), connected(bob)]);

    const hello = await alice.send(conv.id, "See you at 7?").stored;
    await waitFor(() => seen.get(conv.id, hello.seq), 5_000, "bob to get the message");

    const edited = await alice.editMessage(conv.id, hello.seq, "See you at 8?");
    assert.equal(edited.body, "See you at 8?");
    assert.ok(edited.edited_at, "edited_at is set");
    await waitFor(() => seen.get(conv.id, hello.seq)?.body === "See you at 8?", 5_000, "bob to see the edit");
    assert.ok(seen.get(conv.id, hello.seq).edited_at);
    assert.equal(bob.cache.get(conv.id, hello.seq).body, "See you at 8?", "bob's cache holds the edit");

    const reacted = await bob.react(conv.id, hello.seq, "👍");
    assert.deepEqual(reacted.reactions.map((r) => [r.emoji, r.count, r.me]), [["👍", 1, true]], "bob's answer: his own reaction");
    await waitFor(() => mine.get(conv.id, hello.seq)?.reactions?.length === 1, 5_000, "alice to see bob's reaction");
    assert.deepEqual(mine.get(conv.id, hello.seq).reactions.map((r) => [r.emoji, r.count, r.me]), [["👍", 1, false]], "me is false for alice");

    // Alice toggles the same emoji: on, then off again.
    await alice.toggleReaction(alice.cache.get(conv.id, hello.seq), "👍");
    await waitFor(() => seen.get(conv.id, hello.seq)?.reactions?.[0]?.count === 2, 5_000, "bob to see two 👍");
    assert.equal(seen.get(conv.id, hello.seq).reactions[0].me, true, "bob's me stays true");
    await alice.toggleReaction(alice.cache.get(conv.id, hello.seq), "👍");
    await waitFor(() => seen.get(conv.id, hello.seq)?.reactions?.[0]?.count === 1, 5_000, "bob to see alice's 👍 gone");

    const tomb = await alice.deleteMessage(conv.id, hello.seq);
    assert.ok(tomb.deleted_at);
    await waitFor(() => seen.get(conv.id, hello.seq)?.deleted_at, 5_000, "bob to see the tombstone");
    const gone = seen.get(conv.id, hello.seq);
    assert.equal(gone.body, "");
    assert.deepEqual(gone.reactions, [], "a tombstone has no reactions");
    await assert.rejects(alice.editMessage(conv.id, hello.seq, "too late"), (e) => e.code === "conflict", "a tombstone cannot be edited");

    // All of it went over the socket, not HTTP.
    const types = ctl.sent.map((f) => f.type);
    for (const t of ["edit", "react", "delete"]) assert.ok(types.includes(t), `alice sent a ${t} frame: ${types.join(",")}`);
    assert.ok(alice.syncCursor, "live frames leave a cursor");
    alice.disconnect();
    bob.disconnect();
  });

  test("changes made while a member is offline arrive through sync before `connected`; a restarted client resumes from its stored cursor", async () => {
    const bobStorage = memoryTokens();
    const bobSync = memorySync();
    const { client: alice } = await signUp("alice");
    const { client: bob, ctl } = await signUp("bob", { storage: bobStorage, syncStorage: bobSync });
    const conv = await alice.openDirect(bob.user.id);
    alice.connect();
    bob.connect();
    await Promise.all([connected(alice), connected(bob)]);
    const m1 = await alice.send(conv.id, "first").stored;
    const m2 = await alice.send(conv.id, "second").stored;
    await waitFor(() => bob.cache.get(conv.id, m2.seq), 5_000, "bob to get both");
    const seen = track(bob);

    // Bob's network goes; meanwhile Alice edits, reacts, deletes and sends.
    ctl.blocked = true;
    ctl.kill();
    await waitFor(() => bob.state === "reconnecting", 5_000, "bob reconnecting");
    const cursorBefore = bob.syncCursor;
    assert.ok(cursorBefore, "bob holds a cursor");
    await alice.editMessage(conv.id, m1.seq, "first, edited");
    await alice.react(conv.id, m1.seq, "🎉");
    await alice.deleteMessage(conv.id, m2.seq);
    const m3 = await alice.send(conv.id, "third").stored;

    ctl.blocked = false;
    await connected(bob);
    const upTo = seen.log.indexOf("state:connected");
    assert.ok(upTo > 0, `log: ${seen.log.join(" ")}`);
    const caught = seen.log.slice(0, upTo);
    for (const want of [`updated:${m1.seq}`, `updated:${m2.seq}`, `message:${m3.seq}`]) {
      assert.ok(caught.includes(want), `${want} before connected: ${caught.join(" ")}`);
    }
    assert.equal(seen.get(conv.id, m1.seq).body, "first, edited");
    assert.deepEqual(seen.get(conv.id, m1.seq).reactions.map((r) => [r.emoji, r.count, r.me]), [["🎉", 1, false]]);
    assert.ok(seen.get(conv.id, m2.seq).deleted_at, "the deleted message is a tombstone");
    assert.equal(seen.get(conv.id, m2.seq).body, "");
    assert.equal(seen.get(conv.id, m3.seq).body, "third");
    assert.ok(ctl.syncURLs.some((u) => u.includes(`since=${encodeURIComponent(cursorBefore)}`)), `synced since the held cursor: ${ctl.syncURLs.join(" ")}`);
    const stored = bobSync.load(bob.user.id);
    assert.ok(stored && stored !== cursorBefore, "the new cursor is stored");

    // The app is closed; Alice edits; the app starts again with the same
    // storage and asks only for what changed since its stored cursor.
    bob.close();
    await alice.editMessage(conv.id, m3.seq, "third, edited");
    const { client: bob2, ctl: ctl2 } = newClient({ storage: bobStorage, syncStorage: bobSync });
    assert.equal(await bob2.restore(), true);
    const seen2 = track(bob2);
    bob2.connect();
    await connected(bob2);
    assert.ok(ctl2.syncURLs[0].includes(`since=${encodeURIComponent(stored)}`), `first sync: ${ctl2.syncURLs[0]}`);
    assert.equal(seen2.get(conv.id, m3.seq)?.body, "third, edited");
    alice.disconnect();
    bob2.disconnect();
  });

  test("sync pages: many changes while away come in has_more pages, each from the cursor of the one before", async () => {
    const { client: alice } = await signUp("alice");
    const { client: bob, ctl } = await signUp("bob", { syncPageSize: 4 });
    const conv = await alice.openDirect(bob.user.id);
    bob.connect();
    await connected(bob);
    const seen = track(bob);
    ctl.blocked = true;
    ctl.kill();
    await waitFor(() => bob.state === "reconnecting", 5_000, "bob reconnecting");
    const sent = [];
    for (let i = 0; i < 9; i++) sent.push((await alice.api.sendHTTP(conv.id, { client_id: `p-${i}`, body: `page ${i}` })).message);
    await alice.api.editMessage(conv.id, sent[0].seq, "page 0, edited");
    const before = ctl.syncURLs.length;
    ctl.blocked = false;
    await connected(bob);
    const urls = ctl.syncURLs.slice(before);
    assert.ok(urls.length >= 3, `10 changes in pages of 4: ${urls.length} requests`);
    assert.ok(urls.every((u) => u.includes("limit=4")));
    for (let i = 0; i < 9; i++) assert.equal(seen.get(conv.id, sent[i].seq)?.body, i === 0 ? "page 0, edited" : `page ${i}`);
    const firstConnected = seen.log.indexOf("state:connected");
    const news = seen.log.slice(0, firstConnected).filter((l) => l.startsWith("message:"));
    assert.deepEqual(news, sent.map((m) => `message:${m.seq}`), "each new message once, in order");
    bob.disconnect();
  });

  test("a cursor the server no longer knows (410 gone: restored database) resyncs from scratch", async () => {
    const data = mkdtempSync(join(tmpdir(), "parley-restore-"));
    const backup = mkdtempSync(join(tmpdir(), "parley-backup-"));
    let srv = await startParley({}, { dataDir: data });
    try {
      const bobStorage = memoryTokens();
      const bobSync = memorySync();
      const { client: alice } = await signUp("alice", { url: srv.url });
      const { client: bob } = await signUp("bob", { url: srv.url, storage: bobStorage, syncStorage: bobSync });
      const conv = await alice.openDirect(bob.user.id);
      await alice.api.sendHTTP(conv.id, { client_id: "before-backup", body: "before the backup" });
      alice.close();
      bob.close();
      await srv.stop();
      cpSync(data, backup, { recursive: true });

      // Life goes on: Bob's client syncs well past the backup.
      srv = await startParley({}, { dataDir: data });
      const { client: alice2 } = newClient({ url: srv.url });
      await alice2.login(alice.user.username, "correct horse battery");
      const { client: bob2 } = newClient({ url: srv.url, storage: bobStorage, syncStorage: bobSync });
      await bob2.restore();
      bob2.connect();
      await connected(bob2);
      for (let i = 0; i < 5; i++) await alice2.api.sendHTTP(conv.id, { client_id: `after-${i}`, body: `after ${i}` });
      await waitFor(() => bob2.cache.lastSeq(conv.id) >= 6, 5_000, "bob to get the later messages");
      const lateCursor = bob2.syncCursor;
      alice2.close();
      bob2.close();
      await srv.stop();

      // The server is restored from the backup: Bob's cursor points past its end.
      rmSync(data, { recursive: true, force: true });
      cpSync(backup, data, { recursive: true });
      srv = await startParley({}, { dataDir: data });
      const { client: bob3, ctl } = newClient({ url: srv.url, storage: bobStorage, syncStorage: bobSync });
      await bob3.restore();
      const events = [];
      bob3.on("resync", () => events.push("resync"));
      bob3.on("conversation", (c) => events.push(`conversation:${c.id}`));
      bob3.on("state", (s) => events.push(`state:${s.state}`));
      bob3.connect();
      await connected(bob3);
      assert.ok(ctl.syncURLs[0].includes(`since=${encodeURIComponent(lateCursor)}`), "it tried the stored cursor first");
      assert.ok(ctl.syncURLs.some((u) => !u.includes("since=")), `then synced as a fresh device: ${ctl.syncURLs.join(" ")}`);
      const up = events.indexOf("state:connected");
      assert.ok(events.indexOf("resync") >= 0 && events.indexOf("resync") < up, `events: ${events.join(" ")}`);
      assert.ok(events.indexOf(`conversation:${conv.id}`) > events.indexOf("resync"), "the conversation list came again");
      assert.equal(bob3.cache.conversation(conv.id).last_seq, 1, "the restored server's state");
      const fresh = bob3.syncCursor;
      assert.ok(fresh && fresh !== lateCursor, "a new cursor");
      assert.equal(bobSync.load(bob3.user.id), fresh, "stored");

      // And it works from there: a new message arrives live, a reconnect syncs with the new cursor.
      const { client: alice3 } = newClient({ url: srv.url });
      await alice3.login(alice.user.username, "correct horse battery");
      const got = new Promise((r) => bob3.on("message", (m) => m.body === "after the restore" && r(m)));
      await alice3.api.sendHTTP(conv.id, { client_id: "after-restore", body: "after the restore" });
      assert.equal((await got).seq, 2);
      bob3.dropConnection();
      await connected(bob3);
      assert.ok(!ctl.syncURLs.at(-1).includes(encodeURIComponent(lateCursor)) && ctl.syncURLs.at(-1).includes("since="), "no 410 loop");
      bob3.close();
      alice3.close();
    } finally {
      await srv.stop();
      rmSync(data, { recursive: true, force: true });
      rmSync(backup, { recursive: true, force: true });
    }
  });

  test("a multipart upload cut off mid-part resumes with only the missing parts, each with its headers and Content-MD5", async () => {
    const size = 12 * MiB + 123;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >> 10)) & 0xff;
    const file = Object.assign(new Blob([bytes], { type: "application/octet-stream" }), { name: "big.bin" });
    const md5 = (b) => createHash("md5").update(b).digest("base64");
    const partOf = (url) => Number(new URL(url).searchParams.get("partNumber"));

    // The network drops half-way through part 2: the request is cut.
    const puts = [];
    const dropping = async (req) => {
      const n = partOf(req.url);
      puts.push({ n, headers: req.headers });
      if (n !== 2) return nodeTransport(req);
      const ac = new AbortController();
      return nodeTransport({ ...req, signal: ac.signal, onProgress: (s) => s > 2 * MiB && ac.abort() });
    };
    const { client: alice } = await signUp("alice", { uploadTransport: dropping });
    const err = await alice.upload(file, { kind: "file", retries: 0 }).then(() => null, (e) => e);
    assert.ok(err, "the upload failed");
    assert.equal(err.code, "upload_failed");
    assert.ok(err.uploadId, "the error names the upload to resume");
    assert.deepEqual(puts.map((p) => p.n), [1, 2]);
    const status = await alice.api.uploadStatus(err.uploadId);
    assert.deepEqual(status.missing, [2, 3], "the store holds part 1 only");

    // Every PUT carried the ticket's headers and the part's MD5.
    assert.equal(puts[0].headers["Content-Length"], String(5 * MiB));
    assert.equal(puts[0].headers["Content-MD5"], md5(bytes.subarray(0, 5 * MiB)));

    // Later (the app restarted): resume sends parts 2 and 3 only.
    const resumed = [];
    const counting = async (req) => {
      resumed.push({ n: partOf(req.url), headers: req.headers });
      return nodeTransport(req);
    };
    const { client: again } = newClient({ storage: memoryTokens(alice.auth.session), uploadTransport: counting });
    await again.restore();
    const progress = [];
    const att = await again.resumeUpload(err.uploadId, file, { onProgress: (s, t) => progress.push([s, t]) });
    assert.deepEqual(resumed.map((p) => p.n), [2, 3], "only the missing parts");
    assert.equal(resumed[1].headers["Content-Length"], String(size - 10 * MiB));
    assert.equal(resumed[0].headers["Content-MD5"], md5(bytes.subarray(5 * MiB, 10 * MiB)));
    assert.equal(resumed[1].headers["Content-MD5"], md5(bytes.subarray(10 * MiB)));
    assert.equal(progress[0][0], 5 * MiB, "progress starts at what the store held");
    assert.deepEqual(progress.at(-1), [size, size]);
    assert.equal(att.id, err.uploadId);
    assert.equal(att.size, size);

    // upload() itself retries a dropped part, sending only what is missing.
    puts.length = 0;
    let dropped = false;
    const once = async (req) => {
      const n = partOf(req.url);
      puts.push({ n });
      if (n !== 2 || dropped) return nodeTransport(req);
      dropped = true;
      const ac = new AbortController();
      return nodeTransport({ ...req, signal: ac.signal, onProgress: (s) => s > MiB && ac.abort() });
    };
    const { client: carol } = await signUp("carol", { uploadTransport: once });
    const other = bytes.slice();
    other[0] ^= 0xff; // not the same bytes as the first upload
    const att2 = await carol.upload(Object.assign(new Blob([other]), { name: "b2.bin" }), { kind: "file" });
    assert.deepEqual(puts.map((p) => p.n), [1, 2, 2, 3], "part 2 again, part 1 not");
    const res = await fetch(carol.variantURL(att2.id, "original"), { headers: { Authorization: `Bearer ${await carol.auth.accessToken()}` } });
    assert.equal(res.status, 200);
    assert.equal(createHash("md5").update(new Uint8Array(await res.arrayBuffer())).digest("hex"), createHash("md5").update(other).digest("hex"), "the assembled bytes are the file");
  });
});
