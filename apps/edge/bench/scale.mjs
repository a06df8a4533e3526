// The isolation, deadlines and d1-size groups of `pnpm --filter @optout/edge bench` (issue 11, items
// 3 and 4), run by run.mjs after the contention groups. Each group starts its own pool (pool.mjs:
// copies of the edge's production bundle in one workerd behind the round-robin front worker, every
// binding from wrangler.jsonc including the LEDGER_WRITER Durable Object, production mode) on its
// own D1, KV and Durable Object storage, so one group's rows never count in another's figures.
//
// Groups (scenario ids for BENCH_ONLY; a prefix selects everything under it, e.g. `isolation`):
// - isolation-{events,stops,sync}: account B's single opt-outs (`POST /v1/blocklist`, one at a time,
//   distinct addresses) for BENCH_ISOLATION_SECONDS with nothing else running (idle), then again
//   while account A bursts, through the same BENCH_ISOLATION_ISOLATES isolates: `events`,
//   BENCH_ISOLATION_BATCHES concurrent `POST /v1/events` of BENCH_ISOLATION_BATCH `sent` events for
//   new message ids (A has a `not_opened` and a `bounced` rule); `stops`, BENCH_ISOLATION_STOPS
//   signed Twilio STOPs from distinct numbers, BENCH_ISOLATION_CONCURRENCY at a time (the burst
//   group's code path: pool.mjs buildItems + closedLoop); `sync`, BENCH_ISOLATION_BATCHES
//   concurrent `POST /v1/sync/apply` of BENCH_ISOLATION_BATCH opt-outs for A (SYNC_TOKEN, the
//   pool's secret). A sends one burst after another until BENCH_ISOLATION_SECONDS have passed
//   (the next burst is built while one is sent), and B's loop runs until A's last burst is
//   answered, so every B request it counts met A's load. Idle and burst are measured back to
//   back for each workload. Figures: B's p50/p99 idle and under the burst and their ratio (goal:
//   ≤ 2×, both), A's throughput in items/s (events, STOPs or changes). Afterwards every 2xx'd
//   opt-out of B and every STOP and sync opt-out of A must block under a strong read (batched
//   `POST /v1/check`, `consistency: strong`). Read the ratios as an upper bound: here every
//   isolate shares workerd's one thread, every writer (A's and B's) lives in edge-0's isolate, and
//   a local KV put costs that thread milliseconds, so a burst that writes KV (STOPs, sync) holds
//   B back far more than on Cloudflare, where A's and B's writers need not share an isolate.
//   Connections that wait more than about 5 s on a saturated workerd are reset by the runtime
//   (ECONNRESET, seen with a trivial CPU-bound worker too): such errors mean "saturated".
// - deadlines: BENCH_DEADLINES due `not_opened` deadlines seeded in D1 (as
//   src/triggers/drain.test.ts does: a message, its `sent` event and a pending deadline 60 s after
//   it, each row what `POST /v1/events` would have written, over the last two hours), split over
//   accounts as BENCH_DEADLINES_SPLIT (default 70 %, 20 %, the rest and 1: 70,000 / 20,000 /
//   9,999 / 1), each account's rule created through the API (so its writer's rules version is
//   right). Then the Worker's `scheduled` handler (Miniflare `getWorker("edge-0").scheduled()`, the
//   Cron Trigger's entry) runs again and again, each run one cron invocation (one "minute"),
//   started as soon as the last one returned, with the clock as its scheduled time (after every
//   deadline; never ahead of the clock, where the cron would take live KV debts for a dead
//   writer's), until nothing is pending (or BENCH_DEADLINES_MAX_SECONDS). Figures: runs and
//   their wall time (a run returns only once the writers it called have written KV, in this
//   runtime), the time of the last settlement (`settled_at`, the writer's clock at its commit)
//   and settled/s by it, when KV was written (kv_outbox empty: an upper bound, a writer deletes
//   paid rows a second after its last KV write), per account the run and the time
//   of its last settlement — fairness: the smallest account must settle in the first run — fired
//   = seeded, firings, active entries, and each account's chain verified with @optout/core's
//   `verifyChain` over `GET /v1/changes` (run in workerd by bench/verify, a worker built with
//   wrangler: Node cannot import core's TypeScript). Goal: the last settlement within 5 minutes.
// - d1-size: through the API, an account with one `not_opened` rule (1 day) and BENCH_D1_MESSAGES
//   email messages, each with `sent`, `delivered` and `opened` events (`POST /v1/events`, 1000
//   events a request, all the `sent` first, then `delivered`, then `opened`, BENCH_D1_CONCURRENCY
//   requests in flight). D1's size is measured at each stage as D1 reports it (`meta.size_after`,
//   the database size after a statement: (page_count − freelist_count) × page_size) and from the
//   persisted database file and its WAL (sqlite-pages.mjs: page count, freelist and the pages of
//   every table and index — `PRAGMA page_count`/`freelist_count` are refused by D1 with
//   SQLITE_AUTH and `dbstat` does not exist there, which the group tries and reports). Stages:
//   empty (schema, account, rule); after the events; after the cron settled the deadlines (a
//   scheduled time two days on: each `opened` cancels its deadline); after the retention sweep (a
//   scheduled time past the retention, RETENTION_DAYS from wrangler.jsonc or the edge's default
//   90, run until the tables it sweeps are empty); after BENCH_D1_OPTOUTS API opt-outs for new
//   addresses (what remains after the sweep grows with the ledger and the entries). Figures: bytes
//   per message, per 1 M messages, messages until D1's 10 GB limit (10^10 bytes), per table.
//
// A non-2xx, an error or a timeout, a lost opt-out, a cron run that did not end "ok", fired ≠
// seeded, a chain that does not verify, or a group that could not run fails the run (exit 1) after
// the tables are printed; goals not met do not.
//
// These groups alone, small: `BENCH_ONLY=isolation BENCH_ISOLATION_SECONDS=3`,
// `BENCH_ONLY=deadlines BENCH_DEADLINES=5000`, `BENCH_ONLY=d1-size BENCH_D1_MESSAGES=5000`.
//
// Options (environment): BENCH_ISOLATION_ISOLATES (8), BENCH_ISOLATION_SECONDS (5),
// BENCH_ISOLATION_BATCHES (5), BENCH_ISOLATION_BATCH (1000), BENCH_ISOLATION_STOPS (2000),
// BENCH_ISOLATION_CONCURRENCY (128); BENCH_DEADLINES (100000), BENCH_DEADLINES_SPLIT (counts per
// account, e.g. `70000,20000,9999,1`; overrides BENCH_DEADLINES), BENCH_DEADLINES_MAX_SECONDS (900);
// BENCH_D1_MESSAGES (100000), BENCH_D1_CONCURRENCY (4), BENCH_D1_OPTOUTS (10000; 0 skips);
// BENCH_TIMEOUT_MS (per request, 15000), BENCH_JSON=<path> (every figure as JSON, under `scale`;
// added to the file the contention groups wrote in the same run), BENCH_ONLY (as above).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { build } from "./common.mjs";
import {
  auditStrong,
  auditText,
  buildItems,
  closedLoop,
  edgeConfig,
  failures,
  nextPhone,
  numbers,
  option,
  range,
  SENDER,
  seedAccount,
  selected,
  startPools,
  summarize,
  TIMEOUT_MS,
} from "./pool.mjs";
import { sqlitePages } from "./sqlite-pages.mjs";

