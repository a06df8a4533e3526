/**
 * `pnpm --filter @optout/sync bench:lag`: steady-state lag against a real edge.
 *
 * Starts the real edge (`wrangler dev` of apps/edge, local D1/KV in a temp directory), a fresh
 * PostgreSQL database (DATABASE_URL's server, default the local one) and `optout-sync run`
 * (POLL_INTERVAL_MS from the environment, default the daemon's 1000). Then writes
 * LAG_RATE changes/s (default 1000) to the edge for LAG_SECONDS (default 30), as
 * POST /v1/sync/apply requests of 100 every 100 ms, each change a new entry. The lag of an event
 * is the commit time of its apply transaction (the entry's `updated_at`) minus the edge's
 * `recordedAt`; reported as percentiles over every event.
 */

import type { CreateAccountResult, SyncChange } from "@optout/core";
import { LocalEdge } from "@optout/edge/testing";
import pg from "pg";
import { CliProcess } from "../test/helpers/cli.ts";
import { createTestTarget } from "../test/helpers/database.ts";

const RATE = Number(process.env.LAG_RATE ?? 1000);
const SECONDS = Number(process.env.LAG_SECONDS ?? 30);
process.env.DATABASE_URL ||= "postgres://postgres@127.0.0.1:5432/postgres";

async function main() {
  const edge = new LocalEdge();
  const target = await createTestTarget();
  let daemon: CliProcess | undefined;
  try {
    await edge.start();
    const account = await edge.request<CreateAccountResult>("POST", "/v1/accounts", edge.adminToken, {
      name: "Lag",
    });
    daemon = new CliProcess(["run"], {
      EDGE_URL: edge.url,
      SYNC_TOKEN: edge.syncToken,
      ...target.env,
      LOG_LEVEL: "warn",
      ...(process.env.POLL_INTERVAL_MS ? { POLL_INTERVAL_MS: process.env.POLL_INTERVAL_MS } : {}),
    });
    const perTick = Math.max(1, Math.round(RATE / 10));
    let sent = 0;
    let late = 0;
    const started = Date.now();
    const inflight: Promise<unknown>[] = [];
    for (let tick = 0; tick < SECONDS * 10; tick++) {
      const due = started + tick * 100;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else late++;
      const changes: SyncChange[] = Array.from({ length: perTick }, (_, i) => {
        const n = sent + i;
        return {
          id: `lag-${n}`,
          accountId: account.id,
          address: `lag${n}@example.com`,
          channel: "email",
          scope: { type: "account" },
          action: "opt_out",
          occurredAt: new Date().toISOString(),
        };
      });
      sent += perTick;
      inflight.push(edge.request("POST", "/v1/sync/apply", edge.syncToken, { changes }));
      if (inflight.length > 20) await inflight.shift();
    }
    await Promise.all(inflight);
    const wroteFor = (Date.now() - started) / 1000;
    // Let the daemon catch up, then read every event's lag.
    const client = new pg.Client({ connectionString: target.env.DATABASE_URL });
    await client.connect();
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { rows } = await client
          .query("select count(*)::int as n from optout.ledger_events")
          .catch(() => ({ rows: [{ n: 0 }] }));
        if (rows[0].n >= sent || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const { rows } = await client.query(`
        select count(*)::int as n,
          percentile_cont(array[0.5, 0.95, 0.99]) within group (order by lag) as p,
          max(lag) as max, avg(lag) as avg
        from (select extract(epoch from (b.updated_at - l.recorded_at)) as lag
              from optout.ledger_events l join optout.blocklist_entries b on b.seq = l.seq) x`);
      const r = rows[0];
      const [p50, p95, p99] = (r.p as number[]).map((v) => v.toFixed(3));
      console.log(
        `wrote ${sent} changes in ${wroteFor.toFixed(1)} s (${Math.round(sent / wroteFor)}/s target ${RATE}/s, ${late} late ticks); ` +
          `POLL_INTERVAL_MS=${process.env.POLL_INTERVAL_MS ?? "1000 (default)"}`,
      );
      console.log(
        `lag over ${r.n} events: p50 ${p50} s, p95 ${p95} s, p99 ${p99} s, max ${Number(r.max).toFixed(3)} s, mean ${Number(r.avg).toFixed(3)} s`,
      );
    } finally {
      await client.end();
    }
  } finally {
    daemon?.child.kill("SIGTERM");
    await daemon?.exited;
    await edge.stop();
    await target.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
