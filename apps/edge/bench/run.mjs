#!/usr/bin/env node
// `pnpm bench` (root) / `pnpm --filter @optout/edge bench`: the edge's production bundle under
// workerd (Miniflare, local D1 and KV in a throwaway directory) against a trivial hono worker — the
// ceiling — built and run the same way, in the same run. Each scenario: a warm-up, then ROUNDS
// measured rounds alternating ours and the ceiling, each round's figure a ratio to the ceiling's
// in that round. Any non-2xx, error or timeout fails the run (exit 1) after printing the table.
//
// Options (environment): BENCH_ROUNDS (3), BENCH_SECONDS (5, read paths and the ceiling),
// BENCH_CONNECTIONS (16), BENCH_WRITES (write requests per round, 600), BENCH_ONLY (comma-separated
// scenario ids), BENCH_WRITE_DOCS=1 (rewrite the edge section of BENCHMARKS.md and the SVG chart),
// BENCH_PROFILE=<scenario id> (CPU profile of the edge during that scenario's first round; see
// profile.mjs), BENCH_HOLD=1 (keep the seeded edge up until Ctrl-C, for probing by hand).
//
// After these, the same command runs the contention, latency and burst groups of contention.mjs
// (many isolates sharing one D1, KV and Durable Object namespace; see its header for their
// options), then the isolation, deadlines and d1-size groups of scale.mjs (tenant isolation under
// bursts, the cron at 100,000 due deadlines, D1 bytes per message; see its header). BENCH_ONLY
// selects among all of them: naming only scenarios of contention.mjs or scale.mjs skips the
// ceiling scenarios here, and naming only scenarios here skips those groups.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { inboundPayload, signWebhook } from "../scripts/mo-payloads.mjs";
import { applyMigrations, build, clientIp, edgeRoot } from "./common.mjs";
import { isGroupScenario, runGroups } from "./contention.mjs";
import { profiled } from "./profile.mjs";
import { writeReport } from "./report.mjs";
import { isScaleScenario, runScaleGroups } from "./scale.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WRITES = Number(process.env.BENCH_WRITES ?? 600);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const PROFILE = process.env.BENCH_PROFILE ?? null;
// BENCH_ONLY naming only contention.mjs's or scale.mjs's scenarios skips the ceiling scenarios, and
// vice versa.
const CLASSIC = !ONLY || [...ONLY].some((id) => !isGroupScenario(id) && !isScaleScenario(id));
const GROUPS = !ONLY || [...ONLY].some(isGroupScenario);
const SCALE = !ONLY || [...ONLY].some(isScaleScenario);

const say = (line) => console.log(`[bench] ${line}`);
const loadAtStart = loadavg();

// ---------- build: exactly what `wrangler deploy` would upload ----------

const work = mkdtempSync(join(tmpdir(), "optout-bench-"));
// Whatever happens (a failed build, a runtime that does not start), the throwaway state goes.
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
say("building the production bundles (wrangler deploy --dry-run)");
const edgeScript = build("wrangler.jsonc", join(work, "edge"));
const ceilingScript = CLASSIC ? build("bench/ceiling/wrangler.jsonc", join(work, "ceiling")) : null;
// The edge with its bindings counted, for the storage round trips per request (not timed).
const countingScript = CLASSIC
  ? build("wrangler.jsonc", join(work, "counting"), "bench/counting/index.ts")
  : null;
const compatibilityDate = /"compatibility_date":\s*"([^"]+)"/.exec(
  readFileSync(join(edgeRoot, "wrangler.jsonc"), "utf8"),
)[1];

// ---------- run both in workerd ----------

// Worker logs (one JSON line per request) are drained, not printed: in production they go to
// Workers Logs, and printing them here would spend the benchmark machine's CPU on a terminal.
let logLines = 0;
const drain = (stream) =>
  stream.on("data", (chunk) => {
    for (const byte of chunk) if (byte === 10) logLines++;
  });
const runtime = {
  host: "127.0.0.1",
  port: 0,
  compatibilityDate,
  modules: true,
  handleRuntimeStdio: (o, e) => {
    drain(o);
    drain(e);
    if (process.env.BENCH_DEBUG) {
      o.pipe(process.stdout);
      e.pipe(process.stderr);
    }
  },
};

