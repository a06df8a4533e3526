// The contention, latency and burst groups of `pnpm --filter @optout/edge bench` (issue 11, item 5),
// run by run.mjs after its ceiling scenarios. Many isolates of one deployment against one database:
//
// - Pools: N workers, `edge-0` … `edge-{N-1}`, each running the edge's production bundle (the one
//   run.mjs built with `wrangler deploy --dry-run`) in its own isolate, in one workerd (Miniflare).
//   Every binding comes from wrangler.jsonc through wrangler's own reading of it
//   (`unstable_getMiniflareWorkerOptions`): the pool shares its D1 databases and KV namespaces (same
//   ids), and each Durable Object class the edge defines is defined once, by `edge-0`, the other
//   copies binding to it with `scriptName` (one namespace, as in production). Vars from
//   wrangler.jsonc; the secrets named in .dev.vars.example get long random values; production mode.
// - Front worker (front/index.js): the entry for every request. It round-robins each request over
//   the first N copies of a pool through service bindings, so a client (and a kept-alive connection)
//   is not tied to an isolate, as on Cloudflare, the URL that webhook signatures cover is one URL,
//   and N = 1 and N = 8 pay the same extra hop.
// - Latency pool: `latency-0` …, the same with the bench build latency/index.ts (every D1 round trip
//   delayed by BENCH_D1_DELAY_MS, including inside the Durable Objects the edge defines), on its own
//   D1, KV and Durable Object namespace.
//
// Groups (scenario ids for BENCH_ONLY; a prefix selects everything under it, e.g. `contention`,
// `contention-mo`, `latency`):
// - contention-{api,mo,oneclick}-{1,64}acct: C clients (closed loop: each sends its next request when
//   its last one is answered), each request a new opt-out — API add (`POST /v1/blocklist`, distinct
//   addresses), signed Twilio STOP (scripts/mo-payloads.mjs, distinct numbers), one-click
//   (`POST /u/{code}` with `List-Unsubscribe=One-Click`, distinct minted links, a distinct
//   CF-Connecting-IP each) — spread round-robin over 1 or 64 accounts. Each N of BENCH_ISOLATES in
//   turn, right after one another (side by side), each after a warm-up of C requests (not counted).
//   A run stops sending after BENCH_CONTENTION_SECONDS or when its pre-built requests run out,
//   then waits for the answers in flight. committed/s = 2xx answers / (last answer - start);
//   p50/p99 over every request, a timeout counted at the timeout. Audit: afterwards, every opt-out
//   that got a 2xx must block under a strong read (`GET /v1/check?…&consistency=strong`, a failed
//   read retried 3 times); those that don't block are "lost". A control address of the same
//   account, never opted out, is read with them and must read "allowed", else the audit is void.
// - latency-…: the same scenarios on the latency pool.
// - Before them, for each N: the edge's `GET /health` (no storage) the same way, the most this
//   machine's stack (client, workerd, front worker, N isolates) serves: the ceiling of the figures.
// - burst: BENCH_BURST signed STOPs from distinct numbers to one account, BENCH_BURST_CONCURRENCY at
//   a time, through BENCH_BURST_ISOLATES isolates; webhook latency, then strong reads of every 2xx'd
//   STOP (batches of 1000 in one `POST /v1/check` with `"consistency": "strong"`, every 250 ms)
//   until all block: the time from the last 2xx until then (an upper bound: the reads start once
//   the burst's last request is answered, whatever its status); then the audit as above.
//
// A non-2xx, an error or a timeout in a measured run or the burst, a lost opt-out, or an audit read
// that failed, fails the run (exit 1) after the tables are printed; goals not met do not.
//
// These groups alone: `BENCH_ONLY=contention,latency,burst pnpm --filter @optout/edge bench`. The
// burst lasts as long as the edge needs for its webhooks (minutes where it commits tens per second);
// `BENCH_BURST=2000` for a quicker look.
//
// Options (environment): BENCH_ISOLATES (1,8), BENCH_CLIENTS (64), BENCH_ACCOUNTS (1,64),
// BENCH_CONTENTION_SECONDS (3), BENCH_CONTENTION_MAX (requests built per run, 3000),
// BENCH_CONTENTION_ROUNDS (1; rounds alternate the Ns), BENCH_D1_DELAY_MS (25), BENCH_BURST (10000),
// BENCH_BURST_CONCURRENCY (128), BENCH_BURST_ISOLATES (8), BENCH_BURST_WAIT (s to wait for the burst's
// opt-outs to block after the last 2xx, 60), BENCH_TIMEOUT_MS (per request, 15000: Twilio's limit),
// BENCH_AUDIT (`get`: one GET per opt-out; `batch`: POST /v1/check of 1000 with consistency strong,
// the same D1 read), BENCH_JSON=<path> (also write every figure as JSON), BENCH_ONLY (as above).
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { inboundPayload, signWebhook } from "../scripts/mo-payloads.mjs";
import { applyMigrations, build, clientIp, edgeRoot } from "./common.mjs";