const ISOLATION_ISOLATES = option("BENCH_ISOLATION_ISOLATES", 8);
const ISOLATION_SECONDS = option("BENCH_ISOLATION_SECONDS", 5);
const ISOLATION_BATCHES = option("BENCH_ISOLATION_BATCHES", 5);
const ISOLATION_BATCH = option("BENCH_ISOLATION_BATCH", 1000);
const ISOLATION_STOPS = option("BENCH_ISOLATION_STOPS", 2000);
const ISOLATION_CONCURRENCY = option("BENCH_ISOLATION_CONCURRENCY", 128);
const DEADLINES = option("BENCH_DEADLINES", 100_000);
const DEADLINES_SPLIT = process.env.BENCH_DEADLINES_SPLIT ? numbers(process.env.BENCH_DEADLINES_SPLIT) : null;
const DEADLINES_MAX_SECONDS = option("BENCH_DEADLINES_MAX_SECONDS", 900);
const D1_MESSAGES = option("BENCH_D1_MESSAGES", 100_000);
const D1_CONCURRENCY = option("BENCH_D1_CONCURRENCY", 4);
const D1_OPTOUTS = option("BENCH_D1_OPTOUTS", 10_000);
/** D1's maximum database size (Workers Paid), in bytes as Cloudflare states it: 10 GB. */
const D1_LIMIT_BYTES = 10_000_000_000;

/** Issue 11's goals, printed beside the figures (never a reason to fail the run). */
const GOALS = { isolationRatio: 2, deadlinesSeconds: 300 };

const ISOLATION_WORKLOADS = {
  events: { label: "POST /v1/events", unit: "events" },
  stops: { label: "signed MO STOPs", unit: "STOPs" },
  sync: { label: "POST /v1/sync/apply", unit: "changes" },
};

/** Every id these groups answer to, for run.mjs's BENCH_ONLY split. */
export function isScaleScenario(id) {
  return /^(isolation|deadlines|d1)(-|$)/.test(id);
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the selected groups. Returns true if anything failed.
 * @param {{ work: string, edgeScript: string, runtime: object, only: Set<string> | null, say: (line: string) => void }} o
 */
export async function runScaleGroups({ work, edgeScript, runtime, only, say }) {
  const isolation = Object.keys(ISOLATION_WORKLOADS).filter((w) => selected(only, `isolation-${w}`));
  const deadlines = selected(only, "deadlines");
  const d1Size = selected(only, "d1-size");
  if (!isolation.length && !deadlines && !d1Size) return false;
  const processStarted = Date.now() - performance.now();
  const loadAtStart = loadavg();

  const edge = await edgeConfig();
  const ctx = { work, edgeScript, runtime, say, edge };
  const report = {
    when: new Date().toISOString(),
    machine: null,
    settings: {
      isolation: {
        isolates: ISOLATION_ISOLATES,
        seconds: ISOLATION_SECONDS,
        batches: ISOLATION_BATCHES,
        batch: ISOLATION_BATCH,
        stops: ISOLATION_STOPS,
        concurrency: ISOLATION_CONCURRENCY,
      },
      deadlines: { count: DEADLINES, split: DEADLINES_SPLIT, maxSeconds: DEADLINES_MAX_SECONDS },
      d1Size: { messages: D1_MESSAGES, concurrency: D1_CONCURRENCY, optOuts: D1_OPTOUTS },
      timeoutMs: TIMEOUT_MS,
      durableObjects: edge.durableObjects,
    },
    isolation: null,
    deadlines: null,
    d1Size: null,
  };
  const errors = [];
  const attempt = async (name, run) => {
    try {
      report[name] = await run();
    } catch (err) {
      errors.push(name);
      console.error(`[bench] ${name}: ${err.stack ?? err}`);
    }
  };
  if (isolation.length) await attempt("isolation", () => runIsolation(ctx, isolation));
  if (deadlines) await attempt("deadlines", () => runDeadlines(ctx));
  if (d1Size) await attempt("d1Size", () => runD1Size(ctx));
  report.machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? "unknown",
    loadAtStart: loadAtStart.map((l) => l.toFixed(2)),
    loadAtEnd: loadavg().map((l) => l.toFixed(2)),
  };

  let failed = printReport(report);
  if (errors.length) {
    failed = true;
    console.error(`[bench] FAILED (scale): ${errors.join(", ")} could not run (above)`);
  }
  if (process.env.BENCH_JSON) {
    // The contention groups of this run wrote the file already: add to it, under `scale`.
    const path = process.env.BENCH_JSON;
    const ours = existsSync(path) && statSync(path).mtimeMs >= processStarted;
    const json = ours ? JSON.parse(readFileSync(path, "utf8")) : {};
    json.scale = report;
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
    say(`${ours ? "added the scale groups to" : "wrote"} ${path}`);
  }
  return failed;
}

/** One pool of `size` copies of the production bundle, on storage of its own under `prefix`. */
function startPool({ work, edgeScript, runtime, say, edge }, prefix, size, extraWorkers = []) {
  const pools = { edge: { script: edgeScript, size, suffix: "", bindings: edge.bindings } };
  return startPools({ work, runtime, edge, pools, prefix, label: prefix, say, extraWorkers });
}

// ---------- isolation ----------

