#!/usr/bin/env node
// `pnpm --filter @optout/edge dev` (and root `pnpm dev`): the edge under `wrangler dev` on
// 127.0.0.1:${EDGE_PORT:-8787} (its DevTools inspector on ${INSPECTOR_PORT:-9229}) with local D1
// (migrations applied) and local KV, a demo account seeded once, and its API key printed with
// example curl commands — as the last thing, after everything else has started. Under root
// `pnpm dev` (scripts/dev.mjs there) the welcome goes to OPTOUT_DEV_WELCOME_FILE instead, and that
// script prints it once the sync daemon is up too. Extra CLI arguments go to `wrangler dev` (e.g.
// `pnpm --filter @optout/edge dev --test-scheduled`).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const wrangler = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);
const port = process.env.EDGE_PORT || "8787";
const inspectorPort = process.env.INSPECTOR_PORT || "9229";
const welcomeFile = process.env.OPTOUT_DEV_WELCOME_FILE;
// Under root `pnpm dev`: say who to stop on Ctrl-C (this process, not the `pnpm run` around it).
const underRoot = Boolean(process.env.OPTOUT_DEV_STATE_DIR);
if (underRoot) {
  const pidFile = join(process.env.OPTOUT_DEV_STATE_DIR, "edge.pid");
  writeFileSync(pidFile, String(process.pid));
  process.on("exit", () => rmSync(pidFile, { force: true }));
}
const base = `http://127.0.0.1:${port}`;
const demoFile = join(root, ".wrangler", "demo-account.json");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

const say = (line) => console.log(`[edge dev] ${line}`);

// 1. Secrets: .dev.vars (git-ignored) from the committed example, once; a .dev.vars made by an
// older version gets the variables the example has gained since (its own values are kept).
const devVars = join(root, ".dev.vars");
const example = join(root, ".dev.vars.example");
if (!existsSync(devVars)) {
  copyFileSync(example, devVars);
  say("created .dev.vars from .dev.vars.example (local-only tokens; edit freely)");
} else {
  const names = (text) => new Set([...text.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const have = names(readFileSync(devVars, "utf8"));
  const missing = readFileSync(example, "utf8")
    .split("\n")
    .filter((line) => /^[A-Z0-9_]+=/.test(line) && !have.has(line.split("=")[0]));
  if (missing.length > 0) {
    const current = readFileSync(devVars, "utf8");
    writeFileSync(devVars, `${current}${current.endsWith("\n") ? "" : "\n"}${missing.join("\n")}\n`);
    say(`added ${missing.map((l) => l.split("=")[0]).join(", ")} to .dev.vars from .dev.vars.example`);
  }
}

// 2. Local D1 schema. CI=1 keeps wrangler from asking for confirmation. Its output (a table per
// migration) is shown only when it fails, or with VERBOSE_LOGS=1; otherwise one line says what changed.
const migrate = spawnSync(process.execPath, [wrangler, "d1", "migrations", "apply", "DB", "--local"], {
  cwd: root,
  env: { ...env, CI: "1" },
  encoding: "utf8",
  stdio: ["ignore", "pipe", "pipe"],
});
if (migrate.status !== 0 || process.env.VERBOSE_LOGS) {
  process.stdout.write(migrate.stdout ?? "");
  process.stderr.write(migrate.stderr ?? "");
}
if (migrate.status !== 0) {
  say("applying D1 migrations failed");
  process.exit(migrate.status ?? 1);
}
const applied = /About to apply (\d+) migration/.exec(`${migrate.stdout}${migrate.stderr}`)?.[1];
say(applied ? `local D1: applied ${applied} migration(s)` : "local D1: schema up to date");

// 3. The OpenAPI document the Worker serves (assets/openapi.json), rebuilt from the routes as they
// are now: a route edited since the last commit shows in /docs. Not rebuilt while wrangler runs.
const openapi = spawnSync(
  process.execPath,
  ["--import", "tsx", "--import", "./scripts/cloudflare-workers-stub.mjs", "scripts/openapi.ts"],
  { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
);
if (openapi.status !== 0) {
  say("building the OpenAPI document failed (above)");
  process.exit(openapi.status ?? 1);
}
say(`OpenAPI document: ${openapi.stdout.trim()}`);

// 4. wrangler dev, with every extra argument passed through.
const child = spawn(
  process.execPath,
  [
    wrangler,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    port,
    "--inspector-port",
    inspectorPort,
    ...process.argv.slice(2),
  ],
  // Under root `pnpm dev` a Ctrl-C reaches only this process (scripts/dev.mjs there signals it), so
  // wrangler gets its own process group and the whole group is signalled, as a terminal would:
  // wrangler's esbuild service panics when wrangler exits under it. Alone, in a terminal, wrangler
  // stays in the foreground group (its hotkeys read the terminal) and Ctrl-C reaches it directly.
  { cwd: root, env, stdio: [underRoot ? "ignore" : "inherit", "pipe", "pipe"], detached: underRoot },
);
const signalWrangler = (signal) => {
  try {
    if (underRoot) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {} // already gone
};
// The sync daemon (root `pnpm dev`) polls the change feed every second; its successful polls
// would bury everything else, so they are not shown. VERBOSE_LOGS=1 shows every line.
const isFeedPoll = (line) =>
  /GET \/v1\/changes(\?\S*)? 200\b/.test(line) || /"route":"\/v1\/changes","status":200\b/.test(line);
for (const [from, to] of [
  [child.stdout, process.stdout],
  [child.stderr, process.stderr],
]) {
  let rest = "";
  from.setEncoding("utf8");
  from.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (process.env.VERBOSE_LOGS || !isFeedPoll(line)) to.write(`${line}\n`);
  });
  from.on("end", () => rest && to.write(rest));
}
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    stopping = true;
    signalWrangler(signal);
  });
}
// Stopped on purpose (Ctrl-C, turbo stopping its tasks): exit 0 whatever wrangler answers.
child.on("exit", (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 0 : 1))));

