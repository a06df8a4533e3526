#!/usr/bin/env node
// `pnpm dev`: the edge (wrangler dev, local D1 and KV) and the sync daemon (PGlite, or
// DATABASE_URL) together, through turbo. Around turbo it does three things:
//   - names every port it will bind, each set by a variable, and stops at once, saying which
//     variable to change, when one is taken;
//   - prints the demo account's key and the example curls last: the edge writes them to a file
//     (OPTOUT_DEV_WELCOME_FILE) instead of printing them, and they are shown once the daemon's
//     /ready answers and the output has settled;
//   - Ctrl-C stops the two dev processes themselves (each announces its pid in
//     OPTOUT_DEV_STATE_DIR), so they, their `pnpm run dev` and turbo all end with exit 0 — no
//     "Command failed" from them. The package scripts say `exec node scripts/dev.mjs`: without
//     `exec`, pnpm's child is `sh -c`, which the terminal's Ctrl-C kills while this script is still
//     shutting down, and pnpm then reports "[ELIFECYCLE] Command failed." although it exited 0.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STATE_DIR = mkdtempSync(join(tmpdir(), "optout-dev-"));
const WELCOME_FILE = join(STATE_DIR, "welcome.txt");
const TURBO = join(dirname(createRequire(import.meta.url).resolve("turbo/package.json")), "bin", "turbo");
const say = (line) => console.log(`[dev] ${line}`);

/** Every port `pnpm dev` binds on 127.0.0.1, with the variable that moves it. */
const PORTS = [
  { env: "EDGE_PORT", fallback: 8787, what: "the edge (wrangler dev)", url: "" },
  { env: "INSPECTOR_PORT", fallback: 9229, what: "the edge's DevTools inspector (chrome://inspect)" },
  { env: "HTTP_PORT", fallback: 9464, what: "the sync daemon's /health, /ready, /metrics", url: "/ready" },
];

const ports = {};
for (const { env, fallback } of PORTS) {
  const raw = process.env[env]?.trim() || String(fallback);
  const port = Number(raw);
  // HTTP_PORT=0 turns the daemon's HTTP server off; the others must be real ports.
  if (!Number.isInteger(port) || port < (env === "HTTP_PORT" ? 0 : 1) || port > 65_535) {
    say(`${env} must be a port number, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  ports[env] = port;
}

function free(port) {
  return new Promise((resolve) => {
    const probe = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
const taken = [];
for (const { env, what } of PORTS) {
  if (ports[env] > 0 && !(await free(ports[env]))) taken.push(`  ${env}=${ports[env]}  ${what}`);
}
if (taken.length > 0) {
  say(`ports in use (another \`pnpm dev\`, or something else):\n${taken.join("\n")}`);
  say("choose others, e.g. EDGE_PORT=8788 INSPECTOR_PORT=9230 HTTP_PORT=9465 pnpm dev");
  process.exit(1);
}
const portLines = PORTS.map(({ env, what, url }) => {
  const at =
    ports[env] === 0
      ? "off"
      : url === undefined
        ? `127.0.0.1:${ports[env]}`
        : `http://127.0.0.1:${ports[env]}${url}`;
  return `  ${`${env}=${ports[env]}`.padEnd(20)} ${what}: ${at}`;
});
say(`ports (each set by its variable):\n${portLines.join("\n")}`);

// turbo in its own process group: a Ctrl-C in the terminal reaches this script only, which stops
// the dev processes directly (below).
const turbo = spawn(
  process.execPath,
  [
    TURBO,
    "run",
    "dev",
    "--ui=stream",
    "--filter=@optout/edge",
    "--filter=@optout/sync",
    ...(process.stdout.isTTY ? ["--color"] : []),
  ],
  {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      EDGE_PORT: String(ports.EDGE_PORT),
      INSPECTOR_PORT: String(ports.INSPECTOR_PORT),
      HTTP_PORT: String(ports.HTTP_PORT),
      OPTOUT_DEV_WELCOME_FILE: WELCOME_FILE,
      OPTOUT_DEV_STATE_DIR: STATE_DIR,
    },
  },
);

let lastOutputAt = Date.now();
for (const [from, to] of [
  [turbo.stdout, process.stdout],
  [turbo.stderr, process.stderr],
]) {
  from.on("data", (chunk) => {
    lastOutputAt = Date.now();
    to.write(chunk);
  });
}

const killTurbo = (signal) => {
  try {
    process.kill(-turbo.pid, signal);
  } catch {} // already gone
};
/** The dev processes that announced themselves (`<name>.pid` in STATE_DIR). */
const devPids = () =>
  readdirSync(STATE_DIR)
    .filter((f) => f.endsWith(".pid"))
    .map((f) => Number(readFileSync(join(STATE_DIR, f), "utf8")))
    .filter((pid) => Number.isInteger(pid) && pid > 0);

let stopping = false;
const stop = (signal) => {
  if (stopping) {
    // A second Ctrl-C: stop waiting for a clean shutdown.
    killTurbo("SIGKILL");
    return;
  }
  stopping = true;
  // Each dev process shuts down gracefully on SIGINT and exits 0, so its `pnpm run dev` and turbo
  // finish as successes. Before they have announced themselves, turbo is told instead.
  const pids = devPids();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGINT");
    } catch {}
  }
  if (pids.length === 0) killTurbo(signal === "SIGINT" ? "SIGINT" : "SIGTERM");
  setTimeout(() => killTurbo("SIGKILL"), 20_000).unref();
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(signal));
turbo.on("exit", (code, signal) => {
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (stopping) {
    say("stopped");
    process.exit(0);
  }
  process.exit(code ?? (signal ? 1 : 0));
});

// The welcome, last: once the edge has seeded the demo account, the daemon is ready, and nothing
// has been printed for a moment.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function ready(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}
while (!stopping && !existsSync(WELCOME_FILE)) await sleep(300);
const syncDeadline = Date.now() + 120_000;
let syncReady = ports.HTTP_PORT === 0;
while (!stopping && !syncReady && Date.now() < syncDeadline) {
  syncReady = await ready(ports.HTTP_PORT);
  if (!syncReady) await sleep(500);
}
const quietDeadline = Date.now() + 10_000;
while (!stopping && Date.now() - lastOutputAt < 1500 && Date.now() < quietDeadline) await sleep(200);
if (!stopping) {
  console.log(`\n[dev] everything is up; Ctrl-C stops it all. Ports:\n${portLines.join("\n")}`);
  if (!syncReady)
    say(`the sync daemon is not ready yet (http://127.0.0.1:${ports.HTTP_PORT}/ready); see its lines above`);
  console.log(readFileSync(WELCOME_FILE, "utf8").trimEnd());
}