async function runIsolation(ctx, workloads) {
  const { say, edge } = ctx;
  const route = { pool: "edge", isolates: ISOLATION_ISOLATES };
  const { mf, client } = await startPool(ctx, "isolation", ISOLATION_ISOLATES);
  try {
    say("isolation: seeding account A (two trigger rules, Twilio credentials) and account B");
    const [a, b] = [
      await seedAccount(client, route, edge.adminToken, 0),
      await seedAccount(client, route, edge.adminToken, 1),
    ];
    const rule = (on, name) => client.api(route, "POST", "/v1/triggers", a.key, { name, on });
    await rule({ type: "not_opened", withinSeconds: 3600 }, "not opened within an hour");
    await rule({ type: "bounced" }, "bounced");
    const syncToken = edge.secrets.SYNC_TOKEN;

    /**
     * One burst of A's as requests: `stops` signed STOPs, or `requests` bodies of `size` events or
     * sync changes (those carry the opt-outs they ask for, for the audit).
     */
    const burstOf = async (
      workload,
      { requests = ISOLATION_BATCHES, size = ISOLATION_BATCH, stops = ISOLATION_STOPS } = {},
    ) => {
      if (workload === "stops") return buildItems(client, route, "mo", [a], stops, "479");
      const at = new Date(Date.now() - MINUTE).toISOString();
      return range(requests).map(() => {
        if (workload === "events") {
          const events = range(size).map(() => ({
            type: "sent",
            messageId: `iso-${randomId()}`,
            address: nextPhone("718"),
            sender: SENDER,
            channel: "sms",
            occurredAt: at,
            campaign: "isolation",
          }));
          return { size, request: jsonRequest("/v1/events", a.key, { events }) };
        }
        const opted = range(size).map(() => ({ account: a, address: nextPhone("303"), sender: SENDER }));
        const changes = opted.map((o) => ({
          id: `iso-${randomId()}`,
          accountId: a.id,
          address: o.address,
          channel: "*",
          scope: { type: "account" },
          action: "opt_out",
          occurredAt: at,
        }));
        return { size, opted, request: jsonRequest("/v1/sync/apply", syncToken, { changes }) };
      });
    };
    const optOutsOfB = (count) => buildItems(client, route, "api", [b], count, "505");

    // Warm-up, not counted: every isolate answers B, and A's writer meets each burst kind once.
    say("isolation: warm-up");
    await closedLoop(client, route, await optOutsOfB(4 * ISOLATION_ISOLATES), { clients: 1 });
    for (const workload of workloads) {
      const warm = await burstOf(workload, {
        requests: ISOLATION_ISOLATES,
        size: 10,
        stops: ISOLATION_ISOLATES,
      });
      const figures = summarize(warm, await closedLoop(client, route, warm, { clients: ISOLATION_ISOLATES }));
      if (figures.ok !== warm.length)
        throw new Error(`isolation warm-up (${workload}) failed${failures(figures)}`);
    }

    const rows = [];
    for (const workload of workloads) {
      // Idle: B alone.
      const load1 = loadavg()[0];
      const idleItems = await optOutsOfB(Math.max(1000, ISOLATION_SECONDS * 2000));
      const idle = summarize(
        idleItems,
        await closedLoop(client, route, idleItems, { clients: 1, seconds: ISOLATION_SECONDS }),
      );
      say(
        `isolation-${workload}: B idle ${idle.ok} opt-outs, p50 ${idle.p50.toFixed(1)} ms, ` +
          `p99 ${idle.p99.toFixed(1)} ms${failures(idle)}`,
      );

      // Under A's bursts: B's loop runs until A's last burst is answered.
      const underItems = await optOutsOfB(Math.max(2000, ISOLATION_SECONDS * 4000));
      let burst = await burstOf(workload);
      let aDone = false;
      const bRun = closedLoop(client, route, underItems, { clients: 1, stop: () => aDone });
      const aStarted = performance.now();
      let aLast = aStarted;
      const aItems = [];
      const aResults = [];
      let bursts = 0;
      for (;;) {
        const next = burstOf(workload); // built while this one is sent
        const loop = await closedLoop(client, route, burst, {
          clients: workload === "stops" ? ISOLATION_CONCURRENCY : burst.length,
        });
        bursts++;
        aItems.push(...burst.slice(0, loop.results.length));
        aResults.push(...loop.results);
        if (loop.last > aLast) aLast = loop.last;
        burst = await next;
        if (performance.now() - aStarted >= ISOLATION_SECONDS * 1000) break;
      }
      aDone = true;
      const under = summarize(underItems, await bRun);
      const aFigures = summarize(aItems, { started: aStarted, last: aLast, results: aResults });
      // Items per request: events or changes of a body, or one STOP.
      const units = aFigures.okItems.reduce((n, item) => n + (item.size ?? 1), 0);
      const unitsPerSecond = units / aFigures.seconds;
      say(
        `isolation-${workload}: A sent ${bursts} bursts, ${aFigures.ok} of ${aFigures.sent} requests 2xx, ` +
          `${unitsPerSecond.toFixed(0)} ${ISOLATION_WORKLOADS[workload].unit}/s${failures(aFigures)}; ` +
          `B ${under.ok} opt-outs, p50 ${under.p50.toFixed(1)} ms, p99 ${under.p99.toFixed(1)} ms${failures(under)}`,
      );

      // Every 2xx'd opt-out blocks (B's, and A's STOPs and sync changes).
      const bAudit = await auditStrong(client, route, [...idle.okItems, ...under.okItems], "batch");
      const aOptOuts =
        workload === "stops"
          ? aFigures.okItems
          : workload === "sync"
            ? aFigures.okItems.flatMap((item) => item.opted)
            : [];
      const aAudit = aOptOuts.length
        ? await auditStrong(client, route, aOptOuts, "batch")
        : { allowed: [], unverified: [], failures: "", control: null };
      const row = {
        id: `isolation-${workload}`,
        workload,
        isolates: ISOLATION_ISOLATES,
        idle: strip(idle),
        under: strip(under),
        a: {
          ...strip(aFigures),
          bursts,
          unit: ISOLATION_WORKLOADS[workload].unit,
          units,
          unitsPerSecond,
          audited: aOptOuts.length,
        },
        ratioP50: under.p50 / idle.p50,
        ratioP99: under.p99 / idle.p99,
        lost: bAudit.allowed.length + aAudit.allowed.length,
        unverified: bAudit.unverified.length + aAudit.unverified.length,
        auditFailures: [bAudit.failures, aAudit.failures].filter(Boolean).join(" "),
        auditControl: [bAudit.control, aAudit.control].includes("blocked")
          ? "blocked"
          : [bAudit.control, aAudit.control].includes("unreadable")
            ? "unreadable"
            : bAudit.control,
        load1,
      };
      say(
        `isolation-${workload}: strong reads of ${idle.ok + under.ok} opt-outs of B and ` +
          `${aOptOuts.length} of A: ${auditText(row)}`,
      );
      rows.push(row);
    }
    return { rows };
  } finally {
    await mf.dispose();
  }
}

