// Browser tests: Debian's Chromium driven by playwright-core (no browser
// downloads) against a real `parley dev` serving the built web client.
// Two users in two browser contexts chat both ways (statuses reach read,
// typing shows), share a photo (blurhash, then preview, without reload)
// and a voice note (recorded with MediaRecorder from Chromium's fake
// microphone, then played), and one goes offline, writes, comes back and
// the message is delivered once. Screenshots of each step go to
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
  server = await startParley();
  const index = await fetch(`${server.url}/`);
  assert.equal(index.status, 200, "parley was built without the web client: run `make web` before building it");
  // playwright-core starts Chromium with a fresh temporary --user-data-dir.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
    ],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function user(name) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 }, permissions: ["microphone"] });
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
  return { context, page, username, errors, submit: () => page.getByRole("button", { name: "Sign up" }).click() };
}

const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`) });
const bubble = (page, text) => page.locator("li.msg", { hasText: text });

test("two users chat, share a photo and a voice note, and survive going offline", { timeout: 180_000 }, async () => {
  const alice = await user("alice");
  const bob = await user("bob");
  await shot(alice.page, "01-sign-up");
  await alice.submit();
  await bob.submit();
  await alice.page.getByRole("status").filter({ hasText: "Online" }).waitFor();
  await bob.page.getByRole("status").filter({ hasText: "Online" }).waitFor();

  // Alice starts a direct conversation with Bob by username.
  await alice.page.getByRole("button", { name: "New", exact: true }).click();
  await alice.page.getByLabel("Usernames").fill(bob.username);
  await alice.page.getByRole("button", { name: "Start" }).click();
  await alice.page.getByRole("heading", { name: "Bob" }).waitFor();
  const compose = (p) => p.getByRole("textbox", { name: "Message" });
  await compose(alice.page).fill("Hi Bob, climbing on Saturday?");
  await compose(alice.page).press("Enter");
  await bubble(alice.page, "Hi Bob").and(alice.page.locator("[data-status=sent], [data-status=delivered]")).waitFor();

  // Bob's list shows the conversation, unread count and presence dot.
  const convButton = bob.page.locator(".conv", { hasText: "Alice" });
  await convButton.locator(".badge", { hasText: "1" }).waitFor();
  await convButton.locator(".dot.online").waitFor();
  await shot(bob.page, "02-list-unread-presence");
  await convButton.click();
  await bubble(bob.page, "Hi Bob").waitFor();
  // Bob opened it: Alice's message reaches read.
  await bubble(alice.page, "Hi Bob").and(alice.page.locator("[data-status=read]")).waitFor();
  await shot(alice.page, "03-status-read");

  // Bob types: after the 500 ms debounce Alice sees the indicator.
  await compose(bob.page).pressSequentially("Sure, 9am at the", { delay: 80 });
  await alice.page.getByText("Bob is typing…").waitFor();
  await shot(alice.page, "04-typing");
  await compose(bob.page).pressSequentially(" gym", { delay: 40 });
  await compose(bob.page).press("Enter");
  await bubble(alice.page, "Sure, 9am at the gym").waitFor();
  await alice.page.getByText("Bob is typing…").waitFor({ state: "hidden" });
  await bubble(bob.page, "Sure, 9am at the gym").and(bob.page.locator("[data-status=read]")).waitFor();

  // Reply to a message.
  await bubble(alice.page, "Sure, 9am").getByRole("button", { name: /^Reply/ }).click();
  await compose(alice.page).fill("Perfect");
  await compose(alice.page).press("Enter");
  await bubble(bob.page, "Perfect").locator("blockquote", { hasText: "Sure, 9am at the gym" }).waitFor();
  await shot(bob.page, "05-reply-and-statuses");

  // Photo: Alice uploads; Bob sees the blurhash drawn, then the preview,
  // without reloading. Bob's preview download is held 2 s so the blurhash
  // stage is observable.
  await bob.page.route("**/v1/attachments/*/preview", async (route) => {
    await new Promise((r) => setTimeout(r, 2000));
    await route.continue();
  });
  const jpeg = Buffer.from(await alice.page.evaluate(async () => {
    const c = document.createElement("canvas");
    c.width = 640;
    c.height = 480;
    const g = c.getContext("2d");
    const grad = g.createLinearGradient(0, 0, 640, 480);
    grad.addColorStop(0, "#f97316");
    grad.addColorStop(0.5, "#22c55e");
    grad.addColorStop(1, "#3b82f6");
    g.fillStyle = grad;
    g.fillRect(0, 0, 640, 480);
    g.fillStyle = "#fff";
    g.beginPath();
    g.arc(320, 240, 120, 0, Math.PI * 2);
    g.fill();
    const blob = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.9));
    return [...new Uint8Array(await blob.arrayBuffer())];
  }));
  await alice.page.setInputFiles("#attach", { name: "crag.jpg", mimeType: "image/jpeg", buffer: jpeg });
  const bobPhoto = bob.page.locator("figure.att-image").last();
  await bobPhoto.locator("canvas.blurhash[data-blurhash=drawn]").waitFor({ timeout: 30_000 });
  await shot(bob.page, "06-photo-blurhash");
  await bobPhoto.locator("img.preview:not(.loading)").waitFor({ timeout: 30_000 });
  assert.ok(await bobPhoto.locator("img.preview").evaluate((img) => img.complete && img.naturalWidth > 0), "the preview image decoded");
  await shot(bob.page, "07-photo-preview");

  // Voice note: Alice records 1.5 s from the fake microphone; Bob plays it.
  await alice.page.getByRole("button", { name: "Record a voice note" }).click();
  await alice.page.getByRole("button", { name: "Stop recording and send" }).waitFor();
  await alice.page.waitForTimeout(1500);
  await alice.page.getByRole("button", { name: "Stop recording and send" }).click();
  const bobVoice = bob.page.locator("figure.att-voice[data-att-status=ready]").last();
  await bobVoice.locator("audio").waitFor({ timeout: 60_000 });
  await bobVoice.locator("canvas.waveform").waitFor();
  const played = await bobVoice.locator("audio").evaluate(async (a) => {
    a.muted = true;
    await a.play();
    await new Promise((r) => setTimeout(r, 700));
    return a.currentTime;
  });
  assert.ok(played > 0.2, `the voice note played ${played} s`);
  await shot(bob.page, "08-voice-note");

  // Offline: Bob's context goes offline, he writes, the message waits as
  // sending; back online it is delivered once.
  await bob.context.setOffline(true);
  await bob.page.getByRole("status").filter({ hasNotText: "Online" }).waitFor();
  await compose(bob.page).fill("written in the tunnel");
  await compose(bob.page).press("Enter");
  await bubble(bob.page, "written in the tunnel").and(bob.page.locator("[data-status=sending]")).waitFor();
  await shot(bob.page, "09-offline-queued");
  await alice.page.waitForTimeout(1000);
  assert.equal(await bubble(alice.page, "written in the tunnel").count(), 0, "nothing reached Alice while Bob was offline");
  await bob.context.setOffline(false);
  await bubble(alice.page, "written in the tunnel").waitFor({ timeout: 30_000 });
  await bubble(bob.page, "written in the tunnel").and(bob.page.locator("[data-status=read]")).waitFor({ timeout: 30_000 });
  await alice.page.waitForTimeout(1000);
  assert.equal(await bubble(alice.page, "written in the tunnel").count(), 1, "delivered once");
  assert.equal(await bubble(bob.page, "written in the tunnel").count(), 1, "shown once to its sender");
  await shot(alice.page, "10-after-reconnect");

  // Phone width: the list or the conversation, one at a time.
  await alice.page.setViewportSize({ width: 390, height: 800 });
  await shot(alice.page, "11-phone-conversation");

  assert.deepEqual(alice.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), [], "alice: no page errors");
  assert.deepEqual(bob.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(e)), [], "bob: no page errors");
});
