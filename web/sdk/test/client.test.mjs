// SDK tests against a real `parley dev` (built from this repo and started
// by the test): outbox across a killed socket, reconnect with catch-up,
// token refresh over a long session (short PARLEY_ACCESS_TTL), and uploads
// with progress.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { Client, memoryTokens } from "../dist/index.js";
import { nodeTransport } from "../dist/node.js";
import { startParley, uniqueName, waitFor } from "../../testing/server.mjs";

let server;
before(async () => {
  // Access tokens live 3 s, so a few seconds make a "long session".
  server = await startParley({ PARLEY_ACCESS_TTL: "3s" });
});
const clients = [];
after(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

/** A client whose sockets the test can kill (terminate: no close frame) or block. */
function newClient(extra = {}) {
  const sockets = [];
  const ctl = { blocked: false, sockets };
  const client = new Client({
    baseURL: server.url,
    storage: memoryTokens(),
    uploadTransport: nodeTransport,
    webSocket: (url) => {
      if (ctl.blocked) throw new Error("network blocked by the test");
      const ws = new WebSocket(url);
      sockets.push(ws);
      return ws;
    },
    ...extra,
  });
  ctl.kill = () => sockets.at(-1)?.terminate();
  clients.push(client);
  return { client, ctl };
}

async function signUp(prefix, extra) {
  const { client, ctl } = newClient(extra);
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

describe("SDK against parley dev", () => {
  test("outbox: a socket killed mid-send loses nothing and duplicates nothing", async () => {
    const { client: alice, ctl } = await signUp("alice");
    const { client: bob } = await signUp("bob");
    const conv = await alice.openDirect(bob.user.id);
    const got = [];
    bob.on("message", (m) => got.push(m));
    alice.connect();
    bob.connect();
    await Promise.all([connected(alice), connected(bob)]);

    const states = [];
    alice.on("state", (s) => states.push(s.state));
    const N = 30;
    const sends = [];
    for (let i = 0; i < 10; i++) sends.push(alice.send(conv.id, `m${i}`));
    assert.ok(sends.every((s) => s.message.status === "sending"), "every message starts as sending");
    await waitFor(() => alice.pending(conv.id).length < 10, 10_000, "a first ack");
    // In one tick: 20 more frames go into the socket, then the TCP
    // connection is destroyed (no close frame). Some may have reached the
    // server and been stored without an ack coming back, some not.
    for (let i = 10; i < N; i++) sends.push(alice.send(conv.id, `m${i}`));
    const unackedAtKill = alice.pending(conv.id).length;
    ctl.kill();
    const stored = await Promise.all(sends.map((s) => s.stored));
    assert.ok(states.includes("reconnecting"), `states ${states.join(",")}: the socket was not killed`);
    assert.ok(unackedAtKill >= 20, `${unackedAtKill} unacked at the kill`);
    assert.deepEqual(stored.map((m) => m.body), sends.map((_, i) => `m${i}`));
    const seqs = stored.map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "seqs follow the order of sending");
    assert.equal(new Set(seqs).size, N, "one seq per message");

    await waitFor(() => got.length >= N, 10_000, "bob to get every message");
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(got.map((m) => m.body), sends.map((_, i) => `m${i}`), "bob sees each message once, in order");
    const history = await bob.history(conv.id, { limit: 200 });
    assert.equal(history.length, N, "the server stored each message once");
    alice.disconnect();
    bob.disconnect();
  });

  test("reconnect: messages sent while offline are caught up before `connected`", async () => {
    const { client: alice, ctl } = await signUp("alice");
    const { client: bob } = await signUp("bob");
    const conv = await bob.openDirect(alice.user.id);
    alice.connect();
    await connected(alice);
    await alice.conversations();

    const seen = [];
    const log = [];
    alice.on("message", (m) => {
      seen.push(m.body);
      log.push(`message:${m.body}`);
    });
    alice.on("state", (s) => log.push(`state:${s.state}`));
    ctl.blocked = true;
    ctl.kill();
    await waitFor(() => alice.state === "reconnecting", 5_000, "reconnecting");
    for (let i = 0; i < 5; i++) {
      await bob.api.sendHTTP(conv.id, { client_id: `c-${i}`, body: `while away ${i}` });
    }
    ctl.blocked = false;
    await connected(alice);
    const firstConnected = log.indexOf("state:connected");
    const caught = log.slice(0, firstConnected).filter((l) => l.startsWith("message:"));
    assert.deepEqual(caught, [0, 1, 2, 3, 4].map((i) => `message:while away ${i}`), `log: ${log.join(" ")}`);
    // Live again: a new message arrives on the socket.
    await bob.api.sendHTTP(conv.id, { client_id: "c-live", body: "live" });
    await waitFor(() => seen.includes("live"), 5_000, "the live message");
    assert.equal(seen.length, 6, `each message once: ${seen.join(", ")}`);
    alice.disconnect();
  });

  test("auth: the access token is refreshed during a long session; reuse detection signs out", async () => {
    const { client: alice } = await signUp("alice");
    const { client: bob } = await signUp("bob");
    const conv = await alice.openDirect(bob.user.id);
    const tokens = new Set([alice.auth.session.refreshToken]);
    alice.on("session", (s) => s && tokens.add(s.refreshToken));
    alice.connect();
    await connected(alice);
    const states = [];
    alice.on("state", (s) => states.push(`${s.state}${s.closeCode ? `(${s.closeCode})` : ""}`));
    const firstRefresh = alice.auth.session.refreshToken;

    // 8 s with 3 s tokens: the socket would be closed with 4001 without
    // auth frames, and REST calls would answer 401 without refreshes.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const { stored } = alice.send(conv.id, `tick ${i}`);
      await stored;
      await alice.api.me();
    }
    assert.ok(tokens.size >= 3, `only ${tokens.size} refresh tokens seen`);
    assert.deepEqual(states, [], `the socket never dropped: ${states.join(", ")}`);
    assert.equal(alice.state, "connected");

    // A thief replays a used refresh token: the server revokes the session,
    // and the client's next refresh signs it out cleanly.
    const signedOut = new Promise((r) => alice.on("signedOut", r));
    const replay = await fetch(`${server.url}/v1/auth/refresh`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: firstRefresh }) });
    assert.equal(replay.status, 401);
    const ev = await signedOut;
    assert.equal(ev.reason, "session_ended");
    assert.equal(alice.auth.session, null);
    assert.equal(alice.user, null);
    await waitFor(() => alice.state === "disconnected", 5_000, "disconnected");
    await assert.rejects(alice.api.me(), (err) => err.code === "signed_out");
  });

  test("auth: a session revoked elsewhere (4012, a password change) signs this client out without reconnecting", async () => {
    const { client: phone } = await signUp("dora");
    const { client: laptop } = newClient();
    await laptop.login(phone.user.username, "correct horse battery");
    laptop.connect();
    await connected(laptop);
    const states = [];
    laptop.on("state", (s) => states.push(`${s.state}${s.closeCode ? `(${s.closeCode})` : ""}`));
    const out = new Promise((r) => laptop.on("signedOut", r));
    await phone.api.request("POST", "/v1/me/password", { body: { current: "correct horse battery", new: "a newer horse battery" } });
    assert.equal((await out).reason, "session_ended");
    assert.equal(laptop.auth.session, null, "the dead session is forgotten");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(laptop.state, "disconnected");
    assert.ok(!states.includes("reconnecting"), `no reconnect: ${states.join(", ")}`);
  });

  test("auth: two clients on one storage (two tabs) refresh without tripping reuse detection", async () => {
    const storage = memoryTokens();
    let chain = Promise.resolve();
    const lock = (_name, fn) => {
      const p = chain.then(fn);
      chain = p.catch(() => {});
      return p;
    };
    const tabA = new Client({ baseURL: server.url, storage, lock, webSocket: (u) => new WebSocket(u) });
    const tabB = new Client({ baseURL: server.url, storage, lock, webSocket: (u) => new WebSocket(u) });
    clients.push(tabA, tabB);
    let signedOut = 0;
    tabA.on("signedOut", () => signedOut++);
    tabB.on("signedOut", () => signedOut++);
    await tabA.register(uniqueName("tabs"), "correct horse battery");
    assert.equal(await tabB.restore(), true);
    // Both tabs refresh at once, as they do when their tokens age together.
    for (let round = 0; round < 3; round++) {
      await Promise.all([tabA.auth.refresh(), tabB.auth.refresh()]);
      await Promise.all([tabA.api.me(), tabB.api.me()]);
    }
    assert.equal(signedOut, 0, "no tab was signed out");
    assert.ok(tabA.auth.session && tabB.auth.session);
  });

  test("upload: presigned flow with progress events, then the attachment turns ready", async () => {
    const { client: alice } = await signUp("alice");
    const { client: bob } = await signUp("bob");
    const conv = await alice.openDirect(bob.user.id);
    alice.connect();
    bob.connect();
    await Promise.all([connected(alice), connected(bob)]);
    const size = 1536 * 1024 + 17;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
    const file = Object.assign(new Blob([bytes], { type: "application/octet-stream" }), { name: "notes.bin" });
    const progress = [];
    const att = await alice.upload(file, { kind: "file", conversationId: conv.id, onProgress: (sent, total) => progress.push([sent, total]) });
    assert.equal(att.status, "processing");
    assert.ok(progress.length >= 10, `${progress.length} progress events`);
    assert.ok(progress.every(([, t]) => t === size));
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] >= progress[i - 1][0], "progress never goes back");
    assert.deepEqual(progress.at(-1), [size, size]);

    // Bob's copy of the message: the message frame, then in-place updates.
    // The worker may finish before or after the send; either way his copy
    // must end up ready (in the message itself, or by an attachment frame).
    let bobsCopy = null;
    bob.on("message", (m) => m.conversation_id === conv.id && (bobsCopy = m));
    bob.on("messageUpdated", (m) => bobsCopy && m.seq === bobsCopy.seq && (bobsCopy = m));
    const { stored } = alice.send(conv.id, "", { attachmentIds: [att.id] });
    const msg = await stored;
    assert.equal(msg.attachments[0].id, att.id);
    await waitFor(() => bobsCopy?.attachments[0]?.status === "ready", 30_000, "bob's copy of the message shows the attachment ready");
    assert.equal(bobsCopy.attachments[0].id, att.id);

    const res = await fetch(bob.variantURL(att.id, "original"), { headers: { Authorization: `Bearer ${await bob.auth.accessToken()}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes, "the stored bytes are the uploaded ones");
    alice.disconnect();
    bob.disconnect();
  });
});