const numbers = (value) =>
  value
    .split(",")
    .map((v) => Number(v.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
const option = (name, fallback) => Number(process.env[name] ?? fallback);
const ISOLATES = numbers(process.env.BENCH_ISOLATES ?? "1,8");
const CLIENTS = option("BENCH_CLIENTS", 64);
const ACCOUNTS = numbers(process.env.BENCH_ACCOUNTS ?? "1,64");
const SECONDS = option("BENCH_CONTENTION_SECONDS", 3);
const MAX_REQUESTS = option("BENCH_CONTENTION_MAX", 3000);
const ROUNDS = option("BENCH_CONTENTION_ROUNDS", 1);
const DELAY_MS = option("BENCH_D1_DELAY_MS", 25);
const BURST = option("BENCH_BURST", 10_000);
const BURST_CONCURRENCY = option("BENCH_BURST_CONCURRENCY", 128);
const BURST_ISOLATES = option("BENCH_BURST_ISOLATES", 8);
const BURST_WAIT = option("BENCH_BURST_WAIT", 60);
const TIMEOUT_MS = option("BENCH_TIMEOUT_MS", 15_000);
const AUDIT = process.env.BENCH_AUDIT === "batch" ? "batch" : "get";
const AUDIT_CONCURRENCY = 32;

/** Issue 11's goals, printed beside the figures (never a reason to fail the run). */
const GOALS = {
  ratio: 1.0,
  latencyPerSecond: 1000,
  burstP99: 2000,
  burstBlockedWithin: 30,
};

const SENDER = "ACME";
const MO_TO = "+14155559000";
const PUBLIC_BASE_URL = "https://optout.bench.example";
const frontScript = fileURLToPath(new URL("front/index.js", import.meta.url));

/** Every id these groups answer to, for run.mjs's BENCH_ONLY split. */
export function isGroupScenario(id) {
  return /^(contention|latency|burst)(-|$)/.test(id);
}

/** `contention-mo-64acct` is selected by itself, `contention-mo` or `contention`. */
function selected(only, id) {
  if (!only) return true;
  const parts = id.split("-");
  return parts.some((_, i) => only.has(parts.slice(0, i + 1).join("-")));
}

const WORKLOADS = {
  api: { label: "API add", area: "202", sender: SENDER },
  mo: { label: "signed MO STOP", area: "312", sender: MO_TO },
  oneclick: { label: "one-click", area: "646", sender: SENDER },
};

/**
 * Runs the selected groups. Returns true if anything failed (non-2xx, error, timeout, lost).
 * @param {{ work: string, edgeScript: string, runtime: object, only: Set<string> | null, say: (line: string) => void }} o
 */
export async function runGroups({ work, edgeScript, runtime, only, say }) {
  const scenarios = [];
  for (const group of ["contention", "latency"]) {
    for (const workload of Object.keys(WORKLOADS)) {
      for (const accounts of ACCOUNTS) {
        const id = `${group}-${workload}-${accounts}acct`;
        if (selected(only, id)) scenarios.push({ id, group, workload, accounts });
      }
    }
  }
  const burst = selected(only, "burst");
  if (!scenarios.length && !burst) return false;
  const loadAtStart = loadavg();

  // ---------- the pools, from wrangler.jsonc ----------
  const wrangler = await import("wrangler");
  const configPath = join(edgeRoot, "wrangler.jsonc");
  const config = wrangler.unstable_readConfig({ config: configPath });
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(config);
  const secrets = secretsFor(config);
  const adminToken = secrets.ADMIN_TOKEN;
  const bindings = { ...config.vars, ...secrets, PUBLIC_BASE_URL, ENVIRONMENT: "production" };

  const contention = scenarios.some((s) => s.group === "contention");
  const latency = scenarios.some((s) => s.group === "latency");
  const pools = {};
  if (contention || burst) {
    pools.edge = {
      script: edgeScript,
      size: Math.max(...(contention ? ISOLATES : []), ...(burst ? [BURST_ISOLATES] : [])),
      suffix: "",
      bindings,
    };
  }
  if (latency) {
    say(`building the latency bundle (D1 round trips + ${DELAY_MS} ms)`);
    pools.latency = {
      script: build("wrangler.jsonc", join(work, "latency"), "bench/latency/index.ts"),
      size: Math.max(...ISOLATES),
      // Its own database, KV and Durable Objects: one writer per chain stays one writer.
      suffix: "-latency",
      bindings: { ...bindings, BENCH_D1_DELAY_MS: String(DELAY_MS) },
    };
  }
  const workers = Object.entries(pools).flatMap(([name, pool]) =>
    copies(name, pool, workerOptions, config.name),
  );
  const front = {
    name: "front",
    modules: true,
    scriptPath: frontScript,
    compatibilityDate: workerOptions.compatibilityDate,
    serviceBindings: Object.fromEntries(workers.map((w) => [w.name.replace("-", "_"), w.name])),
  };
  const durableObjects = Object.keys(workerOptions.durableObjects ?? {});
  say(
    `groups: ${Object.entries(pools)
      .map(([name, p]) => `${p.size} × ${name}`)
      .join(", ")} behind a round-robin front worker; bindings from wrangler.jsonc: ` +
      `D1 ${Object.keys(workerOptions.d1Databases ?? {}).join(", ") || "none"}, ` +
      `KV ${Object.keys(workerOptions.kvNamespaces ?? {}).join(", ") || "none"}, ` +
      `Durable Objects ${durableObjects.join(", ") || "none"}`,
  );
  const mf = new Miniflare({
    ...runtime,
    d1Persist: join(work, "groups-d1"),
    kvPersist: join(work, "groups-kv"),
    durableObjectsPersist: join(work, "groups-do"),
    workers: [front, ...workers],
  });

  const rows = [];
  const ceilingRows = [];
  let burstResult = null;
  try {
    const base = (await mf.ready).toString().replace(/\/$/, "");
    for (const [name] of Object.entries(pools)) {
      for (const d1 of config.d1_databases ?? []) {
        if (!d1.migrations_dir) continue;
        await applyMigrations(
          await mf.getD1Database(d1.binding, `${name}-0`),
          resolve(dirname(configPath), d1.migrations_dir),
        );
      }
    }
    const client = new Client(base);
    // Per pool: the accounts the scenarios spread over, and the burst's own account.
    const seeded = {};
    for (const [name, pool] of Object.entries(pools)) {
      const count = Math.max(0, ...scenarios.filter((s) => poolOf(s) === name).map((s) => s.accounts));
      const extra = name === "edge" && burst ? 1 : 0;
      say(`seeding ${name}: ${count + extra} accounts, each with Twilio credentials`);
      const route = { pool: name, isolates: pool.size };
      const accounts = await mapLimit(range(count + extra), 4, (i) =>
        seedAccount(client, route, adminToken, i),
      );
      seeded[name] = { accounts: accounts.slice(extra), burst: extra ? accounts[0] : null };
    }

    // What the whole stack (this client, workerd, the front worker, N isolates) serves when a
    // request needs no storage: the edge's `GET /health`, measured like the scenarios.
    if (scenarios.length) {
      for (const isolates of ISOLATES) {
        const route = { pool: poolOf(scenarios[0]), isolates };
        const items = range(Math.max(1000, SECONDS * 4000)).map(() => ({ request: { path: "/health" } }));
        await closedLoop(client, route, items.slice(0, CLIENTS), { clients: CLIENTS });
        const figures = summarize(
          items,
          await closedLoop(client, route, items, { clients: CLIENTS, seconds: SECONDS }),
        );
        ceilingRows.push({ isolates, ...figures, okItems: undefined, load1: loadavg()[0] });
        say(
          `ceiling GET /health N=${isolates}: ${figures.perSecond.toFixed(0)}/s, p99 ${figures.p99.toFixed(0)} ms`,
        );
      }
    }

    for (const scenario of scenarios) {
      const pool = poolOf(scenario);
      const accounts = seeded[pool].accounts.slice(0, scenario.accounts);
      for (let round = 1; round <= ROUNDS; round++) {
        for (const isolates of ISOLATES) {
          const route = { pool, isolates };
          const items = await buildItems(client, route, scenario.workload, accounts, CLIENTS + MAX_REQUESTS);
          await closedLoop(client, route, items.slice(0, CLIENTS), { clients: CLIENTS });
          const load1 = loadavg()[0];
          const measured = items.slice(CLIENTS);
          const loop = await closedLoop(client, route, measured, { clients: CLIENTS, seconds: SECONDS });
          const figures = summarize(measured, loop);
          const audit = await auditStrong(client, route, figures.okItems, AUDIT);
          const row = {
            ...scenario,
            round,
            isolates,
            clients: CLIENTS,
            ...figures,
            okItems: undefined,
            lost: audit.allowed.length,
            unverified: audit.unverified.length,
            auditFailures: audit.failures,
            auditControl: audit.control,
            load1,
          };
          rows.push(row);
          say(
            `${scenario.id} N=${isolates}${ROUNDS > 1 ? ` round ${round}` : ""}: ` +
              `${row.ok} committed in ${row.seconds.toFixed(2)} s = ${row.perSecond.toFixed(0)}/s, ` +
              `p50 ${row.p50.toFixed(0)} ms, p99 ${row.p99.toFixed(0)} ms` +
              failures(row) +
              `; ${auditText(row)}; ` +
              `load ${load1.toFixed(2)}`,
          );
        }
      }
    }

    if (burst) burstResult = await runBurst(client, seeded.edge.burst, say);
  } finally {
    await mf.dispose();
  }

  const report = {
    when: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      loadAtStart: loadAtStart.map((l) => l.toFixed(2)),
      loadAtEnd: loadavg().map((l) => l.toFixed(2)),
    },
    settings: {
      isolates: ISOLATES,
      clients: CLIENTS,
      seconds: SECONDS,
      maxRequests: MAX_REQUESTS,
      rounds: ROUNDS,
      d1DelayMs: DELAY_MS,
      timeoutMs: TIMEOUT_MS,
      audit: AUDIT,
      burst: { count: BURST, concurrency: BURST_CONCURRENCY, isolates: BURST_ISOLATES, wait: BURST_WAIT },
      durableObjects,
    },
    ceiling: ceilingRows,
    rows,
    burst: burstResult,
  };
  const failed = printReport(report);
  if (process.env.BENCH_JSON) {
    writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(report, null, 2)}\n`);
    say(`wrote ${process.env.BENCH_JSON}`);
  }
  return failed;
}

const poolOf = (scenario) => (scenario.group === "latency" ? "latency" : "edge");

/**
 * N copies of the edge as Miniflare workers `<pool>-0` …: the bindings wrangler.jsonc declares, the
 * pool's own storage ids, and each Durable Object class this script defines defined by copy 0 only.
 */
function copies(pool, { script, size, suffix, bindings }, workerOptions, scriptName) {
  const storage = (record) =>
    Object.fromEntries(
      Object.entries(record ?? {}).map(([binding, v]) => [
        binding,
        typeof v === "string" ? `${v}${suffix}` : { ...v, id: `${v.id}${suffix}` },
      ]),
    );
  return range(size).map((i) => {
    const durableObjects = Object.fromEntries(
      Object.entries(workerOptions.durableObjects ?? {}).map(([binding, d]) => {
        const { scriptName: owner, ...spec } = typeof d === "string" ? { className: d } : d;
        // A class of another script stays bound to it; this script's classes live in copy 0.
        if (owner && owner !== scriptName) return [binding, d];
        return [binding, i === 0 ? spec : { ...spec, scriptName: `${pool}-0` }];
      }),
    );
    return {
      ...workerOptions,
      name: `${pool}-${i}`,
      modules: true,
      scriptPath: script,
      modulesRoot: dirname(script),
      bindings,
      d1Databases: storage(workerOptions.d1Databases),
      kvNamespaces: storage(workerOptions.kvNamespaces),
      durableObjects,
      additionalUnboundDurableObjects: i === 0 ? (workerOptions.additionalUnboundDurableObjects ?? []) : [],
    };
  });
}

/** The secrets the edge expects (named in .dev.vars.example, minus what wrangler.jsonc sets as vars). */
function secretsFor(config) {
  const names = readFileSync(join(edgeRoot, ".dev.vars.example"), "utf8")
    .split("\n")
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line.trim())?.[1])
    .filter((name) => name && !(name in (config.vars ?? {})));
  return Object.fromEntries(names.map((name) => [name, randomBytes(24).toString("hex")]));
}

// ---------- requests ----------

/** Keep-alive HTTP/1.1 to the front worker; concurrency is bounded by the callers. */
class Client {
  constructor(base) {
    this.base = base;
    this.agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  }

  /** One request through the front worker to `route`; never throws. */
  send({ method = "GET", path, headers = {}, body }, route, { keepBody = false, agent = this.agent } = {}) {
    return new Promise((done) => {
      const started = performance.now();
      let settled = false;
      const finish = (result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const at = performance.now();
        done({ ms: at - started, at, ...result });
      };
      const req = httpRequest(
        `${this.base}${path}`,
        {
          method,
          agent,
          headers: { ...headers, "x-bench-pool": route.pool, "x-bench-isolates": String(route.isolates) },
        },
        (res) => {
          const chunks = [];
          res.on("data", (chunk) => {
            if (keepBody) chunks.push(chunk);
          });
          res.on("end", () =>
            finish({ status: res.statusCode, body: keepBody ? Buffer.concat(chunks).toString("utf8") : "" }),
          );
          res.on("error", (err) => finish({ status: 0, error: err.code || err.message }));
        },
      );
      const timer = setTimeout(() => {
        finish({ status: 0, error: "timeout", timeout: true });
        req.destroy();
      }, TIMEOUT_MS);
      req.on("error", (err) => finish({ status: 0, error: err.code || err.message }));
      req.end(body);
    });
  }

  /** A JSON API call that must succeed (seeding, minting). */
  async api(route, method, path, token, json) {
    const call = () =>
      this.send(
        {
          method,
          path,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: json === undefined ? undefined : JSON.stringify(json),
        },
        route,
        { keepBody: true },
      );
    let res = await call();
    // A kept-alive connection the server closed just as it was reused: once more (seeding and
    // minting only, where a duplicate is harmless).
    if (res.error && !res.timeout) res = await call();
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${method} ${path} answered ${res.status || res.error}: ${res.body ?? ""}`);
    }
    return res.body ? JSON.parse(res.body) : null;
  }
}

