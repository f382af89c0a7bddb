// build.mjs bundles the web client into ../dist (embedded by web/embed.go):
// index.html plus content-hashed JS and CSS under assets/. esbuild does the
// TypeScript, JSX and bundling; no other build step.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist");
for (const f of readdirSync(out, { withFileTypes: true })) {
  if (f.name !== "README.md") rmSync(join(out, f.name), { recursive: true, force: true });
}
mkdirSync(join(out, "assets"), { recursive: true });

const result = await build({
  entryPoints: [join(here, "src/main.tsx"), join(here, "src/style.css")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  alias: {
    "@parley/client/browser": join(here, "../sdk/src/browser.ts"),
    "@parley/client": join(here, "../sdk/src/index.ts"),
  },
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((n) => /^main-.*\.js$/.test(n));
const css = outputs.find((n) => /^style-.*\.css$/.test(n));
const html = readFileSync(join(here, "index.html"), "utf8").replace("%JS%", `/assets/${js}`).replace("%CSS%", `/assets/${css}`);
writeFileSync(join(out, "index.html"), html);
console.log(`web: built ${js}, ${css} into ${out}`);
