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
// The pools, the client, seeding, the closed loop, the figures and the audit live in pool.mjs,
// shared with the isolation, deadlines and d1-size groups (scale.mjs).
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
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { build } from "./common.mjs";
import {
  auditStrong,
  auditText,
  buildItems,
  closedLoop,
  edgeConfig,
  failures,
  mapLimit,
  numbers,
  option,
  range,
  seedAccount,
  selected,
  startPools,
  strongReads,
  summarize,
  TIMEOUT_MS,
  WORKLOADS,
} from "./pool.mjs";

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
const AUDIT = process.env.BENCH_AUDIT === "batch" ? "batch" : "get";

/** Issue 11's goals, printed beside the figures (never a reason to fail the run). */
const GOALS = {
  ratio: 1.0,
  latencyPerSecond: 1000,
  burstP99: 2000,
  burstBlockedWithin: 30,
};

/** Every id these groups answer to, for run.mjs's BENCH_ONLY split. */
export function isGroupScenario(id) {
  return /^(contention|latency|burst)(-|$)/.test(id);
}

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
  const edge = await edgeConfig();
  const { adminToken, bindings, durableObjects } = edge;

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
  const rows = [];
  const ceilingRows = [];
  let burstResult = null;
  const { mf, client } = await startPools({
    work,
    runtime,
    edge,
    pools,
    prefix: "groups",
    label: "groups",
    say,
  });
  try {
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