async function seedAccount(client, route, adminToken, i) {
  const account = await client.api(route, "POST", "/v1/accounts", adminToken, {
    name: `Bench ${route.pool} ${i}`,
    defaultRegion: "US",
  });
  // Twilio signs the webhook URL it was given (here under PUBLIC_BASE_URL) with the auth token.
  const twilioToken = randomBytes(16).toString("hex");
  const provider = await client.api(route, "PUT", "/v1/providers/twilio", account.apiKey, {
    secret: twilioToken,
  });
  return { id: account.id, key: account.apiKey, twilioToken, webhookUrl: provider.webhookUrl };
}

const counters = new Map();
let ipCounter = 0;
/** A new valid US number per call and area code (exchanges 420–499: no N11, no 555). */
function nextPhone(area) {
  const i = counters.get(area) ?? 0;
  counters.set(area, i + 1);
  if (i >= 800_000) throw new Error(`area ${area}: out of numbers`);
  return `+1${area}${420 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, "0")}`;
}

/** A signed Twilio STOP from `from` to the account's webhook, as Twilio would post it. */
async function stopWebhook(account, from) {
  const payload = inboundPayload("twilio", {
    id: `SM${randomBytes(16).toString("hex")}`,
    from,
    to: MO_TO,
    text: "STOP",
  });
  const signed = await signWebhook("twilio", {
    url: account.webhookUrl,
    ...payload,
    secret: account.twilioToken,
  });
  return {
    method: "POST",
    path: new URL(account.webhookUrl).pathname,
    headers: signed.headers,
    body: signed.body,
  };
}

