// Test support: build the parley binary once and start a real `parley dev`
// on a free port with a fresh data dir. Used by the SDK tests and the
// browser tests; never mocks the server.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * parleyBinary returns PARLEY_BIN when set (make web-test builds it once),
 * else builds ./cmd/parley into a temp dir (once per process).
 */
let built;
export function parleyBinary() {
  if (process.env.PARLEY_BIN) return process.env.PARLEY_BIN;
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), "parley-bin-"));
  const out = join(dir, "parley");
  execFileSync("go", ["build", "-o", out, "./cmd/parley"], { cwd: repo, stdio: ["ignore", "inherit", "inherit"] });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  built = out;
  return out;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * startParley runs `parley dev` and resolves once it listens. env adds
 * PARLEY_* settings (the auth rate limit is off: tests register many users
 * from one IP). o.dataDir runs it on an existing data dir (SQLite, blobs,
 * secrets), which stop() then leaves in place.
 */
export async function startParley(env = {}, o = {}) {
  const bin = parleyBinary();
  if (!existsSync(bin)) throw new Error(`parley binary ${bin} is missing`);
  const port = await freePort();
  const data = o.dataDir ?? mkdtempSync(join(tmpdir(), "parley-data-"));
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ["dev", "-addr", `127.0.0.1:${port}`, "-data", data, "-log-level", "warn"], {
    env: { ...process.env, PARLEY_AUTH_PER_MINUTE: "-1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stderr.on("data", (b) => {
    log += b;
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`parley dev did not start in 60 s:\n${log}`)), 60_000);
    let out = "";
    proc.stdout.on("data", (b) => {
      out += b;
      if (out.includes("listening on")) {
        clearTimeout(timer);
        res();
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`parley dev exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    port,
    dataDir: data,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => {
          const t = setTimeout(() => {
            proc.kill("SIGKILL");
            r();
          }, 10_000);
          proc.on("exit", () => {
            clearTimeout(t);
            r();
          });
        });
      }
      if (!o.dataDir) rmSync(data, { recursive: true, force: true });
    },
  };
}

/** waitFor polls fn until it returns a truthy value or timeoutMs passes. */
export async function waitFor(fn, timeoutMs = 10_000, what = "condition") {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let userSeq = 0;
/** uniqueName makes a valid username unique within the run. */
export function uniqueName(prefix) {
  return `${prefix}${process.pid % 10000}_${++userSeq}_${Math.floor(Math.random() * 1e4)}`.slice(0, 32);
}
