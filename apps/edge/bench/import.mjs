#!/usr/bin/env node
// Blocklist import and export at scale: BENCH_IMPORT_ROWS (default 1,000,000) rows of CSV posted
// to POST /v1/blocklist/import as one streamed request, against the production bundle (what
// `wrangler deploy` uploads) in workerd through Miniflare with every binding from wrangler.jsonc
// (D1, KV and the LedgerWriter Durable Object, storage on disk), like the other bench groups; then
// GET /v1/blocklist/export of the whole list, and the export imported again (every row unchanged).
//
//   node bench/import.mjs                     # 1,000,000 rows
//   BENCH_IMPORT_ROWS=100000 node bench/import.mjs
//
// Prints one line per phase with its time and rate; BENCHMARKS.md ("Blocklist import and
// export") records a run.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { build, edgeRoot } from "./common.mjs";
import { edgeConfig, startPools } from "./pool.mjs";

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const say = (line) => console.log(`[bench:import] ${line}`);
const n = (v) => Math.round(v).toLocaleString("en-US");
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const work = mkdtempSync(join(tmpdir(), "optout-bench-import-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** Valid US numbers, all different: area codes × exchanges 420–499 × lines. */
function* phones(count) {
  let i = 0;
  for (const area of ["212", "312", "415", "646", "202"]) {
    for (let exchange = 420; exchange < 500; exchange++) {
      for (let line = 0; line < 10_000; line++) {
        if (i++ >= count) return;
        yield `+1${area}${exchange}${String(line).padStart(4, "0")}`;
      }
    }
  }
}

async function writeFile(path, count) {
  const out = createWriteStream(path);
  out.write("phone_number,channel,scope,reason,date\n");
  let buffer = "";
  let i = 0;
  for (const phone of phones(count)) {
    const scope = i % 10 === 0 ? "sender:ACME" : "account";
    buffer += `${phone},sms,${scope},imported from the old CRM,2026-0${1 + (i % 9)}-15\n`;
    if (++i % 10_000 === 0) {
      if (!out.write(buffer)) await new Promise((r) => out.once("drain", r));
      buffer = "";
    }
  }
  out.write(buffer);
  await new Promise((r) => out.end(r));
  if (i < count) throw new Error(`only ${i} distinct numbers available`);
}

async function sha256File(path) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

const compatibilityDate = /"compatibility_date":\s*"([^"]+)"/.exec(
  readFileSync(join(edgeRoot, "wrangler.jsonc"), "utf8"),
)[1];
const runtime = {
  host: "127.0.0.1",
  port: 0,
  compatibilityDate,
  modules: true,
  handleRuntimeStdio: (o, e) => {
    o.resume();
    e.resume();
    if (process.env.BENCH_DEBUG) {
      o.pipe(process.stdout);
      e.pipe(process.stderr);
    }
  },
};

say(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
say("building the production bundle (wrangler deploy --dry-run)");
const script = build("wrangler.jsonc", join(work, "edge"));
const edge = await edgeConfig();
/**
 * A workerd with the edge; `fresh: false` reopens the storage a previous one left on disk (no
 * migrations). Each phase gets its own: workerd 1.20260426 was seen to crash (SIGSEGV) right after
 * answering a 60 MB streamed import, with everything committed; the next phase must not depend on it.
 */
async function runtimeFor(fresh) {
  const config = fresh
    ? edge.config
    : {
        ...edge.config,
        d1_databases: edge.config.d1_databases.map((d) => ({ ...d, migrations_dir: undefined })),
      };
  return startPools({
    work,
    runtime,
    edge: { ...edge, config },
    pools: { edge: { script, size: 1, suffix: "", bindings: edge.bindings } },
    prefix: "import",
    label: "import",
    say,
  });
}
let { mf, base } = await runtimeFor(true);
async function restart() {
  await mf.dispose().catch(() => undefined);
  ({ mf, base } = await runtimeFor(false));
}
const route = { "x-bench-pool": "edge", "x-bench-isolates": "1" };

/**
 * fetch, once more on a connection error: workerd may have closed a keep-alive connection the
 * client reuses (ECONNRESET on a saturated runtime, see scale.mjs). Every call here is safe to
 * repeat (an import resumes; reads change nothing).
 */
async function fetchAgain(url, init) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, typeof init === "function" ? init() : init);
    } catch (err) {
      if (attempt >= 3) throw err;
      say(`  (${err.cause?.code ?? err.message}; trying again)`);
    }
  }
}