/** `count` requests, each a new opt-out, over `accounts` round-robin: `{ account, address, sender, request }`. */
async function buildItems(client, route, workload, accounts, count, area = WORKLOADS[workload].area) {
  const { sender } = WORKLOADS[workload];
  const items = range(count).map((i) => ({
    account: accounts[i % accounts.length],
    address: nextPhone(area),
    sender,
  }));
  if (workload === "api") {
    for (const item of items) {
      item.request = {
        method: "POST",
        path: "/v1/blocklist",
        headers: { authorization: `Bearer ${item.account.key}`, "content-type": "application/json" },
        body: JSON.stringify({ address: item.address }),
      };
    }
  } else if (workload === "mo") {
    for (const item of items) item.request = await stopWebhook(item.account, item.address);
  } else {
    // One-click: links minted beforehand (sms, sender ACME, account scope), ≤ 1000 per batch.
    const byAccount = groupBy(items, (item) => item.account.id);
    const batches = [...byAccount.values()].flatMap((list) => chunk(list, 1000));
    await mapLimit(batches, 4, async (batch) => {
      const minted = await client.api(route, "POST", "/v1/links/batch", batch[0].account.key, {
        items: batch.map((item) => ({ address: item.address, channel: "sms", sender, campaign: "bench" })),
      });
      minted.items.forEach((link, j) => {
        batch[j].request = {
          method: "POST",
          path: `/u/${link.code}`,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "cf-connecting-ip": clientIp(ipCounter++),
          },
          body: "List-Unsubscribe=One-Click",
        };
      });
    });
  }
  return items;
}