// 5. Wait for /health, then seed and print.
const deadline = Date.now() + 120_000;
while (!(await healthy())) {
  if (stopping) await new Promise(() => {}); // the child's exit ends the process
  if (Date.now() > deadline) {
    say(`no answer from ${base}/health after 120 s`);
    signalWrangler("SIGTERM");
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
}

try {
  const account = await demoAccount();
  printWelcome(account);
} catch (err) {
  say(`could not seed the demo account: ${err.message}`);
}

async function healthy() {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Reuses the saved demo account while its key still authenticates; else creates a new one. */
async function demoAccount() {
  if (existsSync(demoFile)) {
    const saved = JSON.parse(readFileSync(demoFile, "utf8"));
    const res = await fetch(`${base}/v1/blocklist?limit=1`, {
      headers: { authorization: `Bearer ${saved.apiKey}` },
    });
    if (res.ok) return saved;
    say("the saved demo key no longer authenticates (local state reset?); creating a new demo account");
  }
  const adminToken = readVar(devVars, "ADMIN_TOKEN");
  if (!adminToken) throw new Error("ADMIN_TOKEN is missing from .dev.vars");
  const res = await fetch(`${base}/v1/accounts`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Demo", defaultRegion: "US" }),
  });
  if (res.status !== 201) throw new Error(`POST /v1/accounts answered ${res.status}: ${await res.text()}`);
  const account = await res.json();
  mkdirSync(dirname(demoFile), { recursive: true });
  writeFileSync(demoFile, `${JSON.stringify(account, null, 2)}\n`, { mode: 0o600 });
  return account;
}

function readVar(path, key) {
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] === key) return m[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return undefined;
}

function printWelcome(account) {
  const key = account.apiKey;
  const text = `
[edge dev] optout edge is up at ${base}  (API reference: ${base}/docs)
[edge dev] demo account ${account.id}, API key (saved in .wrangler/demo-account.json):

    ${key}

[edge dev] block an address for every sender of the account:

    curl -s -X POST ${base}/v1/blocklist -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -d '{"address":"+14155550123"}'

[edge dev] check whether sender ACME may text it:

    curl -s '${base}/v1/check?address=%2B14155550123&sender=ACME&channel=sms' -H 'Authorization: Bearer ${key}'
`;
  if (!welcomeFile) {
    // Alone: let wrangler's request lines for the seeding go first, so the key is the last thing shown.
    setTimeout(() => console.log(text), 500);
    return;
  }
  writeFileSync(welcomeFile, text, { mode: 0o600 });
  say(`demo account ${account.id} ready; its key follows once everything is up`);
}
