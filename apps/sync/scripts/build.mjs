#!/usr/bin/env node
// `pnpm --filter @optout/sync build` (and root `pnpm build`): compiles the daemon to JavaScript in
// dist/, so `bin/optout-sync.mjs` runs without a TypeScript loader.
//
// One esbuild bundle from src/cli.ts, split at its dynamic imports (each command still loads only
// what it needs; help answers without loading the drivers). Every command module is reached from
// cli.ts, so a new command compiles with no change here. Bundled in: the workspace's
// @optout/core, from its TypeScript sources (so core needs no build first), and core's own
// third-party dependencies. Left as imports: this package's `dependencies` (drivers, PGlite's
// WebAssembly, pino), which `pnpm deploy --prod` installs beside dist/. That is why @optout/core
// is a devDependency: pnpm deploy copies a workspace dependency as its `files` but keeps its
// workspace `exports` (core's point at src/*.ts, not shipped), so an unbundled core would not
// load from the deploy folder.
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));
const outdir = `${root}/dist`;

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ["src/cli.ts"],
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // A bare import of one of these (or a subpath, e.g. drizzle-orm/pglite) stays an import.
  external: Object.keys(pkg.dependencies ?? {}),
  // bin/optout-sync.mjs enables source maps: stack traces name src/*.ts lines.
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"));
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`@optout/sync: dist/ (${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB)`);