// ---------- deadlines ----------

async function runDeadlines(ctx) {
  const { say, edge, work } = ctx;
  const split = DEADLINES_SPLIT ?? defaultSplit(DEADLINES);
  const total = split.reduce((s, n) => s + n, 0);
  say("deadlines: building the chain verifier (bench/verify, wrangler deploy --dry-run)");
  const verifyScript = build("bench/verify/wrangler.jsonc", join(work, "verify"));
  const verifier = {
    name: "verify",
    modules: true,
    scriptPath: verifyScript,
    modulesRoot: dirname(verifyScript),
    compatibilityDate: edge.workerOptions.compatibilityDate,
  };
  const route = { pool: "edge", isolates: 1 };
  const { mf, client } = await startPool(ctx, "deadlines", 1, [verifier]);
  try {
    say(`deadlines: ${split.length} accounts, each with a not_opened rule (60 s) made through the API`);
    const accounts = [];
    for (const [i, count] of split.entries()) {
      const account = await seedAccount(client, route, edge.adminToken, i);
      const rule = await client.api(route, "POST", "/v1/triggers", account.key, {
        name: "not opened within a minute",
        on: { type: "not_opened", withinSeconds: 60 },
      });
      accounts.push({ ...account, ruleId: rule.id, count, area: String(212 + i) });
    }

    // Seeded in SQL as drain.test.ts does: per account, messages sent over the last two hours
    // (1 ms apart), each with its `sent` event and its pending deadline 60 s later.
    const db = await mf.getD1Database("DB", "edge-0");
    const sentBase = Date.now() - 2 * 60 * MINUTE;
    const seedStarted = performance.now();
    for (const account of accounts) {
      for (let from = 0; from < account.count; from += 10_000) {
        const to = Math.min(account.count, from + 10_000) - 1;
        const n = `WITH RECURSIVE n(i) AS (SELECT ?3 UNION ALL SELECT i + 1 FROM n WHERE i < ?4)`;
        const sentAt = `strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0 + i / 1000.0, 'unixepoch')`;
        const dueAt = `strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0 + 60 + i / 1000.0, 'unixepoch')`;
        const address = `'+1' || ?5 || printf('%07d', 4200000 + i)`;
        await db.batch([
          db
            .prepare(
              `INSERT INTO messages (message_id, account_id, address, sender, channel, campaign, created_at)
              ${n} SELECT 'dl-' || i, ?1, ${address}, 'ACME', 'sms', 'deadlines', ${sentAt} FROM n`,
            )
            .bind(account.id, sentBase, from, to, account.area),
          db
            .prepare(
              `INSERT INTO message_events (account_id, message_id, type, occurred_at, recorded_at, origin)
              ${n} SELECT ?1, 'dl-' || i, 'sent', ${sentAt}, ${sentAt}, 'api' FROM n`,
            )
            .bind(account.id, sentBase, from, to),
          db
            .prepare(
              `INSERT INTO trigger_deadlines (account_id, rule_id, message_id, due_at, status, created_at)
              ${n} SELECT ?1, ?5, 'dl-' || i, ${dueAt}, 'pending', ${sentAt} FROM n`,
            )
            .bind(account.id, sentBase, from, to, account.ruleId),
        ]);
      }
    }
    const pendingNow = async () => {
      const { results } = await db
        .prepare(
          "SELECT account_id AS accountId, COUNT(*) AS n FROM trigger_deadlines WHERE status = 'pending' GROUP BY account_id",
        )
        .all();
      return new Map(results.map((r) => [r.accountId, r.n]));
    };
    const kvOwedNow = async () => (await db.prepare("SELECT COUNT(*) AS n FROM kv_outbox").first()).n;
    const seeded = await pendingNow();
    for (const account of accounts) {
      if (seeded.get(account.id) !== account.count)
        throw new Error(
          `deadlines: seeded ${seeded.get(account.id) ?? 0} for an account, meant ${account.count}`,
        );
    }
    say(
      `deadlines: seeded ${total.toLocaleString("en-US")} due deadlines (${split.join(" / ")}) in ` +
        `${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
    );

    // The cron, run after run: each run one invocation of the Cron Trigger (one "minute"), started
    // as soon as the last one returned, its scheduled time the clock when it starts — after every
    // deadline, and never ahead of the clock (the cron takes KV debts older than a minute before
    // its scheduled time for a dead writer's: a scheduled time ahead would repay live ones).
    const worker = await mf.getWorker("edge-0");
    const runs = [];
    const doneInRun = new Map();
    const load1 = loadavg()[0];
    const startedWall = Date.now();
    const started = performance.now();
    let pending = total;
    let stalled = 0;
    let lastReturned = started;
    for (let k = 0; pending > 0; k++) {
      const runStarted = performance.now();
      const scheduledTime = new Date();
      let outcome;
      try {
        outcome = (await worker.scheduled({ scheduledTime, cron: "* * * * *" })).outcome;
      } catch (err) {
        outcome = `threw: ${err.message}`;
      }
      lastReturned = performance.now();
      const ms = lastReturned - runStarted;
      const left = await pendingNow();
      const nowPending = [...left.values()].reduce((s, n) => s + n, 0);
      const kvOwed = await kvOwedNow();
      const run = { run: k + 1, ms, outcome, settled: pending - nowPending, pending: nowPending, kvOwed };
      runs.push(run);
      for (const account of accounts) {
        if (!left.get(account.id) && !doneInRun.has(account.id)) doneInRun.set(account.id, run.run);
      }
      say(
        `deadlines: run ${run.run} (${outcome}) settled ${run.settled} in ${(ms / 1000).toFixed(1)} s; ` +
          `${nowPending} pending, ${kvOwed} KV writes owed (kv_outbox)`,
      );
      stalled = run.settled > 0 ? 0 : stalled + 1;
      pending = nowPending;
      if (stalled >= 3 || (performance.now() - started) / 1000 > DEADLINES_MAX_SECONDS) break;
    }
    const seconds = (lastReturned - started) / 1000;
    // The opt-outs reach the check path when the writers have written KV (kv_outbox empty).
    let kvPaidAfter = runs.at(-1)?.kvOwed === 0 ? seconds : null;
    for (const until = performance.now() + 120_000; kvPaidAfter === null && performance.now() < until; ) {
      if ((await kvOwedNow()) === 0) kvPaidAfter = (performance.now() - started) / 1000;
      else await sleep(100);
    }

    // What was written, per account: statuses and the time of the last settlement, firings,
    // ledger events, active entries.
    const [statuses, firings, ledger, entries] = await db.batch([
      db.prepare(
        `SELECT account_id AS accountId, status, COUNT(*) AS n, MIN(settled_at) AS first, MAX(settled_at) AS last
        FROM trigger_deadlines GROUP BY account_id, status`,
      ),
      db.prepare("SELECT account_id AS accountId, COUNT(*) AS n FROM trigger_firings GROUP BY account_id"),
      db.prepare("SELECT account_id AS accountId, COUNT(*) AS n FROM ledger_events GROUP BY account_id"),
      db.prepare(
        "SELECT account_id AS accountId, COUNT(*) AS n FROM blocklist_entries WHERE active = 1 GROUP BY account_id",
      ),
    ]);
    const countOf = (result, id, status) =>
      result.results
        .filter((r) => r.accountId === id && (!status || r.status === status))
        .reduce((s, r) => s + r.n, 0);

    say("deadlines: verifying each account's chain (GET /v1/changes, verifyChain)");
    const chains = await verifyChains(client, route, edge.secrets.SYNC_TOKEN, await mf.getWorker("verify"));
    const perAccount = accounts.map((account) => {
      const last = statuses.results
        .filter((r) => r.accountId === account.id && r.last)
        .map((r) => r.last)
        .sort()
        .at(-1);
      const chain = chains.get(account.id) ?? { ok: false, count: 0, reason: "no events in the feed" };
      return {
        seeded: account.count,
        fired: countOf(statuses, account.id, "fired"),
        cancelled: countOf(statuses, account.id, "cancelled"),
        skipped: countOf(statuses, account.id, "skipped"),
        pending: countOf(statuses, account.id, "pending"),
        firings: countOf(firings, account.id),
        ledgerEvents: countOf(ledger, account.id),
        activeEntries: countOf(entries, account.id),
        lastSettledAfter: last ? (Date.parse(last) - startedWall) / 1000 : null,
        doneInRun: doneInRun.get(account.id) ?? null,
        chain,
      };
    });
    const fired = perAccount.reduce((s, a) => s + a.fired, 0);
    const lastSettledAfter = Math.max(...perAccount.map((a) => a.lastSettledAfter ?? 0));
    const smallest = perAccount.reduce((min, a) => (a.seeded < min.seeded ? a : min), perAccount[0]);
    return {
      id: "deadlines",
      split,
      total,
      runs,
      seconds,
      lastSettledAfter,
      settledPerSecond: (total - pending) / lastSettledAfter,
      kvPaidAfter,
      pending,
      fired,
      perAccount,
      fairFirstRun: smallest.doneInRun === 1,
      load1,
    };
  } finally {
    await mf.dispose();
  }
}

/** 70 %, 20 %, the rest and 1 (100,000 → 70,000 / 20,000 / 9,999 / 1). */
function defaultSplit(total) {
  if (total < 4) return [total];
  const big = Math.round(total * 0.7);
  const mid = Math.round(total * 0.2);
  return [big, mid, total - big - mid - 1, 1];
}

/** Every account's ledger events from the feed, each account's chain verified by bench/verify. */
async function verifyChains(client, route, syncToken, verifier) {
  const byAccount = new Map();
  for (let after = "0"; ; ) {
    const page = await client.api(route, "GET", `/v1/changes?after=${after}&limit=1000`, syncToken);
    for (const event of page.changes) {
      const list = byAccount.get(event.accountId);
      if (list) list.push(event);
      else byAccount.set(event.accountId, [event]);
    }
    if (!page.hasMore) break;
    after = page.next;
  }
  const out = new Map();
  for (const [accountId, events] of byAccount) {
    const res = await verifier.fetch("http://verify/", { method: "POST", body: JSON.stringify({ events }) });
    if (!res.ok) throw new Error(`verify answered ${res.status}: ${await res.text()}`);
    out.set(accountId, await res.json());
  }
  return out;
}

// ---------- d1-size ----------

async function runD1Size(ctx) {
  const { say, edge, work } = ctx;
  const route = { pool: "edge", isolates: 1 };
  const retentionDays = Number(edge.bindings.RETENTION_DAYS ?? 90);
  const { mf, client } = await startPool(ctx, "d1size", 1);
  try {
    const db = await mf.getD1Database("DB", "edge-0");
    // What SQLite itself would say, if D1 let it: recorded, not relied on.
    const tried = {};
    for (const [name, sql] of [
      ["pragma", "PRAGMA page_count"],
      ["dbstat", "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name"],
    ]) {
      try {
        await db.prepare(sql).all();
        tried[name] = "available";
      } catch (err) {
        tried[name] = err.message.replace(/^D1_ERROR:\s*/, "");
      }
    }
    const file = () => {
      const dir = join(work, "d1size-d1", "miniflare-D1DatabaseObject");
      const files = readdirSync(dir)
        .filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")
        .map((f) => join(dir, f));
      if (files.length !== 1)
        throw new Error(`d1-size: expected one database file in ${dir}, found ${files.length}`);
      return files[0];
    };
    const stages = [];
    /** D1's figure and the file's, once nothing is being written (KV debts paid, outbox rows deleted). */
    const measure = async (stage, extra = {}) => {
      for (let waited = 0; ; waited += 250) {
        const { n } = await db.prepare("SELECT COUNT(*) AS n FROM kv_outbox").first();
        if (n === 0) break;
        if (waited > 120_000) throw new Error(`d1-size: ${n} kv_outbox rows still owed after 2 minutes`);
        await sleep(250);
      }
      await sleep(1500); // a writer deletes paid outbox rows a second after its last KV write
      const { meta } = await db.prepare("SELECT 1").run();
      const pages = sqlitePages(file());
      const tables = {};
      for (const o of pages.objects) {
        tables[o.table] ??= { bytes: 0, pages: 0, rows: 0, indexes: 0 };
        const t = tables[o.table];
        t.pages += o.pages + o.overflowPages;
        t.bytes += (o.pages + o.overflowPages) * pages.pageSize;
        if (o.type === "table") t.rows = o.cells;
        else t.indexes++;
      }
      const row = {
        stage,
        d1Bytes: meta.size_after,
        pageSize: pages.pageSize,
        pageCount: pages.pageCount,
        freelistCount: pages.freelistCount,
        liveBytes: (pages.pageCount - pages.freelistCount) * pages.pageSize,
        fileBytes: pages.pageCount * pages.pageSize,
        tables,
        ...extra,
      };
      stages.push(row);
      say(
        `d1-size: ${stage}: D1 size ${mb(row.d1Bytes)}; file ${pages.pageCount} pages of ${pages.pageSize} B, ` +
          `${pages.freelistCount} free (live ${mb(row.liveBytes)})`,
      );
      return row;
    };

    const account = await seedAccount(client, route, edge.adminToken, 0);
    await client.api(route, "POST", "/v1/triggers", account.key, {
      name: "not opened within a day",
      on: { type: "not_opened", withinSeconds: 86_400 },
    });
    const empty = await measure("empty (schema, account, rule)");

    // N email messages: every `sent` first, then every `delivered`, then every `opened`.
    const prefix = Math.floor(Math.random() * 0xffffffff)
      .toString(16)
      .padStart(8, "0");
    const messageId = (i) => `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
    const sentAt = Date.now() - 2 * 60 * MINUTE;
    const types = [
      ["sent", 0],
      ["delivered", 3_000],
      ["opened", 20 * MINUTE],
    ];
    const perRequest = 1000;
    const requests = [];
    for (const [type, after] of types) {
      for (let from = 0; from < D1_MESSAGES; from += perRequest) requests.push({ type, after, from });
    }
    // Built as each is sent: a million messages are three thousand 200 KB bodies.
    const items = requests.map(({ type, after, from }) => ({
      get request() {
        const events = range(Math.min(perRequest, D1_MESSAGES - from)).map((j) => {
          const i = from + j;
          return {
            type,
            messageId: messageId(i),
            address: `recipient${i}@example.com`,
            sender: "news@acme.example",
            channel: "email",
            occurredAt: new Date(sentAt + i + after).toISOString(),
            campaign: "spring-sale",
          };
        });
        return jsonRequest("/v1/events", account.key, { events });
      },
    }));
    say(
      `d1-size: ${D1_MESSAGES.toLocaleString("en-US")} messages × 3 events in ${items.length} requests, ` +
        `${D1_CONCURRENCY} in flight`,
    );
    const load1 = loadavg()[0];
    const events = summarize(items, await closedLoop(client, route, items, { clients: D1_CONCURRENCY }));
    say(
      `d1-size: ${events.ok} of ${events.sent} requests 2xx in ${events.seconds.toFixed(1)} s ` +
        `(${((events.ok * perRequest) / events.seconds).toFixed(0)} events/s)${failures(events)}`,
    );
    const [{ n: recordedEvents }, { n: recordedMessages }, { n: pendingDeadlines }] = await Promise.all([
      db.prepare("SELECT COUNT(*) AS n FROM message_events").first(),
      db.prepare("SELECT COUNT(*) AS n FROM messages").first(),
      db.prepare("SELECT COUNT(*) AS n FROM trigger_deadlines WHERE status = 'pending'").first(),
    ]);
    const afterEvents = await measure("after the events", {
      messages: recordedMessages,
      events: recordedEvents,
      pendingDeadlines,
    });

    // The cron settles the deadlines (each opened in time: cancelled), at a scheduled time after
    // all of them and well inside the retention (nothing is swept yet).
    const worker = await mf.getWorker("edge-0");
    const cron = async (scheduledTime, done, what) => {
      const started = performance.now();
      let runs = 0;
      for (let stalled = 0; stalled < 3; ) {
        const before = await done();
        if (before === 0) break;
        const { outcome } = await worker.scheduled({
          scheduledTime: new Date(scheduledTime),
          cron: "* * * * *",
        });
        runs++;
        if (outcome !== "ok") throw new Error(`d1-size: the cron (${what}) ended "${outcome}"`);
        stalled = (await done()) < before ? 0 : stalled + 1;
      }
      const left = await done();
      const seconds = (performance.now() - started) / 1000;
      say(`d1-size: ${what}: ${runs} cron runs, ${seconds.toFixed(1)} s${left ? `, ${left} rows LEFT` : ""}`);
      return { runs, seconds, left };
    };
    const count = async (sql) => (await db.prepare(sql).first()).n;
    const settling = await cron(
      Date.now() + 2 * DAY,
      () => count("SELECT COUNT(*) AS n FROM trigger_deadlines WHERE status = 'pending'"),
      "settling the deadlines",
    );
    const afterSettling = await measure("after the cron settled the deadlines", {
      cron: settling,
      cancelled: await count("SELECT COUNT(*) AS n FROM trigger_deadlines WHERE status = 'cancelled'"),
    });

    // The retention sweep: a scheduled time past the retention, as often as it takes.
    const sweeping = await cron(
      Date.now() + (retentionDays + 1) * DAY,
      () =>
        count(
          `SELECT (SELECT COUNT(*) FROM message_events) + (SELECT COUNT(*) FROM messages)
            + (SELECT COUNT(*) FROM trigger_deadlines WHERE settled_at IS NOT NULL) AS n`,
        ),
      `the retention sweep (${retentionDays} days)`,
    );
    const afterSweep = await measure(`after the retention sweep (${retentionDays} days)`, { cron: sweeping });

    // What the sweep keeps grows with the ledger and the entries: opt-outs of new addresses.
    let optOuts = null;
    if (D1_OPTOUTS > 0) {
      const adds = await buildItems(client, route, "api", [account], D1_OPTOUTS, "505");
      optOuts = summarize(adds, await closedLoop(client, route, adds, { clients: 16 }));
      say(`d1-size: ${optOuts.ok} API opt-outs in ${optOuts.seconds.toFixed(1)} s${failures(optOuts)}`);
      await measure(`after ${optOuts.ok.toLocaleString("en-US")} API opt-outs`, {
        optOuts: optOuts.ok,
        ledgerEvents: await count("SELECT COUNT(*) AS n FROM ledger_events"),
        entries: await count("SELECT COUNT(*) AS n FROM blocklist_entries"),
      });
    }

    const perMessage = (afterEvents.d1Bytes - empty.d1Bytes) / D1_MESSAGES;
    const last = stages.at(-1);
    const perOptOut = optOuts?.ok ? (last.d1Bytes - afterSweep.d1Bytes) / optOuts.ok : null;
    return {
      id: "d1-size",
      messages: D1_MESSAGES,
      eventsPerMessage: types.length,
      retentionDays,
      tried,
      events: strip(events),
      optOuts: optOuts ? strip(optOuts) : null,
      stages,
      perMessage,
      perMillion: perMessage * 1_000_000,
      messagesUntilLimit: (D1_LIMIT_BYTES - empty.d1Bytes) / perMessage,
      settledPerMessage: (afterSettling.d1Bytes - empty.d1Bytes) / D1_MESSAGES,
      retainedPerMessage: (afterSweep.d1Bytes - empty.d1Bytes) / D1_MESSAGES,
      perOptOut,
      optOutsUntilLimit: perOptOut ? (D1_LIMIT_BYTES - afterSweep.d1Bytes) / perOptOut : null,
      limitBytes: D1_LIMIT_BYTES,
      load1,
    };
  } finally {
    await mf.dispose();
  }
}

// ---------- report ----------

const ms = (v) => (v >= TIMEOUT_MS ? `≥ ${TIMEOUT_MS}` : v < 10 ? v.toFixed(1) : v.toFixed(0));
const int = (v) => Math.round(v).toLocaleString("en-US");
const mb = (bytes) => `${(bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 2 : 1)} MB`;

/** Prints the tables; returns true if anything failed. */
function printReport({ machine, settings, isolation, deadlines, d1Size }) {
  let failed = false;
  const bad = (f) => f.nonOk + f.errors + f.timeouts;
  if (isolation) {
    const s = settings.isolation;
    const lines = [
      `isolation: account B's single opt-outs (POST /v1/blocklist, one at a time) idle and while account A ` +
        `bursts (one burst after another for ≥ ${s.seconds} s), ${s.isolates} isolates; goal (issue 11): ` +
        `B's p50 and p99 under A's burst ≤ ${GOALS.isolationRatio}× idle, 0 non-2xx, 0 lost`,
      "",
      "| A's burst | A bursts | A 2xx / sent | A items/s | A p99 ms | B idle: opt-outs | p50 ms | p99 ms | B under burst: opt-outs | p50 ms | p99 ms | max ms | p50 × idle | p99 × idle | non-2xx / errors / timeouts (A; B) | lost (unverified) | load 1 min | goal met |",
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|---|",
    ];
    for (const r of isolation.rows) {
      const problems =
        bad(r.a) +
        bad(r.idle) +
        bad(r.under) +
        r.lost +
        r.unverified +
        (r.auditControl === "blocked" ? 1 : 0);
      if (problems) failed = true;
      const met = r.ratioP50 <= GOALS.isolationRatio && r.ratioP99 <= GOALS.isolationRatio && !problems;
      const what =
        r.workload === "stops"
          ? `${s.stops} signed STOPs, ${s.concurrency} in flight`
          : `${s.batches} × ${s.batch} ${r.workload === "events" ? "`sent` events" : "sync opt-outs"} (${ISOLATION_WORKLOADS[r.workload].label})`;
      const errs = (f) => `${f.nonOk}${f.statuses ? ` (${f.statuses})` : ""} / ${f.errors} / ${f.timeouts}`;
      lines.push(
        `| ${what} | ${r.a.bursts} | ${r.a.ok} / ${r.a.sent} | ${int(r.a.unitsPerSecond)} ${r.a.unit} | ` +
          `${ms(r.a.p99)} | ${r.idle.ok} | ${ms(r.idle.p50)} | ${ms(r.idle.p99)} | ${r.under.ok} | ` +
          `${ms(r.under.p50)} | ${ms(r.under.p99)} | ${ms(r.under.max)} | ${r.ratioP50.toFixed(2)}× | ` +
          `${r.ratioP99.toFixed(2)}× | ${errs(r.a)}; ${errs(r.under)} | ` +
          `${r.lost ? `**${r.lost}**` : 0}${r.unverified ? ` (${r.unverified})` : ""}${r.auditControl === "blocked" ? " **void**" : ""} | ` +
          `${r.load1.toFixed(2)} | ${met ? "yes" : "**no**"} |`,
      );
    }
    console.log(`\n${lines.join("\n")}\n`);
  }
  if (deadlines) {
    const d = deadlines;
    const chainsOk = d.perAccount.every((a) => a.chain.ok && a.chain.count === a.fired);
    const allFired = d.fired === d.total && d.pending === 0;
    const runsOk = d.runs.every((r) => r.outcome === "ok");
    if (!chainsOk || !allFired || !runsOk) failed = true;
    const met =
      allFired && d.lastSettledAfter <= GOALS.deadlinesSeconds && d.fairFirstRun && chainsOk && runsOk;
    const lines = [
      `deadlines: ${int(d.total)} due not_opened deadlines over ${d.split.length} accounts (${d.split
        .map(int)
        .join(" / ")}), the Worker's scheduled handler run once a "minute" as soon as the last run ` +
        `returned; goal (issue 11): all settled (the last \`settled_at\`) within ${GOALS.deadlinesSeconds / 60} ` +
        "minutes, fairly (the smallest account in the first run)",
      "",
      "| deadlines | accounts | cron runs | wall time (last run returned) | last settlement after | KV written (kv_outbox empty) by | settled/s | fired / seeded | pending | smallest account settled in run | chains verify | load 1 min | goal met |",
      "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|---|",
      `| ${int(d.total)} | ${d.split.length} | ${d.runs.length} | ${d.seconds.toFixed(1)} s | ` +
        `${d.lastSettledAfter.toFixed(1)} s | ${d.kvPaidAfter === null ? "**> 120 s after the last run**" : `${d.kvPaidAfter.toFixed(1)} s`} | ` +
        `${int(d.settledPerSecond)} | ` +
        `${int(d.fired)} / ${int(d.total)}${allFired ? "" : " **no**"} | ${int(d.pending)} | ` +
        `${d.perAccount.reduce((m, a) => (a.seeded < m.seeded ? a : m)).doneInRun ?? "never"} | ` +
        `${chainsOk ? "yes" : "**no**"} | ${d.load1.toFixed(2)} | ${met ? "yes" : "**no**"} |`,
      "",
      "| account | seeded | fired | cancelled / skipped | firings | ledger events | active entries | done in run | last settlement after | chain (verifyChain) |",
      "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
      ...d.perAccount.map(
        (a, i) =>
          `| ${i + 1} | ${int(a.seeded)} | ${int(a.fired)} | ${a.cancelled} / ${a.skipped} | ${int(a.firings)} | ` +
          `${int(a.ledgerEvents)} | ${int(a.activeEntries)} | ${a.doneInRun ?? "never"} | ` +
          `${a.lastSettledAfter === null ? "—" : `${a.lastSettledAfter.toFixed(1)} s`} | ` +
          `${a.chain.ok ? `ok, ${int(a.chain.count)} events` : `**${a.chain.reason ?? "broken"}** at ${a.chain.brokenAt}`} |`,
      ),
      "",
      `cron runs (s, settled, KV writes owed when it returned): ${d.runs
        .map(
          (r) =>
            `${(r.ms / 1000).toFixed(1)}${r.outcome === "ok" ? "" : ` **${r.outcome}**`} (${int(r.settled)}, ${int(r.kvOwed)})`,
        )
        .join(", ")}`,
    ];
    console.log(`\n${lines.join("\n")}\n`);
  }
  if (d1Size) {
    const d = d1Size;
    if (bad(d.events) || (d.optOuts && bad(d.optOuts))) failed = true;
    // The tables whose size changed at some stage, largest after the events first; the rest summed.
    const bytesOf = (stage, t) => stage.tables[t]?.bytes ?? 0;
    const all = [...new Set(d.stages.flatMap((s) => Object.keys(s.tables)))];
    const tables = all
      .filter((t) => d.stages.some((s) => bytesOf(s, t) !== bytesOf(d.stages[0], t)))
      .sort((x, y) => bytesOf(d.stages[1], y) - bytesOf(d.stages[1], x));
    const others = all.filter((t) => !tables.includes(t));
    const perMessageOf = (stage, t) =>
      ((stage.tables[t]?.bytes ?? 0) - (d.stages[0].tables[t]?.bytes ?? 0)) / d.messages;
    const lines = [
      `d1-size: ${int(d.messages)} email messages × ${d.eventsPerMessage} events (sent, delivered, opened) ` +
        `through POST /v1/events, one not_opened rule; goal (issue 11): BENCHMARKS.md gives D1 bytes per ` +
        "1 M messages and what that means against the 10 GB limit",
      `(D1 size = D1's own \`meta.size_after\`; file = the persisted database and its WAL read by ` +
        `sqlite-pages.mjs. In D1: PRAGMA page_count: ${d.tried.pragma}; dbstat: ${d.tried.dbstat}.)`,
      "",
      "| stage | D1 size | file: pages × size − free = live | change |",
      "|---|--:|--:|---|",
      ...d.stages.map((s, i) => {
        const change =
          i === 0
            ? ""
            : s.optOuts
              ? `${int((s.d1Bytes - d.stages[i - 1].d1Bytes) / s.optOuts)} B per opt-out`
              : `${int((s.d1Bytes - d.stages[0].d1Bytes) / d.messages)} B per message (from empty)`;
        return (
          `| ${s.stage} | ${mb(s.d1Bytes)} | ${int(s.pageCount)} × ${s.pageSize} − ${int(s.freelistCount)} = ` +
          `${mb(s.liveBytes)}${s.liveBytes === s.d1Bytes ? "" : " (≠ D1)"} | ${change} |`
        );
      }),
      "",
      `| table with its indexes (file pages; rows) | ${d.stages.map((s) => s.stage).join(" | ")} | per message after the events |`,
      `|---|${d.stages.map(() => "--:|").join("")}--:|`,
      ...tables.map(
        (t) =>
          `| ${t} | ${d.stages
            .map((s) => `${mb(bytesOf(s, t))} (${int(s.tables[t]?.rows ?? 0)})`)
            .join(" | ")} | ${int(perMessageOf(d.stages[1], t))} B |`,
      ),
      `| ${others.length} other tables, unchanged | ${d.stages
        .map((s) => mb(others.reduce((sum, t) => sum + bytesOf(s, t), 0)))
        .join(" | ")} | |`,
      "",
      `- ${int(d.perMessage)} B per message with its 3 events and pending deadline → ` +
        `${(d.perMillion / 1e9).toFixed(2)} GB per 1 M messages; D1's 10 GB holds ` +
        `${(d.messagesUntilLimit / 1e6).toFixed(1)} M such messages (${int(d.settledPerMessage)} B each once ` +
        "the deadlines are settled).",
      `- Within the retention (${d.retentionDays} days) those rows stay: 10 GB allows about ` +
        `${(d.messagesUntilLimit / 1e6).toFixed(1)} M messages per ${d.retentionDays} days ` +
        `(${int(d.messagesUntilLimit / d.retentionDays)} a day), less what the ledger holds.`,
      `- After the sweep ${int(d.retainedPerMessage)} B per message remain (the rows the sweep keeps: ` +
        `${sweptLeft(d)}); the file keeps its size, the freed pages on SQLite's freelist for reuse.`,
      ...(d.perOptOut
        ? [
            `- What stays grows with the ledger and the entries: ${int(d.perOptOut)} B per API opt-out of a new ` +
              `address (ledger event + entry) → 10 GB holds ${(d.optOutsUntilLimit / 1e6).toFixed(1)} M opt-outs.`,
          ]
        : []),
      `- Throughput while loading: ${int((d.events.ok * 1000) / d.events.seconds)} events/s ` +
        `(${d.events.ok} requests of 1000, ${d.events.seconds.toFixed(1)} s)${failures(d.events)}.`,
    ];
    console.log(`\n${lines.join("\n")}\n`);
  }
  console.log(
    `[bench] scale groups: ${machine.cpus} × ${machine.model}; load ${machine.loadAtStart.join(" ")} → ` +
      `${machine.loadAtEnd.join(" ")}; timeout ${settings.timeoutMs} ms; ` +
      `Durable Objects: ${settings.durableObjects.join(", ") || "none"}`,
  );
  if (failed) {
    console.error(
      "[bench] FAILED (scale): non-2xx answers, errors, timeouts, lost opt-outs, unsettled or unfired " +
        "deadlines, failed cron runs or chains that do not verify (above)",
    );
  }
  return failed;
}

/** Rows of the swept tables after the sweep, e.g. "message_events 0, messages 0, trigger_deadlines 0". */
function sweptLeft(d) {
  const swept = d.stages.find((s) => s.stage.startsWith("after the retention sweep"));
  if (!swept) return "not measured";
  return ["message_events", "messages", "trigger_deadlines"]
    .map((t) => `${t} ${int(swept.tables[t]?.rows ?? 0)}`)
    .join(", ");
}

// ---------- small helpers ----------

/** The figures without the items they came from (not for the JSON). */
function strip(figures) {
  const { okItems: _, ...rest } = figures;
  return rest;
}

function jsonRequest(path, token, body) {
  return {
    method: "POST",
    path,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

let ids = 0;
const idPrefix = Math.floor(Math.random() * 0xffffffff).toString(36);
/** Unique across the run, short. */
function randomId() {
  return `${idPrefix}-${(ids++).toString(36)}`;
}