/**
 * `clients` loops, each sending the next item's request when its previous one is answered, until
 * the items run out or `seconds` pass; answers in flight then still count.
 */
async function closedLoop(client, route, items, { clients, seconds = Number.POSITIVE_INFINITY }) {
  const results = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let last = started;
  // Connections of their own, opened by this run: none left idle (and closed by the server) before.
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const loop = async () => {
    while (next < items.length && performance.now() < deadline) {
      const i = next++;
      const result = await client.send(items[i].request, route, { agent });
      results[i] = result;
      if (result.at > last) last = result.at;
    }
  };
  await Promise.all(range(Math.min(clients, items.length)).map(loop));
  agent.destroy();
  return { started, last, results: results.slice(0, next) };
}

/** "lost 0", with the reads that failed and a control that read "blocked" (the audit is then void). */
function auditText({ lost, unverified, auditFailures, auditControl }) {
  return (
    `lost ${lost}` +
    (unverified ? `, ${unverified} unverified (${auditFailures})` : "") +
    (auditControl === "blocked" ? ", AUDIT VOID: the control address, never opted out, read blocked" : "") +
    (auditControl === "unreadable" ? ", the control read failed too" : "")
  );
}

/** "; 2 non-2xx (503×2), 1 error (ECONNRESET×1), 3 timeouts", or nothing if all answered 2xx. */
function failures({ nonOk, statuses, errors, errorKinds, timeouts }) {
  const parts = [
    nonOk ? `${nonOk} non-2xx (${statuses})` : "",
    errors ? `${errors} errors (${errorKinds})` : "",
    timeouts ? `${timeouts} timeouts` : "",
  ].filter(Boolean);
  return parts.length ? `; ${parts.join(", ")}` : "";
}