async function api(method, path, token, body) {
  const res = await fetchAgain(`${base}${path}`, {
    method,
    headers: {
      ...route,
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Posts a file as one streamed request; polls the import's progress meanwhile. */
async function importFile(path, key, label) {
  const digest = await sha256File(path);
  const size = statSync(path).size;
  const started = performance.now();
  const poll = setInterval(async () => {
    try {
      const r = await api("GET", `/v1/blocklist/import/${digest}`, key);
      const elapsed = performance.now() - started;
      say(`  ${label}: ${n(r.rows)} rows after ${seconds(elapsed)} (${n((r.rows / elapsed) * 1000)}/s)`);
    } catch {
      // not started yet
    }
  }, 60_000);
  try {
    const res = await fetchAgain(`${base}/v1/blocklist/import`, () => ({
      method: "POST",
      headers: {
        ...route,
        authorization: `Bearer ${key}`,
        "content-type": "text/csv",
        "x-import-digest": digest,
      },
      body: Readable.toWeb(createReadStream(path)),
      duplex: "half",
    }));
    const text = await res.text();
    if (!res.ok) throw new Error(`import → ${res.status}: ${text}`);
    const ms = performance.now() - started;
    const report = JSON.parse(text);
    say(
      `${label}: ${n(report.rows)} rows (${(size / 1024 / 1024).toFixed(1)} MiB) in ${seconds(ms)} — ` +
        `${n((report.rows / ms) * 1000)} rows/s; ${n(report.imported)} imported, ${n(report.unchanged)} unchanged, ` +
        `${n(report.superseded)} superseded, ${n(report.refused)} refused`,
    );
    return { ms, report };
  } finally {
    clearInterval(poll);
  }
}

try {
  const account = await api("POST", "/v1/accounts", edge.adminToken, {
    name: "import bench",
    defaultRegion: "US",
  });
  const file = join(work, "blocklist.csv");
  let t = performance.now();
  await writeFile(file, ROWS);
  say(
    `wrote ${n(ROWS)} rows (${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB) in ${seconds(performance.now() - t)}`,
  );

  const first = await importFile(file, account.apiKey, "import");
  if (first.report.imported !== ROWS) throw new Error(`expected ${ROWS} imported`);

  await restart();
  const exported = join(work, "export.csv");
  t = performance.now();
  const res = await fetchAgain(`${base}/v1/blocklist/export?format=csv`, {
    headers: { ...route, authorization: `Bearer ${account.apiKey}` },
  });
  if (!res.ok) throw new Error(`export → ${res.status}: ${await res.text()}`);
  await pipeline(Readable.fromWeb(res.body), createWriteStream(exported));
  const exportMs = performance.now() - t;
  let lines = 0;
  for await (const chunk of createReadStream(exported)) for (const b of chunk) if (b === 10) lines++;
  say(
    `export: ${n(lines - 1)} entries (${(statSync(exported).size / 1024 / 1024).toFixed(1)} MiB) in ${seconds(exportMs)} — ` +
      `${n(((lines - 1) / exportMs) * 1000)} rows/s`,
  );
  if (lines - 1 !== ROWS) throw new Error(`expected ${ROWS} exported`);

  await restart();
  const again = await importFile(exported, account.apiKey, "re-import of the export");
  if (again.report.unchanged !== ROWS) throw new Error(`expected ${ROWS} unchanged`);
  say(`round trip (import + export + re-import): ${seconds(first.ms + exportMs + again.ms)}`);
  say(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
} finally {
  await mf.dispose();
}