const adminToken = randomBytes(24).toString("hex");
const inspectorPort = PROFILE ? await freePort() : undefined;
const edgeOptions = (script) => ({
  ...runtime,
  scriptPath: script,
  modulesRoot: dirname(script),
  d1Databases: { DB: "00000000-0000-0000-0000-000000000000" },
  kvNamespaces: { KV: "00000000000000000000000000000000" },
  // The account's writer (wrangler.jsonc's LEDGER_WRITER), as deployed: a SQLite-backed Durable Object.
  durableObjects: { LEDGER_WRITER: { className: "LedgerWriter", useSQLite: true } },
  d1Persist: join(work, "d1"),
  kvPersist: join(work, "kv"),
  durableObjectsPersist: join(work, "do"),
  bindings: {
    ADMIN_TOKEN: adminToken,
    SYNC_TOKEN: randomBytes(24).toString("hex"),
    EDGE_SECRET: randomBytes(24).toString("hex"),
    PUBLIC_BASE_URL: "https://optout.bench.example",
    PUBLIC_LINK_BASE: "",
    ENVIRONMENT: "production",
  },
});
let failed = false;
if (CLASSIC) failed = await runClassic();
if (GROUPS) {
  try {
    const { host, port, handleRuntimeStdio } = runtime;
    if (await runGroups({ work, edgeScript, runtime: { host, port, handleRuntimeStdio }, only: ONLY, say })) {
      failed = true;
    }
  } catch (err) {
    failed = true;
    console.error(err);
  }
}
if (SCALE) {
  try {
    const { host, port, handleRuntimeStdio } = runtime;
    const options = { work, edgeScript, runtime: { host, port, handleRuntimeStdio }, only: ONLY, say };
    if (await runScaleGroups(options)) failed = true;
  } catch (err) {
    failed = true;
    console.error(err);
  }
}
rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

/** The ceiling scenarios: the edge against the trivial worker, then the counting build. */
async function runClassic() {
  const edge = new Miniflare({ ...edgeOptions(edgeScript), ...(inspectorPort ? { inspectorPort } : {}) });
  let counting;
  const ceiling = new Miniflare({
    ...runtime,
    scriptPath: ceilingScript,
    modulesRoot: dirname(ceilingScript),
    d1Databases: { DB: "00000000-0000-0000-0000-000000000001" },
    kvNamespaces: { KV: "00000000000000000000000000000001" },
    d1Persist: join(work, "ceiling-d1"),
    kvPersist: join(work, "ceiling-kv"),
  });

  let failed = false;
  try {
    const edgeUrl = (await edge.ready).toString().replace(/\/$/, "");
    const ceilingUrl = (await ceiling.ready).toString().replace(/\/$/, "");
    say(`edge at ${edgeUrl}, ceiling at ${ceilingUrl}; state in ${work}`);
    await applyMigrations(await edge.getD1Database("DB"));
    await seedFloors(ceiling);

    const fixture = await seed(edgeUrl);
    if (process.env.BENCH_HOLD === "1") {
      // For profiling by hand: the seeded edge stays up until Ctrl-C.
      say(`holding: API key ${fixture.key}, account ${fixture.account.id}, page code ${fixture.pageCode}`);
      await new Promise((resolve) => process.once("SIGINT", resolve));
      throw new Error("held until Ctrl-C; nothing measured");
    }
    const scenarios = [
      ...buildScenarios(edgeUrl, fixture),
      floor("floor-kv", "floor: ceiling + one KV read", `${ceilingUrl}/kv`),
      floor("floor-kv100", "floor: ceiling + bulk KV read, 100 keys", `${ceilingUrl}/kv100`),
      floor("floor-d1", "floor: ceiling + one D1 query", `${ceilingUrl}/d1`),
      floor("floor-d1-write", "floor: ceiling + one D1 write", `${ceilingUrl}/d1`, "POST"),
      floor("floor-d1-write-kv", "floor: ceiling + one D1 write + one KV put", `${ceilingUrl}/d1kv`, "POST"),
    ].filter((s) => !ONLY || ONLY.has(s.id));
    const ceilingRun = { url: `${ceilingUrl}/`, method: "GET" };

    const results = [];
    for (const scenario of scenarios) {
      say(`${scenario.id}: warm-up`);
      await load({ ...ceilingRun, duration: 1 });
      await load({ ...scenario.warmup(), ...(scenario.write ? {} : { duration: 2 }) });
      const rounds = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const run = () =>
          load({ ...scenario.round(round), ...(scenario.write ? {} : { duration: SECONDS }) });
        const ours =
          PROFILE === scenario.id && round === 1
            ? await profiled(inspectorPort, join(tmpdir(), `optout-bench-${scenario.id}.cpuprofile`), run)
            : await run();
        const top = await load({ ...ceilingRun, duration: SECONDS });
        rounds.push({ ours, ceiling: top });
        say(
          `${scenario.id} round ${round}: ${ours.rps.toFixed(0)} req/s vs ceiling ${top.rps.toFixed(0)} ` +
            `(${(ours.rps / top.rps).toFixed(2)}); p99 ${ours.p99} ms vs ${top.p99} ms` +
            (ours.bad ? `; ${ours.bad} FAILED (${ours.statuses})` : ""),
        );
        if (ours.bad || top.bad) failed = true;
      }
      results.push({ ...scenario.meta, rounds });
    }

    // Storage round trips per request: the same state, served by the counting build.
    say("counting D1 and KV operations per request");
    await edge.dispose();
    counting = new Miniflare(edgeOptions(countingScript));
    const countingUrl = (await counting.ready).toString().replace(/\/$/, "");
    // Two more webhooks from new numbers, sent to this server (signed for the same webhook URL).
    const spareFrom = fixture.moRequests.length;
    const countingFixture = { ...fixture, ...(await signMo(countingUrl, fixture, 2, spareFrom)) };
    const probes = buildScenarios(countingUrl, countingFixture);
    for (const result of results) {
      const probe = probes.find((p) => p.id === result.id);
      if (!probe) continue;
      result.counts = await countOne(countingUrl, probe);
    }

    const report = {
      when: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? "unknown",
        loadAtStart: loadAtStart.map((l) => l.toFixed(2)),
        loadAtEnd: loadavg().map((l) => l.toFixed(2)),
      },
      versions: versions(),
      settings: { rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, writes: WRITES },
      workerLogLines: logLines,
      results,
    };
    writeReport(report, { writeDocs: process.env.BENCH_WRITE_DOCS === "1" });
    if (failed) {
      console.error(
        "[bench] FAILED: some requests were answered with a non-2xx status, an error or a timeout",
      );
    }
  } catch (err) {
    failed = true;
    console.error(err);
  } finally {
    await Promise.allSettled([edge.dispose(), ceiling.dispose(), counting?.dispose()]);
  }
  return failed;
}