/** Throughput of 2xx answers, latency percentiles over every answer, and what went wrong. */
function summarize(items, { started, last, results }) {
  const latencies = [];
  const okItems = [];
  const statuses = new Map();
  const errorKinds = new Map();
  let errors = 0;
  let timeouts = 0;
  let lastOk = started;
  results.forEach((r, i) => {
    // Every request, timeouts included (at the timeout): a webhook the provider gave up on is late.
    latencies.push(r.ms);
    if (r.status >= 200 && r.status < 300) {
      okItems.push(items[i]);
      if (r.at > lastOk) lastOk = r.at;
    } else if (r.timeout) timeouts++;
    else if (!r.status) {
      errors++;
      errorKinds.set(r.error, (errorKinds.get(r.error) ?? 0) + 1);
    } else statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  });
  latencies.sort((a, b) => a - b);
  const seconds = Math.max(last - started, 1) / 1000;
  return {
    sent: results.length,
    ok: okItems.length,
    okItems,
    seconds,
    perSecond: okItems.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? 0,
    nonOk: [...statuses.values()].reduce((a, b) => a + b, 0),
    statuses: [...statuses].map(([code, n]) => `${code}×${n}`).join(" "),
    errors,
    errorKinds: [...errorKinds].map(([why, n]) => `${why}×${n}`).join(" "),
    timeouts,
    lastOk,
  };
}

/**
 * Strong reads of each item's address (D1, the source of truth): `allowed` are the opt-outs that do
 * not block (lost), `unverified` those whose read failed. `get`: one `GET /v1/check` per address;
 * `batch`: one `POST /v1/check` per 1000 addresses of an account (the same D1 read).
 */
async function auditStrong(client, route, items, mode) {
  // A control read with them: an address of the same account that nobody opted out must read
  // "allowed", or the audit could not tell a lost opt-out from a kept one.
  const control = items.length ? { ...items[0], address: nextPhone("917") } : null;
  const first = await strongReads(client, route, control ? [control, ...items] : items, mode);
  // A read that failed says nothing about the opt-out: read those again, a few times.
  let { unverified, failures } = first;
  for (let attempt = 1; unverified.length && attempt <= 3; attempt++) {
    await new Promise((r) => setTimeout(r, 1000 * attempt));
    const again = await strongReads(client, route, unverified, mode);
    first.allowed.push(...again.allowed);
    ({ unverified, failures } = again);
  }
  const controlRead = !control
    ? null
    : first.allowed.includes(control)
      ? "allowed"
      : unverified.includes(control)
        ? "unreadable"
        : "blocked";
  return {
    allowed: first.allowed.filter((item) => item !== control),
    unverified: unverified.filter((item) => item !== control),
    failures,
    control: controlRead,
  };
}

async function strongReads(client, route, items, mode) {
  const allowed = [];
  const unverified = [];
  const failed = new Map();
  const fail = (res, list) => {
    unverified.push(...list);
    const why = res.status || res.error;
    failed.set(why, (failed.get(why) ?? 0) + list.length);
  };
  const failures = () => [...failed].map(([why, n]) => `${why}×${n}`).join(" ");
  if (mode === "get") {
    await mapLimit(items, AUDIT_CONCURRENCY, async (item) => {
      const query = new URLSearchParams({
        address: item.address,
        sender: item.sender,
        channel: "sms",
        consistency: "strong",
      });
      const res = await client.send(
        { path: `/v1/check?${query}`, headers: { authorization: `Bearer ${item.account.key}` } },
        route,
        { keepBody: true },
      );
      if (res.status !== 200) fail(res, [item]);
      else if (JSON.parse(res.body).allowed !== false) allowed.push(item);
    });
    return { allowed, unverified, failures: failures() };
  }
  const batches = [...groupBy(items, (item) => item.account.id).values()].flatMap((list) =>
    chunk(list, 1000),
  );
  await mapLimit(batches, 4, async (batch) => {
    const res = await client.send(
      {
        method: "POST",
        path: "/v1/check",
        headers: { authorization: `Bearer ${batch[0].account.key}`, "content-type": "application/json" },
        body: JSON.stringify({
          items: batch.map((item) => ({ address: item.address, sender: item.sender, channel: "sms" })),
          consistency: "strong",
        }),
      },
      route,
      { keepBody: true },
    );
    if (res.status !== 200) {
      fail(res, batch);
      return;
    }
    JSON.parse(res.body).results.forEach((result, j) => {
      if (result.error) fail({ error: result.error.code }, [batch[j]]);
      else if (result.allowed !== false) allowed.push(batch[j]);
    });
  });
  return { allowed, unverified, failures: failures() };
}

