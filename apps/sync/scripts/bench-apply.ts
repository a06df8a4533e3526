/**
 * `pnpm --filter @optout/sync bench`: the daemon's apply path against a raw COPY.
 *
 * Generates BENCH_EVENTS (default 1,000,000) valid ledger events (10 accounts, hash-chained,
 * 200,000 addresses, random occurredAt so many events lose to newer ones), then, into a fresh
 * PostgreSQL database:
 *   1. applies them exactly as `optout-sync` does — pages of 1000, each verified (seq contiguity;
 *      hash chain timed separately) and applied in one transaction (cursor, ledger rows, entry
 *      upserts by the ordering rule, chain heads);
 *   2. COPYs the same rows (ledger columns only) into an identical table (same columns, keys and
 *      indexes) in one COPY FROM STDIN stream — the fastest way into PostgreSQL, the yardstick.
 * Prints the times and the ratio (COPY time / apply time: 1.0 = as fast as COPY) and a Markdown
 * table for BENCHMARKS.md. DATABASE_URL names the server (a bench database is created and
 * dropped), default postgres://postgres@127.0.0.1:5432/postgres; if no server answers, the apply
 * runs on PGlite and the COPY is skipped (PGlite has no COPY FROM STDIN stream), with a note.
 */
import { createHash } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type Channel,
  type ConsentAction,
  type ConsentEvent,
  GENESIS_HASH,
  hashEvent,
  hashInput,
} from "@optout/core";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { openDatabase } from "../src/db/open.ts";
import type { ChainHead } from "../src/db/queries/chain-heads.ts";
import { ensureCursor } from "../src/db/queries/cursor.ts";
import { LEDGER_COLUMNS, ledgerCopyLine } from "../src/db/queries/ledger.ts";
import { applyPage } from "../src/feed/apply-page.ts";
import { type VerifiedPage, verifyPage } from "../src/feed/verify-page.ts";

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PAGE = 1000;
const SERVER = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid events, hashed with node:crypto by the core formula (checked against core below). */
function generate(n: number): ConsentEvent[] {
  const random = prng(42);
  const heads = new Map<string, string>();
  const events: ConsentEvent[] = new Array(n);
  const channels: Channel[] = ["*", "sms", "email", "whatsapp"];
  const base = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    const seq = i + 1;
    const accountId = `acc_${Math.floor(random() * 10)}`;
    const a = Math.floor(random() * 200_000);
    const unhashed = {
      seq,
      id: `evt_${seq}`,
      accountId,
      address: a % 2 ? `user${a}@example.com` : `+1415${String(a).padStart(7, "0")}`,
      channel: channels[a % 4]!,
      scope: a % 5 ? ({ type: "account" } as const) : ({ type: "sender", sender: "ACME" } as const),
      action: (random() < 0.7 ? "opt_out" : "opt_in") as ConsentAction,
      source: "api" as const,
      occurredAt: new Date(base + Math.floor(random() * 30 * 86_400_000)).toISOString(),
      recordedAt: new Date(base + seq * 10).toISOString(),
      evidence: random() < 0.3 ? { reason: "replied STOP" } : {},
      prevHash: heads.get(accountId) ?? GENESIS_HASH,
    };
    const hash = createHash("sha256").update(hashInput(unhashed)).digest("hex");
    heads.set(accountId, hash);
    events[i] = { ...unhashed, hash };
  }
  return events;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString("en-US")}/s`;

async function main() {
  console.log(`generating ${N.toLocaleString("en-US")} events…`);
  let t = performance.now();
  const events = generate(N);
  if (
    (await hashEvent(events[0]!)) !== events[0]!.hash ||
    (await hashEvent(events[N - 1]!)) !== events[N - 1]!.hash
  )
    throw new Error("generator hashes differ from core's hashEvent");
  console.log(`  ${fmt(performance.now() - t)}`);

  let admin: pg.Client | undefined = new pg.Client({
    connectionString: SERVER,
    connectionTimeoutMillis: 3000,
  });
  let serverVersion = "";
  const dbName = `optout_sync_bench_${process.pid}`;
  try {
    await admin.connect();
    serverVersion = (await admin.query("show server_version")).rows[0].server_version;
    await admin.query(`create database "${dbName}"`);
  } catch (e) {
    console.log(
      `no PostgreSQL server at ${new URL(SERVER).host} (${(e as Error).message}); falling back to PGlite, raw COPY skipped`,
    );
    await admin.end().catch(() => {});
    admin = undefined;
  }
  const url = new URL(SERVER);
  url.pathname = `/${dbName}`;
  const target = admin
    ? ({ kind: "postgres", url: url.toString() } as const)
    : ({ kind: "pglite", dataDir: "memory://" } as const);
  const database = await openDatabase(target, { maxConnections: 2 });
  try {
    // 1. Verify (hash chain), timed on its own: pure CPU, independent of the database.
    console.log("verifying pages (seq contiguity + hash chains, as the daemon does)…");
    const heads = new Map<string, ChainHead>();
    const pages: VerifiedPage[] = [];
    t = performance.now();
    for (let i = 0; i < N; i += PAGE) {
      const page = await verifyPage(events.slice(i, i + PAGE), { afterSeq: i, heads });
      for (const [k, v] of page.heads) heads.set(k, v);
      pages.push(page);
    }
    const verifyMs = performance.now() - t;
    console.log(`  ${fmt(verifyMs)} (${rate(N, verifyMs)})`);

    // 2. The daemon's apply: while behind, the pages that arrived are merged into transactions of
    //    up to APPLY_MAX_EVENTS (default 5000); BENCH_MERGE=1 applies one page per transaction.
    const merge = Number(process.env.BENCH_MERGE ?? 5);
    console.log(`applying ${merge} page(s) of 1000 per transaction (the daemon's apply path)…`);
    await ensureCursor(database.db, { name: "edge_feed" });
    t = performance.now();
    let afterSeq = 0;
    for (let i = 0; i < pages.length; i += merge) {
      const group = pages.slice(i, i + merge);
      const page: VerifiedPage = {
        events: group.flatMap((p) => p.events),
        lastSeq: group.at(-1)!.lastSeq,
        heads: new Map(group.flatMap((p) => [...p.heads])),
      };
      await applyPage(database.db, { cursor: "edge_feed", afterSeq, page });
      afterSeq = page.lastSeq;
    }
    const applyMs = performance.now() - t;
    console.log(`  ${fmt(applyMs)} (${rate(N, applyMs)})`);

    // 3. Raw COPY of the same ledger rows into an identical table.
    let copyMs: number | undefined;
    if (target.kind === "postgres") {
      console.log("raw COPY of the same rows into an identical table…");
      const client = new pg.Client({ connectionString: target.url });
      await client.connect();
      try {
        await client.query("create table optout.ledger_copy (like optout.ledger_events including all)");
        t = performance.now();
        const lines = (function* () {
          let chunk = "";
          for (let i = 0; i < N; i++) {
            chunk += ledgerCopyLine(events[i]!);
            if (chunk.length > 1 << 20) {
              yield chunk;
              chunk = "";
            }
          }
          if (chunk) yield chunk;
        })();
        await pipeline(
          Readable.from(lines),
          client.query(copyFrom(`copy optout.ledger_copy (${LEDGER_COLUMNS}) from stdin`)),
        );
        copyMs = performance.now() - t;
        const n = (await client.query("select count(*)::int as n from optout.ledger_copy")).rows[0].n;
        if (n !== N) throw new Error(`COPY loaded ${n} rows`);
      } finally {
        await client.end();
      }
      console.log(`  ${fmt(copyMs)} (${rate(N, copyMs)})`);
    }

    const rows = [
      ["raw COPY (ledger rows only, one stream)", copyMs],
      [`sync apply, ${merge * PAGE} events/transaction, without hash verification`, applyMs],
      [`sync apply, ${merge * PAGE} events/transaction, with hash verification`, applyMs + verifyMs],
    ] as const;
    const table = [
      "| what | time | events/s | speed vs raw COPY |",
      "|---|---:|---:|---:|",
      ...rows.map(([what, ms]) =>
        ms === undefined
          ? `| ${what} | n/a | n/a | n/a |`
          : `| ${what} | ${fmt(ms)} | ${rate(N, ms)} | ${copyMs ? (copyMs / ms).toFixed(2) : "n/a"} |`,
      ),
    ];
    console.log(
      `\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; ` +
        `${target.kind === "postgres" ? `PostgreSQL ${serverVersion}` : "PGlite"}; ${N.toLocaleString("en-US")} events\n`,
    );
    console.log(table.join("\n"));
  } finally {
    await database.close();
    if (admin) {
      await admin.query(`drop database if exists "${dbName}" with (force)`);
      await admin.end();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
