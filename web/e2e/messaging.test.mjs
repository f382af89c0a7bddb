// Browser test of edits, deletes, reactions, replies and system messages in
// the web client: Debian's Chromium driven by playwright-core against a real
// `parley dev`. Alice makes a group with Bob and Carol; Bob sees who created
// it, replies; Alice edits her message from its menu (Bob sees it edited,
// his quote too), both react and toggle, Alice deletes it (Bob sees a
// tombstone), adds Dan (Bob sees "Alice added Dan"), and changes made
// while Bob is offline reach him when he is back. Screenshots go to
// web/test-results/screenshots (gitignored).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startParley, uniqueName } from "../testing/server.mjs";

const shots = join(dirname(fileURLToPath(import.meta.url)), "..", "test-results", "screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

let server;
let browser;
before(async () => {
  mkdirSync(shots, { recursive: true });
  // Multipart above 6 MiB in 5 MiB parts, so an 11 MiB file is resumable.
  server = await startParley({ PARLEY_MULTIPART_THRESHOLD: String(6 << 20), PARLEY_UPLOAD_PART_SIZE: String(5 << 20) });
  const index = await fetch(`${server.url}/`);
  assert.equal(index.status, 200, "parley was built without the web client: run `make web` before building it");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signUpInBrowser(name) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(server.url);
  const username = uniqueName(name);
  await page.getByRole("button", { name: "New here? Create an account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(name[0].toUpperCase() + name.slice(1));
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("status").filter({ hasText: "Online" }).waitFor();
  return { context, page, username, errors };
}

async function signUpOverHTTP(name) {
  const username = uniqueName(name);
  const res = await fetch(`${server.url}/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: "correct horse battery", display_name: name[0].toUpperCase() + name.slice(1) }),
  });
  assert.equal(res.status, 201);
  return { username, id: (await res.json()).user.id };
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });
const compose = (p) => p.getByRole("textbox", { name: "Message" });
const bySeq = (page, seq) => page.locator(`li.msg[data-seq="${seq}"]`);

test("edit, delete and react in the UI; system messages and reply quotes", { timeout: 180_000 }, async () => {
  const alice = await signUpInBrowser("alice");
  const bob = await signUpInBrowser("bob");
  const carol = await signUpOverHTTP("carol");
  const dan = await signUpOverHTTP("dan");

  // Alice makes a group; Bob sees who created it.
  await alice.page.getByRole("button", { name: "New", exact: true }).click();
  await alice.page.getByLabel("Usernames").fill(`${bob.username} ${carol.username}`);
  await alice.page.getByLabel("Group title").fill("Crag crew");
  await alice.page.getByRole("button", { name: "Start" }).click();
  await alice.page.getByRole("heading", { name: "Crag crew" }).waitFor();
  await compose(alice.page).fill("Meet at 7?");
  await compose(alice.page).press("Enter");
  const aliceMsg = alice.page.locator("li.msg.mine", { hasText: "Meet at 7?" });
  await aliceMsg.and(alice.page.locator("[data-seq]")).waitFor();
  const seq = await aliceMsg.getAttribute("data-seq");

  await bob.page.locator(".conv", { hasText: "Crag crew" }).click();
  await bob.page.locator("li.msg.system", { hasText: "Alice created “Crag crew” with you and Carol" }).waitFor();
  await bySeq(bob.page, seq).filter({ hasText: "Meet at 7?" }).waitFor();
  // Bob may not edit or delete Alice's message: no menu on it.
  assert.equal(await bySeq(bob.page, seq).getByRole("button", { name: /^More actions/ }).count(), 0, "no edit/delete menu on others' messages");

  // Bob replies; the quote shows Alice's words.
  await bySeq(bob.page, seq).getByRole("button", { name: /^Reply/ }).click();
  await compose(bob.page).fill("Works for me");
  await compose(bob.page).press("Enter");
  const reply = alice.page.locator("li.msg.theirs", { hasText: "Works for me" });
  await reply.locator("blockquote", { hasText: "You: Meet at 7?" }).waitFor();
  const bobReply = bob.page.locator("li.msg.mine", { hasText: "Works for me" });

  // Alice edits from the message's menu; Bob sees it edited, his quote too.
  await bySeq(alice.page, seq).getByRole("button", { name: /^More actions/ }).click();
  await alice.page.getByRole("menuitem", { name: "Edit" }).click();
  const editor = bySeq(alice.page, seq).getByRole("textbox", { name: "Edit message" });
  await editor.fill("Meet at 8?");
  await shot(alice.page, "m01-editing");
  await bySeq(alice.page, seq).getByRole("button", { name: "Save" }).click();
  await bySeq(alice.page, seq).filter({ hasText: "Meet at 8?" }).locator(".edited").waitFor();
  await bySeq(bob.page, seq).filter({ hasText: "Meet at 8?" }).locator(".edited", { hasText: "edited" }).waitFor();
  await bobReply.locator("blockquote", { hasText: "Alice: Meet at 8?" }).waitFor();
  await shot(bob.page, "m02-edited");

  // Reactions: Bob picks 👍, Alice sees it and toggles hers on and off.
  await bySeq(bob.page, seq).getByRole("button", { name: /^React/ }).click();
  await bob.page.getByRole("button", { name: "React 👍" }).click();
  await bySeq(bob.page, seq).locator("button.reaction[aria-pressed=true]", { hasText: "👍 1" }).waitFor();
  const aliceChip = bySeq(alice.page, seq).locator("button.reaction", { hasText: "👍" });
  await aliceChip.and(alice.page.locator("[aria-pressed=false]")).filter({ hasText: "1" }).waitFor();
  await aliceChip.click();
  await aliceChip.and(alice.page.locator("[aria-pressed=true]")).filter({ hasText: "2" }).waitFor();
  await bySeq(bob.page, seq).locator("button.reaction", { hasText: "👍 2" }).waitFor();
  await shot(bob.page, "m03-reactions");
  await aliceChip.click();
  await aliceChip.and(alice.page.locator("[aria-pressed=false]")).filter({ hasText: "1" }).waitFor();
  await bySeq(bob.page, seq).locator("button.reaction[aria-pressed=true]", { hasText: "👍 1" }).waitFor();

  // Alice deletes it: Bob sees a tombstone, and his quote says so.
  await bySeq(alice.page, seq).getByRole("button", { name: /^More actions/ }).click();
  await alice.page.getByRole("menuitem", { name: "Delete" }).click();
  await bySeq(alice.page, seq).getByRole("button", { name: "Delete", exact: true }).click();
  await bySeq(alice.page, seq).filter({ hasText: "Message deleted" }).waitFor();
  await bySeq(bob.page, seq).filter({ hasText: "Message deleted" }).waitFor();
  assert.equal(await bySeq(bob.page, seq).filter({ hasText: "Meet at 8?" }).count(), 0, "the body is gone");
  assert.equal(await bySeq(bob.page, seq).locator("button.reaction").count(), 0, "and its reactions");
  await bobReply.locator("blockquote", { hasText: "Message deleted" }).waitFor();
  await shot(bob.page, "m04-deleted");

  // Alice adds Dan (owners add members): a system message for everyone.
  await alice.page.evaluate(async ({ path, id }) => {
    const s = JSON.parse(localStorage.getItem("parley.session"));
    const res = await fetch(path, { method: "POST", headers: { Authorization: `Bearer ${s.accessToken}`, "Content-Type": "application/json" }, body: JSON.stringify({ user_ids: [id] }) });
    if (!res.ok) throw new Error(`add member: ${res.status}`);
  }, { path: `/v1/conversations/${await alice.page.locator("[data-conv-id].active").getAttribute("data-conv-id")}/members`, id: dan.id });
  await bob.page.locator("li.msg.system", { hasText: "Alice added Dan" }).waitFor();

  // Offline: Alice edits and reacts while Bob is away; sync brings both.
  await compose(alice.page).fill("Bring rope");
  await compose(alice.page).press("Enter");
  const rope = bob.page.locator("li.msg.theirs", { hasText: "Bring rope" });
  await rope.waitFor();
  const ropeSeq = await rope.getAttribute("data-seq");
  await bob.context.setOffline(true);
  await bob.page.getByRole("status").filter({ hasNotText: "Online" }).waitFor();
  await bySeq(alice.page, ropeSeq).getByRole("button", { name: /^More actions/ }).click();
  await alice.page.getByRole("menuitem", { name: "Edit" }).click();
  await bySeq(alice.page, ropeSeq).getByRole("textbox", { name: "Edit message" }).fill("Bring two ropes");
  await bySeq(alice.page, ropeSeq).getByRole("textbox", { name: "Edit message" }).press("Enter");
  await bySeq(alice.page, ropeSeq).filter({ hasText: "Bring two ropes" }).waitFor();
  await bySeq(alice.page, ropeSeq).getByRole("button", { name: /^React/ }).click();
  await alice.page.getByRole("button", { name: "React 🎉" }).click();
  await bySeq(alice.page, ropeSeq).locator("button.reaction", { hasText: "🎉 1" }).waitFor();
  await alice.page.waitForTimeout(500);
  assert.equal(await bySeq(bob.page, ropeSeq).filter({ hasText: "Bring two ropes" }).count(), 0, "nothing reached Bob while offline");
  await bob.context.setOffline(false);
  await bySeq(bob.page, ropeSeq).filter({ hasText: "Bring two ropes" }).locator(".edited").waitFor({ timeout: 30_000 });
  await bySeq(bob.page, ropeSeq).locator("button.reaction[aria-pressed=false]", { hasText: "🎉 1" }).waitFor();
  await shot(bob.page, "m05-after-offline");

  // A large file goes up in parts, each PUT with its Content-MD5; the
  // network drops part 2 once and only what is missing is sent again.
  const size = 11 * (1 << 20) + 5;
  const big = Buffer.alloc(size);
  for (let i = 0; i < size; i++) big[i] = (i * 2654435761) >>> 24;
  const parts = [];
  alice.page.on("request", (r) => {
    const u = new URL(r.url());
    if (r.method() === "PUT" && u.searchParams.has("partNumber")) parts.push({ n: Number(u.searchParams.get("partNumber")), md5: r.headers()["content-md5"] });
  });
  let cut = false;
  await alice.page.route((u) => u.searchParams.get("partNumber") === "2", async (route) => {
    if (cut) return route.continue();
    cut = true;
    await route.abort("connectionreset");
  });
  await alice.page.setInputFiles("#attach", { name: "topo.bin", mimeType: "application/octet-stream", buffer: big });
  await bob.page.locator("p.att-file[data-att-status]", { hasText: "topo.bin" }).waitFor({ timeout: 60_000 });
  const { createHash } = await import("node:crypto");
  const md5 = (b) => createHash("md5").update(b).digest("base64");
  assert.deepEqual(parts.map((p) => p.n), [1, 2, 2, 3], "part 2 again, nothing else twice");
  for (const p of parts) assert.equal(p.md5, md5(big.subarray((p.n - 1) * (5 << 20), Math.min(size, p.n * (5 << 20)))), `Content-MD5 of part ${p.n}`);
  await shot(bob.page, "m06-large-file");

  assert.deepEqual(alice.errors.filter((e) => !/ERR_CONNECTION_RESET|ERR_FAILED/.test(e)), [], "alice: no page errors");
  assert.deepEqual(bob.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(e)), [], "bob: no page errors");
});
