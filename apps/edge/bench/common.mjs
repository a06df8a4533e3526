// What run.mjs (the ceiling scenarios), contention.mjs (contention, latency, burst) and scale.mjs
// (isolation, deadlines, d1-size) share: the build, the migrations, the per-request client address.
// The pools of isolates those groups run are in pool.mjs.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const edgeRoot = fileURLToPath(new URL("..", import.meta.url));
const wranglerBin = join(edgeRoot, "node_modules", "wrangler", "bin", "wrangler.js");

/** Exactly what `wrangler deploy` would upload (`--dry-run --outdir`); `script` overrides `main`. */
export function build(config, outdir, script) {
  const run = spawnSync(
    process.execPath,
    [wranglerBin, "deploy", ...(script ? [script] : []), "--dry-run", "--outdir", outdir, "--config", config],
    { cwd: edgeRoot, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`wrangler build of ${config} failed:\n${run.stdout}\n${run.stderr}`);
  return join(outdir, "index.js");
}

/** The drizzle-kit migrations in `dir`, in order, one batch per file (as `wrangler d1 migrations apply`). */
export async function applyMigrations(db, dir = join(edgeRoot, "migrations")) {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
}

/** A distinct client address per request, from 10/8 (the limiter keys clients by CF-Connecting-IP). */
export function clientIp(i) {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
