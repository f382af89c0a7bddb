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