// ---------- helpers ----------

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The floors' storage: one KV value shaped like a check entry list, one indexed D1 row. */
async function seedFloors(mf) {
  const kv = await mf.getKVNamespace("KV");
  const entries = JSON.stringify([
    { address: "+14155550100", channel: "*", scope: { type: "account" }, seq: 1 },
  ]);
  await kv.put("e:acc:+14155550100", entries);
  // The bulk floor reads 100 keys, a tenth of them with entries (like the POST /v1/check scenario).
  for (let i = 0; i < 100; i++) await kv.put(`e:acc:${i}`, i % 10 === 0 ? entries : "[]");
  const db = await mf.getD1Database("DB");
  await db.batch([
    db.prepare("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)"),
    db.prepare("INSERT INTO t (k, v) VALUES ('k1', 'v1')"),
  ]);
}

/** A reference row: the ceiling worker plus one storage round trip. */
function floor(id, label, url, method = "GET") {
  const opts = { url, method };
  return {
    id,
    write: false,
    meta: { id, label, goal: {}, read: true, reference: true },
    warmup: () => opts,
    round: () => opts,
  };
}

async function api(base, method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Distinct valid US numbers: one area code per pool, then the exchange and line from the index. */
function phone(area, i) {
  return `+1${area}${200 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, "0")}`;
}

async function seed(base) {
  say("seeding: account, blocklist entries, links, Twilio credentials, signed webhooks, events");
  const account = await api(base, "POST", "/v1/accounts", adminToken, { name: "Bench", defaultRegion: "US" });
  const key = account.apiKey;
  const blocked = "+14155550100";
  const clear = "+14155550101";
  await api(base, "POST", "/v1/blocklist", key, { address: blocked });
  await api(base, "POST", "/v1/blocklist", key, {
    address: blocked,
    channel: "sms",
    scope: { type: "sender", sender: "ACME" },
  });

  // POST /v1/check: 100 items, a tenth of them blocked.
  const batchBlocked = Array.from({ length: 10 }, (_, i) => phone("213", i));
  for (const address of batchBlocked) await api(base, "POST", "/v1/blocklist", key, { address });
  const checkItems = Array.from({ length: 100 }, (_, i) => ({
    address: i % 10 === 0 ? batchBlocked[i / 10] : phone("310", i),
    sender: "ACME",
    channel: "sms",
  }));

  const mint = async (count, prefix) => {
    const codes = [];
    for (let start = 0; start < count; start += 1000) {
      const items = Array.from({ length: Math.min(1000, count - start) }, (_, i) => ({
        address: phone(prefix, start + i),
        channel: "sms",
        sender: "ACME",
        campaign: "bench",
      }));
      const minted = await api(base, "POST", "/v1/links/batch", key, { items });
      codes.push(...minted.items.map((m) => m.code));
    }
    return codes;
  };
  const [pageCode] = await mint(1, "408");
  // Every round and the warm-up use fresh items; two more are left for the counting probe.
  const writesNeeded = WRITES * (ROUNDS + 1) + 2;
  const oneClickCodes = await mint(writesNeeded, "646");

  // Twilio signs the full URL plus the sorted form fields with the account's auth token. The URL is
  // the one the edge gives (under PUBLIC_BASE_URL), which is also the one it verifies against.
  const twilioToken = randomBytes(16).toString("hex");
  const { webhookUrl } = await api(base, "PUT", "/v1/providers/twilio", key, { secret: twilioToken });
  const { moUrl, moRequests } = await signMo(base, { account, twilioToken, webhookUrl }, writesNeeded);

  const eventBodies = [];
  const at = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < writesNeeded; i++) {
    const events = Array.from({ length: 100 }, (_, j) => ({
      type: "sent",
      messageId: `bench-${i}-${j}-${randomBytes(4).toString("hex")}`,
      address: phone("718", (i * 100 + j) % 7_000_000),
      sender: "ACME",
      channel: "sms",
      occurredAt: at,
      campaign: "bench",
    }));
    eventBodies.push(JSON.stringify({ events }));
  }

  // Warm KV for the two single-address checks (the steady state of a hot path).
  for (const address of [blocked, clear]) {
    await api(
      base,
      "GET",
      `/v1/check?${new URLSearchParams({ address, sender: "ACME", channel: "sms" })}`,
      key,
    );
  }
  // POST /v1/blocklist: a fresh address for every request of every round.
  const addAddresses = Array.from({ length: WRITES * (ROUNDS + 1) + 2 }, (_, i) => phone("646", i));
  return {
    account,
    key,
    blocked,
    clear,
    checkItems,
    pageCode,
    addAddresses,
    oneClickCodes,
    twilioToken,
    webhookUrl,
    moUrl,
    moRequests,
    eventBodies,
  };
}