/** A campaign's STOPs at once: webhook latency, then how long until every 2xx'd one blocks. */
async function runBurst(client, account, say) {
  const route = { pool: "edge", isolates: BURST_ISOLATES };
  say(`burst: signing ${BURST} STOP webhooks from distinct numbers`);
  const items = await buildItems(client, route, "mo", [account], BURST, "415");
  say(`burst: sending them, ${BURST_CONCURRENCY} at a time, over ${BURST_ISOLATES} isolates`);
  const load1 = loadavg()[0];
  const loop = await closedLoop(client, route, items, { clients: BURST_CONCURRENCY });
  const figures = summarize(items, loop);
  say(
    `burst: ${figures.ok} of ${figures.sent} answered 2xx in ${figures.seconds.toFixed(1)} s, ` +
      `p99 ${figures.p99.toFixed(0)} ms` +
      failures(figures),
  );

  // Strong reads of the 2xx'd STOPs until all block (or BENCH_BURST_WAIT after the last 2xx).
  // A STOP that reads "allowed" on a strong read after its 2xx is recorded; one whose read fails is
  // read again on the next pass (the time then counts: nobody could confirm it blocks).
  let pending = figures.okItems;
  let blockedAt = null;
  let firstPass = null;
  let passes = 0;
  const readAllowed = new Set();
  const unreadable = new Map();
  for (;;) {
    const passStarted = performance.now();
    const read = await strongReads(client, route, pending, "batch");
    firstPass ??= performance.now() - passStarted;
    passes++;
    for (const item of read.allowed) readAllowed.add(item);
    if (read.failures) unreadable.set(passes, read.failures);
    pending = [...read.allowed, ...read.unverified];
    if (!pending.length) {
      blockedAt = performance.now();
      break;
    }
    if (performance.now() - figures.lastOk > BURST_WAIT * 1000) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (readAllowed.size || unreadable.size) {
    say(
      `burst: ${passes} strong-read passes; ${readAllowed.size} 2xx'd STOPs read "allowed" at least once; ` +
        `failed reads: ${[...unreadable].map(([pass, why]) => `pass ${pass}: ${why}`).join(", ") || "none"}`,
    );
  }
  const audit = await auditStrong(client, route, figures.okItems, AUDIT);
  const result = {
    count: BURST,
    concurrency: BURST_CONCURRENCY,
    isolates: BURST_ISOLATES,
    ...figures,
    okItems: undefined,
    blockedAfter: blockedAt === null ? null : (blockedAt - figures.lastOk) / 1000,
    strongPassMs: firstPass,
    strongPasses: passes,
    readAllowedOnce: readAllowed.size,
    lost: audit.allowed.length,
    unverified: audit.unverified.length,
    auditFailures: audit.failures,
    auditControl: audit.control,
    load1,
  };
  say(
    `burst: ${
      result.blockedAfter === null
        ? `${pending.length} still not blocking ${BURST_WAIT} s after the last 2xx`
        : `all blocking ${result.blockedAfter.toFixed(2)} s after the last 2xx`
    }; ${auditText(result)}`,
  );
  return result;
}

// ---------- report ----------

/** Milliseconds; a figure at the client's timeout is "at least" it (timeouts count at the timeout). */
const ms = (v) => (v >= TIMEOUT_MS ? `≥ ${TIMEOUT_MS}` : v.toFixed(0));
const perSecond = (v) => v.toFixed(v < 10 ? 1 : 0);

/** Prints the tables; returns true if anything failed. */
function printReport({ machine, settings, ceiling, rows, burst }) {
  let failed = false;
  const problems = (r) =>
    r.nonOk + r.errors + r.timeouts + r.lost + r.unverified + (r.auditControl === "blocked" ? 1 : 0);
  if (ceiling.some((c) => c.nonOk + c.errors + c.timeouts)) failed = true;
  if (ceiling.length) {
    const lines = [
      `ceiling: GET /health (no storage) through the front worker, ${settings.clients} clients, ` +
        `${settings.seconds} s: what this machine's stack serves at most`,
      "",
      "| isolates | requests | req/s | p50 ms | p99 ms | non-2xx / errors / timeouts | load 1 min |",
      "|--:|--:|--:|--:|--:|--:|--:|",
      ...ceiling.map(
        (c) =>
          `| ${c.isolates} | ${c.sent} | ${c.perSecond.toFixed(0)} | ${ms(c.p50)} | ${ms(c.p99)} | ` +
          `${c.nonOk} / ${c.errors} / ${c.timeouts} | ${c.load1.toFixed(2)} |`,
      ),
    ];
    console.log(`\n${lines.join("\n")}\n`);
  }
  for (const group of ["contention", "latency"]) {
    const mine = rows.filter((r) => r.group === group);
    if (!mine.length) continue;
    const lines = [
      group === "contention"
        ? `contention: committed opt-outs/s by isolates, ${settings.clients} clients; goal (issue 11): ` +
          `${ISOLATES.at(-1)} isolates ≥ ${GOALS.ratio.toFixed(1)}× one isolate, 0 non-2xx, 0 lost`
        : `latency: the same with every D1 round trip + ${settings.d1DelayMs} ms; goal (issue 11): ` +
          `8 isolates, 64 clients, 1 account ≥ ${GOALS.latencyPerSecond.toLocaleString("en-US")} committed/s`,
      "",
      `| workload | accounts | isolates | sent | 2xx | committed/s | vs N=${ISOLATES[0]} | p50 ms | p99 ms | max ms | non-2xx | errors / timeouts | lost (unverified) | load 1 min | goal met |`,
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|---|",
    ];
    for (const r of mine) {
      const first = mine.find((o) => o.id === r.id && o.round === r.round && o.isolates === ISOLATES[0]);
      const ratio = first && r !== first ? r.perSecond / first.perSecond : null;
      let met = "";
      if (group === "contention" && ratio !== null) {
        const clean = mine.filter((o) => o.id === r.id && o.round === r.round).every((o) => !problems(o));
        met = ratio >= GOALS.ratio && clean ? "yes" : "**no**";
      }
      if (group === "latency" && r.isolates === 8 && r.clients === 64 && r.accounts === 1) {
        met = r.perSecond >= GOALS.latencyPerSecond && !problems(r) ? "yes" : "**no**";
      }
      if (problems(r)) failed = true;
      lines.push(
        `| ${WORKLOADS[r.workload].label} | ${r.accounts} | ${r.isolates} | ${r.sent} | ${r.ok} | ` +
          `${perSecond(r.perSecond)} | ${ratio === null ? "" : `${ratio.toFixed(2)}×`} | ${ms(r.p50)} | ` +
          `${ms(r.p99)} | ${ms(r.max)} | ${r.nonOk ? `**${r.nonOk}** (${r.statuses})` : "0"} | ` +
          `${r.errors}${r.errorKinds ? ` (${r.errorKinds})` : ""} / ${r.timeouts} | ${r.lost ? `**${r.lost}**` : 0}${r.unverified ? ` (${r.unverified})` : ""}${r.auditControl === "blocked" ? " **void**" : ""} | ` +
          `${r.load1.toFixed(2)} | ${met} |`,
      );
    }
    console.log(`\n${lines.join("\n")}\n`);
  }
  if (burst) {
    const b = burst;
    if (problems(b)) failed = true;
    const blocked = b.blockedAfter === null ? `> ${settings.burst.wait} s` : `${b.blockedAfter.toFixed(2)} s`;
    const met =
      b.p99 <= GOALS.burstP99 &&
      b.blockedAfter !== null &&
      b.blockedAfter <= GOALS.burstBlockedWithin &&
      !problems(b);
    console.log(
      [
        "",
        `burst: signed STOPs from distinct numbers to one account; goal (issue 11): webhook p99 ≤ ` +
          `${GOALS.burstP99 / 1000} s, all blocking within ${GOALS.burstBlockedWithin} s of the last 2xx, 0 lost`,
        "",
        "| STOPs | concurrency | isolates | 2xx | non-2xx | errors / timeouts | seconds | webhooks/s | p50 ms | p99 ms | max ms | last 2xx → all blocking | one strong-read pass | lost (unverified) | load 1 min | goal met |",
        "|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        `| ${b.sent} | ${b.concurrency} | ${b.isolates} | ${b.ok} | ${b.nonOk ? `**${b.nonOk}** (${b.statuses})` : "0"} | ` +
          `${b.errors}${b.errorKinds ? ` (${b.errorKinds})` : ""} / ${b.timeouts} | ${b.seconds.toFixed(1)} | ${perSecond(b.perSecond)} | ${ms(b.p50)} | ` +
          `${ms(b.p99)} | ${ms(b.max)} | ${blocked} | ${ms(b.strongPassMs ?? 0)} ms | ` +
          `${b.lost ? `**${b.lost}**` : 0}${b.unverified ? ` (${b.unverified})` : ""}${b.auditControl === "blocked" ? " **void**" : ""} | ${b.load1.toFixed(2)} | ` +
          `${met ? "yes" : "**no**"} |`,
        "",
      ].join("\n"),
    );
  }
  console.log(
    `[bench] groups: ${machine.cpus} × ${machine.model}; load ${machine.loadAtStart.join(" ")} → ` +
      `${machine.loadAtEnd.join(" ")}; audit ${settings.audit}; timeout ${settings.timeoutMs} ms; ` +
      `Durable Objects: ${settings.durableObjects.join(", ") || "none"}`,
  );
  if (failed) {
    console.error(
      "[bench] FAILED (groups): non-2xx answers, errors, timeouts, lost opt-outs or failed audit reads (above)",
    );
  }
  return failed;
}

// ---------- small helpers ----------

function range(n) {
  return Array.from({ length: n }, (_, i) => i);
}

function chunk(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function groupBy(list, key) {
  const out = new Map();
  for (const item of list) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}

async function mapLimit(list, limit, fn) {
  const out = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      out[i] = await fn(list[i], i);
    }
  };
  await Promise.all(range(Math.min(limit, list.length)).map(worker));
  return out;
}

/** Nearest rank. */
function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
