#!/usr/bin/env node
// `pnpm --filter @optout/sync dev` (and root `pnpm dev`): runs `optout-sync run` against the local
// edge with zero setup. EDGE_URL defaults to http://127.0.0.1:${EDGE_PORT:-8787}; SYNC_TOKEN
// comes from the environment, else ../edge/.dev.vars, else ../edge/.dev.vars.example; the
// database is PGlite under ./.data unless DATABASE_URL is set. It waits quietly for the edge's
// /health first, since both start together.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const edgeUrl = (process.env.EDGE_URL || `http://127.0.0.1:${process.env.EDGE_PORT || "8787"}`).replace(
  /\/+$/,
  "",
);

// Under root `pnpm dev`: say who to stop on Ctrl-C (this process, which becomes the daemon).
if (process.env.OPTOUT_DEV_STATE_DIR) {
  const pidFile = join(process.env.OPTOUT_DEV_STATE_DIR, "sync.pid");
  writeFileSync(pidFile, String(process.pid));
  process.on("exit", () => rmSync(pidFile, { force: true }));
}

let stopping = false;
const stop = () => {
  stopping = true;
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

async function healthy() {
  try {
    const res = await fetch(`${edgeUrl}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

const started = Date.now();
let lastNotice = 0;
while (!(await healthy())) {
  if (stopping) process.exit(0);
  if (Date.now() - lastNotice > 30_000) {
    const waited = lastNotice ? ` (${Math.round((Date.now() - started) / 1000)} s so far)` : "";
    console.error(`optout-sync dev: waiting for the edge at ${edgeUrl}/health${waited}`);
    lastNotice = Date.now();
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/** Reads KEY=value from a dotenv-style file (the edge's .dev.vars). */
function readVar(path, key) {
  if (!existsSync(path)) return undefined;
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] === key) return m[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return undefined;
}

const token =
  process.env.SYNC_TOKEN ||
  readVar(here("../../edge/.dev.vars"), "SYNC_TOKEN") ||
  readVar(here("../../edge/.dev.vars.example"), "SYNC_TOKEN");
if (!token) {
  console.error("optout-sync dev: no SYNC_TOKEN in the environment or in apps/edge/.dev.vars(.example)");
  process.exit(2);
}

process.env.EDGE_URL = edgeUrl;
process.env.SYNC_TOKEN = token;
process.off("SIGINT", stop);
process.off("SIGTERM", stop);
// Same process, so Ctrl-C reaches the daemon once and it shuts down gracefully.
// The sources through tsx, so `pnpm dev` needs no build and picks up every change on restart.
process.argv = [process.argv[0], here("./optout-sync-src.mjs"), "run"];
await import("./optout-sync-src.mjs");
