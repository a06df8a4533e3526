#!/usr/bin/env node
// CI (after `pnpm build`): the sync daemon as an operator installs it. Makes the standalone folder
// `pnpm --filter @optout/sync deploy --prod` gives (what deploy/Dockerfile copies into its image)
// in a temp directory, far from the workspace's node_modules, checks what is in it (the compiled
// dist/, the migrations; no sources, no TypeScript loader), and runs its bin there:
//   - `optout-sync --help`;
//   - `optout-sync block` then `once` against a stand-in edge (an HTTP server answering
//     /v1/changes with an empty page and /v1/sync/apply in the edge's wire format), on PGlite —
//     and on PostgreSQL too when DATABASE_URL is set (a scratch database, dropped after);
//   - `optout-sync run` until its /ready answers 200 (the image's HEALTHCHECK), then SIGTERM: exit 0.
// Anything missing fails the run with a message that says what. About 15-25 s.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).packageManager.split(
  "@",
)[1];
const TOKEN = "check-deploy-sync-token";
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), "optout-deploy-check-"));
const app = join(work, "optout-sync");
const children = new Set();
let failed = false;

const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (line) => console.log(`check-deploy: ${line} (${elapsed()})`);

function fail(message) {
  console.error(`check-deploy: ${message}`);
  failed = true;
}

// 1. The deploy folder. dist/ comes from `pnpm build`; built here if this runs alone.
if (!existsSync(join(ROOT, "apps/sync/dist/cli.js"))) {
  say("apps/sync/dist is missing; building it");
  execFileSync(process.execPath, ["apps/sync/scripts/build.mjs"], { cwd: ROOT, stdio: "inherit" });
}
try {
  execFileSync("npx", ["-y", `pnpm@${PNPM_VERSION}`, "--filter", "@optout/sync", "deploy", "--prod", app], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
} catch (error) {
  console.error(`${error.stdout ?? ""}${error.stderr ?? ""}`);
  console.error("check-deploy: `pnpm --filter @optout/sync deploy --prod` failed");
  process.exit(1);
}
say(`deployed @optout/sync to ${app}`);

for (const file of ["bin/optout-sync.mjs", "dist/cli.js", "drizzle/meta/_journal.json", "LICENSE"]) {
  if (!existsSync(join(app, file))) fail(`the deploy folder has no ${file}`);
}
for (const absent of ["src", "test", "node_modules/tsx", "node_modules/typescript", "node_modules/@optout"]) {
  if (existsSync(join(app, absent))) fail(`the deploy folder has ${absent}: it should not`);
}
const bundled = readdirSync(join(app, "dist")).filter((f) => f.endsWith(".js"));
for (const file of bundled) {
  const text = readFileSync(join(app, "dist", file), "utf8");
  const loader = /from "(tsx[^"]*|@optout\/[^"]*)"|import\("(tsx|@optout\/)/.exec(text);
  if (loader) fail(`dist/${file} imports ${loader[1] ?? loader[2]}: the daemon must run without it`);
}

// 2. A stand-in edge: the two routes `once` and `run` call, in the edge's wire format.
const seen = [];
const edge = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://edge");
  seen.push(`${req.method} ${url.pathname}${url.search}`);
  const json = (status, body) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (url.pathname === "/health") return json(200, { ok: true });
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    return json(401, { error: { code: "unauthorized", message: "bad token", requestId: "check" } });
  }
  if (req.method === "GET" && url.pathname === "/v1/changes") {
    return json(200, { changes: [], next: url.searchParams.get("after") ?? "0", hasMore: false });
  }
  if (req.method === "POST" && url.pathname === "/v1/sync/apply") {
    let body = "";
    req.setEncoding("utf8").on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const { changes } = JSON.parse(body);
      json(200, { results: changes.map((c, i) => ({ id: c.id, seq: 1000 + i, applied: true })) });
    });
    return;
  }
  json(404, { error: { code: "not_found", message: "no such route", requestId: "check" } });
});
await new Promise((resolve) => edge.listen(0, "127.0.0.1", resolve));
const edgeUrl = `http://127.0.0.1:${edge.address().port}`;

/** Runs the deployed bin from the deploy folder with only the environment given. */
function optoutSync(args, env, { timeoutMs = 60_000 } = {}) {
  const child = spawn(process.execPath, [join(app, "bin/optout-sync.mjs"), ...args], {
    cwd: app,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, exited };
}

function expectRun(what, result, { code = 0, stdout } = {}) {
  const show = `\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
  if (result.code !== code)
    return fail(`${what}: exit ${result.code ?? result.signal}, expected ${code}${show}`);
  if (stdout && !stdout.test(result.stdout)) return fail(`${what}: stdout does not match ${stdout}${show}`);
  say(`${what}: ok`);
}

try {
  // 3. --help.
  expectRun("optout-sync --help", await optoutSync(["--help"], {}).exited, {
    stdout: /Usage: optout-sync <command>[\s\S]*once/,
  });

  // 4. block + once, on every database at hand.
  const databases = [{ name: "PGlite", env: { SYNC_DATA_DIR: join(work, "data") } }];
  let dropScratch;
  if (process.env.DATABASE_URL) {
    // The deployed folder's own driver makes the scratch database: one more proof it loads.
    const pg = createRequire(join(app, "package.json"))("pg");
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    const name = `optout_check_deploy_${process.pid}`;
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databases.push({ name: "PostgreSQL", env: { DATABASE_URL: url.href } });
    dropScratch = async () => {
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end();
    };
  }
  try {
    for (const { name, env } of databases) {
      const base = { ...env, EDGE_URL: edgeUrl, SYNC_TOKEN: TOKEN, HTTP_PORT: "0" };
      const block = await optoutSync(
        ["block", "--account", "acc_check", "--address", "+1 415 555 0100", "--channel", "sms"],
        base,
      ).exited;
      expectRun(`optout-sync block (${name})`, block);
      const before = seen.length;
      const once = await optoutSync(["once"], base).exited;
      expectRun(`optout-sync once (${name})`, once, {
        stdout: /^pushed 1 outbox change\(s\); applied 0 change\(s\) in 0 batch\(es\); cursor at seq 0\n$/,
      });
      const calls = seen.slice(before);
      for (const call of ["POST /v1/sync/apply", "GET /v1/changes?after=0&limit=1000"]) {
        if (!calls.includes(call))
          fail(`once (${name}) never asked the edge for ${call} (it asked: ${calls.join(", ")})`);
      }
    }
  } finally {
    await dropScratch?.();
  }

  // 5. run until /ready, then SIGTERM: what the container's HEALTHCHECK and `docker stop` do.
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const run = optoutSync(["run"], {
    SYNC_DATA_DIR: join(work, "data"),
    EDGE_URL: edgeUrl,
    SYNC_TOKEN: TOKEN,
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: String(port),
  });
  let ready = false;
  const deadline = Date.now() + 30_000;
  while (!ready && Date.now() < deadline && run.child.exitCode === null) {
    ready = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!ready) fail(`optout-sync run: /ready on port ${port} did not answer 200 within 30 s`);
  else say("optout-sync run: /ready answers 200");
  run.child.kill("SIGTERM");
  expectRun("optout-sync run, then SIGTERM", await run.exited);
} finally {
  for (const child of children) child.kill("SIGKILL");
  edge.close();
  if (failed) console.error(`check-deploy: the deploy folder is kept for a look: ${app}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failed) process.exit(1);
say("the deploy folder runs optout-sync");
