// Unit tests of the pieces that need no server: backoff, typing debounce,
// message cache dedup and statuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fullJitter, TypingSender, MessageCache } from "../dist/index.js";

test("full-jitter backoff stays within [0, min(30 s, 500 ms·2ⁿ))", () => {
  assert.equal(fullJitter(0, () => 0.999), 499);
  assert.equal(fullJitter(3, () => 0.5), 2000);
  for (let n = 0; n < 40; n++) {
    assert.ok(fullJitter(n, () => 0.999999) < 30_000, `attempt ${n} over the cap`);
    assert.equal(fullJitter(n, () => 0), 0);
  }
});

test("typing: start after 500 ms of typing, stop after 3 s idle or on send", async () => {
  const sent = [];
  const t0 = Date.now();
  const ts = new TypingSender((c, s) => sent.push([c, s, Date.now() - t0]), Date.now, 100, 300, 300);
  ts.input("c1");
  await sleep(50);
  ts.input("c1");
  assert.deepEqual(sent, [], "no start before the start delay");
  await sleep(100);
  assert.deepEqual(sent.map((x) => x.slice(0, 2)), [["c1", "start"]]);
  await sleep(450);
  assert.deepEqual(sent.map((x) => x.slice(0, 2)), [["c1", "start"], ["c1", "stop"]], "idle stop");
  // A short burst ended by send: nothing if start never went out; stop if it did.
  ts.input("c2");
  ts.stop("c2");
  await sleep(150);
  assert.equal(sent.length, 2, "a message sent before the start delay sends no typing at all");
  ts.input("c3");
  await sleep(150);
  ts.stop("c3");
  assert.deepEqual(sent.slice(2).map((x) => x.slice(0, 2)), [["c3", "start"], ["c3", "stop"]]);
});

test("message cache: a seq is held once; statuses follow the other members' receipts", () => {
  const c = new MessageCache();
  const conv = { id: "c", kind: "direct", created_by: "a", created_at: "", last_seq: 0, last_activity_at: "", unread_count: 0,
    members: [{ user_id: "a", joined_at: "", delivered_seq: 0, read_seq: 0 }, { user_id: "b", joined_at: "", delivered_seq: 0, read_seq: 0 }] };
  c.setConversation(conv);
  const m = { id: "m1", conversation_id: "c", seq: 1, client_id: "x", sender_id: "a", body: "hi", attachments: [], created_at: "" };
  assert.equal(c.add(m), true);
  assert.equal(c.add({ ...m }), false);
  assert.equal(c.lastSeq("c"), 1);
  assert.equal(c.status("c", 1, "a"), "sent");
  c.applyReceipt({ conversation_id: "c", user_id: "b", delivered_seq: 1, read_seq: 0 });
  assert.equal(c.status("c", 1, "a"), "delivered");
  c.applyReceipt({ conversation_id: "c", user_id: "b", delivered_seq: 1, read_seq: 1 });
  assert.equal(c.status("c", 1, "a"), "read");
  c.applyReceipt({ conversation_id: "c", user_id: "b", delivered_seq: 0, read_seq: 0 });
  assert.equal(c.status("c", 1, "a"), "read", "receipts never move back");
});

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

test("md5: the Content-MD5 of multipart parts matches node:crypto at every padding edge", async () => {
  const { createHash } = await import("node:crypto");
  const { contentMD5 } = await import("../dist/index.js");
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 70_001]) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
    assert.equal(contentMD5(b), createHash("md5").update(b).digest("base64"), `length ${n}`);
    assert.equal(contentMD5(b.subarray(1)), createHash("md5").update(b.subarray(1)).digest("base64"), `offset view, length ${n - 1}`);
  }
});

test("message cache: a tombstone never comes back, an older edit never wins, same state is no change", () => {
  const c = new MessageCache();
  const base = { id: "m", conversation_id: "c", seq: 1, client_id: "x", sender_id: "a", body: "v1", attachments: [], created_at: "2026-01-01T00:00:00Z", kind: "text", mentions: [], reactions: [] };
  assert.ok(c.add(base));
  const v3 = { ...base, body: "v3", edited_at: "2026-01-01T00:00:03Z" };
  const v2 = { ...base, body: "v2", edited_at: "2026-01-01T00:00:02Z" };
  assert.equal(c.update(v3).body, "v3");
  assert.equal(c.update(v2), null, "an older edit arriving late");
  assert.equal(c.update({ ...v3 }), null, "the same state again");
  assert.equal(c.setReactions("c", 1, [{ emoji: "👍", count: 1, user_ids: ["b"], me: false }]).reactions.length, 1);
  const tomb = { ...base, body: "", deleted_at: "2026-01-01T00:00:04Z" };
  assert.equal(c.update(tomb).deleted_at, tomb.deleted_at);
  assert.equal(c.update(v3), null, "an edit frame after the tombstone");
  assert.equal(c.setReactions("c", 1, [{ emoji: "👍", count: 1, user_ids: ["b"], me: false }]), null, "no reactions on a tombstone");
  assert.equal(c.get("c", 1).body, "");
});