/** `count` STOP webhooks from distinct numbers to `base`, signed for `webhookUrl` (Twilio signs the URL). */
async function signMo(base, { account, twilioToken, webhookUrl }, count, offset = 0) {
  const moUrl = `${base}/mo/twilio/${account.id}`;
  const moRequests = [];
  for (let i = offset; i < offset + count; i++) {
    const payload = inboundPayload("twilio", {
      id: `SM${randomBytes(16).toString("hex")}`,
      from: phone("312", i),
      to: "+14155559000",
      text: "STOP",
    });
    const signed = await signWebhook("twilio", { url: webhookUrl, ...payload, secret: twilioToken });
    moRequests.push({ body: signed.body, headers: signed.headers });
  }
  return { moUrl, moRequests };
}

/** One warm request, then the counts of a second one (the steady state of the scenario), the writer's included. */
async function countOne(base, scenario) {
  const [warm, measured] = scenario.probe();
  const send = (r) =>
    fetch(r.url ?? `${base}${r.path}`, { method: r.method ?? "GET", headers: r.headers, body: r.body });
  // The writer writes KV after it answers: each request's count waits for those writes.
  const settle = () => new Promise((r) => setTimeout(r, 1500));
  await (await send(warm)).arrayBuffer();
  await settle();
  await (await fetch(`${base}/__bench/counts`)).arrayBuffer();
  const res = await send(measured);
  await res.arrayBuffer();
  await settle();
  const counts = await (await fetch(`${base}/__bench/counts`)).json();
  if (!res.ok) throw new Error(`${scenario.id}: the counting probe answered ${res.status}`);
  return counts;
}

