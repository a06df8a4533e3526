// What the contention groups (contention.mjs) and the scale groups (scale.mjs) share: a pool of
// copies of the edge's production bundle in one workerd behind the round-robin front worker
// (front/index.js), with every binding from wrangler.jsonc; the keep-alive client; seeding
// accounts; building signed STOPs, API adds and one-clicks; closed-loop load; the figures of a
// run; the strong-read audit. See contention.mjs's header for how the pools are made.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { inboundPayload, signWebhook } from "../scripts/mo-payloads.mjs";
import { applyMigrations, clientIp, edgeRoot } from "./common.mjs";

/** `"1,8"` → [1, 8] (positive integers only). */
export const numbers = (value) =>
  value
    .split(",")
    .map((v) => Number(v.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
export const option = (name, fallback) => Number(process.env[name] ?? fallback);
export const TIMEOUT_MS = option("BENCH_TIMEOUT_MS", 15_000);
const AUDIT_CONCURRENCY = 32;

export const SENDER = "ACME";
export const MO_TO = "+14155559000";
export const PUBLIC_BASE_URL = "https://optout.bench.example";
const frontScript = fileURLToPath(new URL("front/index.js", import.meta.url));

/** `contention-mo-64acct` is selected by itself, `contention-mo` or `contention`. */
export function selected(only, id) {
  if (!only) return true;
  const parts = id.split("-");
  return parts.some((_, i) => only.has(parts.slice(0, i + 1).join("-")));
}

export const WORKLOADS = {
  api: { label: "API add", area: "202", sender: SENDER },
  mo: { label: "signed MO STOP", area: "312", sender: MO_TO },
  oneclick: { label: "one-click", area: "646", sender: SENDER },
};

// ---------- the pools ----------

/**
 * wrangler.jsonc through wrangler's own reading of it, the Miniflare options it implies, and the
 * values the pools run with: vars from wrangler.jsonc, long random secrets, production mode.
 */
export async function edgeConfig() {
  const wrangler = await import("wrangler");
  const configPath = join(edgeRoot, "wrangler.jsonc");
  const config = wrangler.unstable_readConfig({ config: configPath });
  const { workerOptions } = wrangler.unstable_getMiniflareWorkerOptions(config);
  const secrets = secretsFor(config);
  return {
    config,
    configPath,
    workerOptions,
    secrets,
    adminToken: secrets.ADMIN_TOKEN,
    bindings: { ...config.vars, ...secrets, PUBLIC_BASE_URL, ENVIRONMENT: "production" },
    durableObjects: Object.keys(workerOptions.durableObjects ?? {}),
  };
}

/**
 * One workerd (Miniflare) running `pools` (`{ [name]: { script, size, suffix, bindings } }`) as
 * copies `<name>-0` … behind the front worker, storage persisted under `<work>/<prefix>-{d1,kv,do}`,
 * migrations applied to each pool's databases; `extraWorkers` run beside them (reachable with
 * `mf.getWorker(name)`). Returns `{ mf, base, client }`; the caller disposes `mf`.
 */
export async function startPools({ work, runtime, edge, pools, prefix, label, say, extraWorkers = [] }) {
  const { config, configPath, workerOptions, durableObjects } = edge;
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
  say(
    `${label}: ${Object.entries(pools)
      .map(([name, p]) => `${p.size} × ${name}`)
      .join(", ")} behind a round-robin front worker; bindings from wrangler.jsonc: ` +
      `D1 ${Object.keys(workerOptions.d1Databases ?? {}).join(", ") || "none"}, ` +
      `KV ${Object.keys(workerOptions.kvNamespaces ?? {}).join(", ") || "none"}, ` +
      `Durable Objects ${durableObjects.join(", ") || "none"}`,
  );
  const mf = new Miniflare({
    ...runtime,
    d1Persist: join(work, `${prefix}-d1`),
    kvPersist: join(work, `${prefix}-kv`),
    durableObjectsPersist: join(work, `${prefix}-do`),
    workers: [front, ...workers, ...extraWorkers],
  });
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
    return { mf, base, client: new Client(base) };
  } catch (err) {
    await mf.dispose();
    throw err;
  }
}

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
export class Client {
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

export async function seedAccount(client, route, adminToken, i) {
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
export function nextPhone(area) {
  const i = counters.get(area) ?? 0;
  counters.set(area, i + 1);
  if (i >= 800_000) throw new Error(`area ${area}: out of numbers`);
  return `+1${area}${420 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, "0")}`;
}

/** A signed Twilio STOP from `from` to the account's webhook, as Twilio would post it. */
export async function stopWebhook(account, from) {
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
export async function buildItems(client, route, workload, accounts, count, area = WORKLOADS[workload].area) {
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
 * the items run out, `seconds` pass or `stop()` says so; answers in flight then still count.
 */
export async function closedLoop(
  client,
  route,
  items,
  { clients, seconds = Number.POSITIVE_INFINITY, stop = () => false },
) {
  const results = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let last = started;
  // Connections of their own, opened by this run: none left idle (and closed by the server) before.
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const loop = async () => {
    while (next < items.length && performance.now() < deadline && !stop()) {
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
export function auditText({ lost, unverified, auditFailures, auditControl }) {
  return (
    `lost ${lost}` +
    (unverified ? `, ${unverified} unverified (${auditFailures})` : "") +
    (auditControl === "blocked" ? ", AUDIT VOID: the control address, never opted out, read blocked" : "") +
    (auditControl === "unreadable" ? ", the control read failed too" : "")
  );
}

/** "; 2 non-2xx (503×2), 1 error (ECONNRESET×1), 3 timeouts", or nothing if all answered 2xx. */
export function failures({ nonOk, statuses, errors, errorKinds, timeouts }) {
  const parts = [
    nonOk ? `${nonOk} non-2xx (${statuses})` : "",
    errors ? `${errors} errors (${errorKinds})` : "",
    timeouts ? `${timeouts} timeouts` : "",
  ].filter(Boolean);
  return parts.length ? `; ${parts.join(", ")}` : "";
}

/** Throughput of 2xx answers, latency percentiles over every answer, and what went wrong. */
export function summarize(items, { started, last, results }) {
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
export async function auditStrong(client, route, items, mode) {
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

export async function strongReads(client, route, items, mode) {
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

// ---------- small helpers ----------

export function range(n) {
  return Array.from({ length: n }, (_, i) => i);
}

export function chunk(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export function groupBy(list, key) {
  const out = new Map();
  for (const item of list) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export async function mapLimit(list, limit, fn) {
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
export function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