function buildScenarios(base, f) {
  const auth = { authorization: `Bearer ${f.key}` };
  const json = { ...auth, "content-type": "application/json" };
  const checkUrl = (address) =>
    `${base}/v1/check?${new URLSearchParams({ address, sender: "ACME", channel: "sms" })}`;
  const read = (id, label, goal, opts) => ({
    id,
    write: false,
    meta: { id, label, goal, read: true },
    warmup: () => opts,
    round: () => opts,
    probe: () => [opts, opts],
  });
  /** Write scenarios: each request its own pre-built item; the warm-up and every round use new ones. */
  const write = (id, label, goal, pool, toRequest) => {
    let next = 0;
    const take = () => {
      const slice = pool.slice(next, Math.min(next + WRITES, pool.length - 2));
      next += WRITES;
      if (slice.length < WRITES) throw new Error(`${id}: ran out of pre-built requests`);
      let i = 0;
      return {
        amount: WRITES,
        requests: [{ setupRequest: (req) => ({ ...req, ...toRequest(slice[i++ % slice.length], i) }) }],
      };
    };
    // The pool's last two items are never taken by a round: the counting probe's.
    const probe = () => pool.slice(-2).map((item, i) => toRequest(item, i));
    return { id, write: true, meta: { id, label, goal, read: false }, warmup: take, round: take, probe };
  };
  let ip = 0;
  return [
    read(
      "check-blocked",
      "GET /v1/check (address with entries)",
      { ratio: 0.7, p99: 5, floor: 0.85 },
      {
        url: checkUrl(f.blocked),
        headers: auth,
      },
    ),
    read(
      "check-clear",
      "GET /v1/check (address without entries)",
      { ratio: 0.7, p99: 5, floor: 0.85 },
      {
        url: checkUrl(f.clear),
        headers: auth,
      },
    ),
    read(
      "check-batch",
      "POST /v1/check (100 items)",
      { ratio: 0.3 },
      {
        url: `${base}/v1/check`,
        method: "POST",
        headers: json,
        body: JSON.stringify({ items: f.checkItems }),
      },
    ),
    {
      ...read("page", "GET /u/{code}", { ratio: 0.6, p99: 5, floor: 0.85 }, null),
      warmup: () => pageLoad(),
      round: () => pageLoad(),
      probe: () =>
        [0, 1].map(() => ({
          url: `${base}/u/${f.pageCode}`,
          headers: { "cf-connecting-ip": clientIp(ip++) },
        })),
    },
    write(
      "api-add",
      "POST /v1/blocklist (API add, fresh addresses)",
      { floor: 1.0 },
      f.addAddresses,
      (address) => ({
        method: "POST",
        path: "/v1/blocklist",
        headers: json,
        body: JSON.stringify({ address, reason: "bench" }),
      }),
    ),
    write(
      "one-click",
      "POST /u/{code} (one-click, fresh codes)",
      { floor: 1.0 },
      f.oneClickCodes,
      (code) => ({
        method: "POST",
        path: `/u/${code}`,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "cf-connecting-ip": clientIp(ip++),
        },
        body: "List-Unsubscribe=One-Click",
      }),
    ),
    write("mo", "POST /mo/twilio/{accountId} (signed STOP)", { floor: 1.0 }, f.moRequests, (m) => ({
      method: "POST",
      path: new URL(f.moUrl).pathname,
      headers: m.headers,
      body: m.body,
    })),
    write("events", "POST /v1/events (100 events)", {}, f.eventBodies, (body) => ({
      method: "POST",
      path: "/v1/events",
      headers: json,
      body,
    })),
  ].map((s) => ({ ...s, round: wrapUrl(base, s.round), warmup: wrapUrl(base, s.warmup) }));

  function pageLoad() {
    return {
      url: `${base}/u/${f.pageCode}`,
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            headers: { ...req.headers, "cf-connecting-ip": clientIp(ip++) },
          }),
        },
      ],
    };
  }
}

/** Scenarios that set only a path get the edge's URL. */
function wrapUrl(base, make) {
  return (...args) => {
    const opts = make(...args);
    return opts.url ? opts : { url: base, ...opts };
  };
}

/** One autocannon run; throughput and latency percentiles, and what went wrong. */
function load(opts) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let last = started;
    const instance = autocannon(
      { connections: CONNECTIONS, pipelining: 1, timeout: 10, ...opts },
      (err, r) => {
        if (err) return reject(err);
        // autocannon reports whole seconds (and ends fixed-amount runs on its 1 s tick): time from
        // the start to the last response instead.
        const seconds = (last - started) / 1000;
        const statuses = Object.entries(r.statusCodeStats ?? {})
          .map(([code, s]) => `${code}×${s.count}`)
          .join(" ");
        resolve({
          requests: r.requests.total,
          rps: r.requests.total / seconds,
          p50: r.latency.p50,
          p99: r.latency.p99,
          p999: r.latency.p99_9,
          bad: r.non2xx + r.errors + r.timeouts,
          statuses,
        });
      },
    );
    instance.on("response", () => {
      last = performance.now();
    });
  });
}

function versions() {
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(join(edgeRoot, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return "?";
    }
  };
  return {
    node: process.version,
    wrangler: pkg("wrangler"),
    miniflare: pkg("miniflare"),
    workerd: /\.(\d{8})\./.exec(pkg("miniflare"))?.[1] ?? "?",
    hono: pkg("hono"),
    autocannon: pkg("autocannon"),
  };
}
