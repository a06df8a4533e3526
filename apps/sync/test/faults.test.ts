import { scopeKey } from "@optout/core";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { rowsOf } from "../src/db/client.ts";
import { type Database, openDatabase } from "../src/db/open.ts";
import { readCursor } from "../src/db/queries/cursor.ts";
import { listEntries } from "../src/db/queries/entries.ts";
import { insertOutbox, type NewOutboxChange } from "../src/db/queries/outbox.ts";
import { FEED_CURSOR } from "../src/feed/sync-feed.ts";
import { CliProcess, killLiveChildren, runCli } from "./helpers/cli.ts";
import { createTestTarget, DB_KIND, type TestTarget } from "./helpers/database.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { prng } from "./helpers/feed.ts";
import { TcpProxy } from "./helpers/tcp-proxy.ts";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  killLiveChildren();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function setup() {
  const edge = await new FakeEdge().start();
  const target = await createTestTarget();
  cleanups.push(
    () => edge.stop(),
    () => target.drop(),
  );
  return { edge, target };
}

async function withDb<T>(target: TestTarget, fn: (d: Database) => Promise<T>): Promise<T> {
  const d = await openDatabase(target.target, { maxConnections: 1 });
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}

const ACCOUNTS = ["acc_a", "acc_b", "acc_c"];

/** Edge-side changes (as if made by keyword, link or API), appended to the fake edge's ledger. */
async function edgeChanges(edge: FakeEdge, random: () => number, count: number) {
  for (let i = 0; i < count; i++) {
    const n = Math.floor(random() * 5000);
    await edge.append({
      accountId: ACCOUNTS[n % 3]!,
      address: n % 2 ? `user${n}@example.com` : `+1415555${String(n % 10_000).padStart(4, "0")}`,
      channel: (["*", "sms", "email"] as const)[n % 3]!,
      scope: n % 5 ? { type: "account" } : { type: "sender", sender: "ACME" },
      action: random() < 0.6 ? "opt_out" : "opt_in",
      source: "api",
      occurredAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 86_400_000)).toISOString(),
      evidence: {},
    });
  }
}

function outboxChanges(random: () => number, count: number): NewOutboxChange[] {
  return Array.from({ length: count }, () => {
    const n = Math.floor(random() * 5000);
    return {
      accountId: ACCOUNTS[n % 3]!,
      address: n % 2 ? `user${n}@example.com` : `+1415555${String(n % 10_000).padStart(4, "0")}`,
      channel: (["*", "sms", "email"] as const)[n % 3]!,
      scope: n % 5 ? { type: "account" } : { type: "sender", sender: "ACME" },
      action: random() < 0.5 ? "opt_out" : "opt_in",
      occurredAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 86_400_000)).toISOString(),
    } as NewOutboxChange;
  });
}

/** Every change exactly once on both sides, the cursor at the last seq, both stores equal. */
async function expectExactlyOnce(edge: FakeEdge, target: TestTarget) {
  await withDb(target, async ({ db }) => {
    const total = edge.events.length;
    const [ledger] = rowsOf<{ n: number; min: string; max: string; distinct: number }>(
      await db.execute(sql`select count(*)::int as n, min(seq) as min, max(seq) as max,
        count(distinct hash)::int as distinct from optout.ledger_events`),
    );
    expect({ ...ledger, min: Number(ledger!.min), max: Number(ledger!.max) }).toEqual({
      n: total,
      min: 1,
      max: total,
      distinct: total,
    });
    // Byte for byte: the hash of every stored row is the edge's.
    const hashes = rowsOf<{ hash: string }>(
      await db.execute(sql`select hash from optout.ledger_events order by seq`),
    );
    expect(hashes.map((h) => h.hash)).toEqual(edge.events.map((e) => e.hash));
    expect((await readCursor(db, { name: FEED_CURSOR }))?.lastSeq).toBe(total);

    // Primary → edge: every outbox row reached the edge exactly once and came back.
    const outbox = rowsOf<{ changeId: string; edgeSeq: string; appliedSeq: string; sent: boolean }>(
      await db.execute(sql`select change_id as "changeId", edge_seq as "edgeSeq", applied_seq as "appliedSeq",
        sent_at is not null as sent from optout.outbox order by id`),
    );
    const primary = edge.events.filter((e) => e.source === "primary");
    expect(primary.map((e) => e.evidence.changeId).sort()).toEqual(outbox.map((o) => o.changeId).sort());
    expect(new Set(primary.map((e) => e.evidence.changeId)).size).toBe(primary.length);
    expect(
      outbox.every((o) => o.sent && Number(o.edgeSeq) > 0 && Number(o.appliedSeq) === Number(o.edgeSeq)),
    ).toBe(true);

    const edgeState = [...edge.state().values()]
      .map((e) =>
        JSON.stringify([e.accountId, e.address, e.channel, scopeKey(e.scope), e.action === "opt_out", e.seq]),
      )
      .sort();
    const stored = (await listEntries(db))
      .map((e) => JSON.stringify([e.accountId, e.address, e.channel, e.scopeKey, e.active, e.seq]))
      .sort();
    expect(stored).toEqual(edgeState);
    return { total, outbox: outbox.length };
  });
}

describe(`faults (${DB_KIND})`, () => {
  it("SIGKILL at 50 random moments of `run` (15 on PGlite), both directions, ≥ 100,000 changes: every change exactly once", {
    // 50 process starts dominate; on a busy 2-core machine 240 s ran out (verify at the end also
    // compares each of the 100,000 events now).
    timeout: 360_000,
  }, async () => {
    const seed = Number(process.env.SYNC_KILL_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const { edge, target } = await setup();
    const env = {
      EDGE_URL: edge.url,
      SYNC_TOKEN: edge.token,
      ...target.env,
      LOG_LEVEL: "info",
      POLL_INTERVAL_MS: "50",
    };
    await edgeChanges(edge, random, 60_000);
    await withDb(target, async ({ db }) => {
      await insertOutbox(db, { changes: outboxChanges(random, 5000) });
    });
    const kills: Array<{ cursor: number; sent: number }> = [];
    // 50 against PostgreSQL (CI). PGlite, which needs ~3 s to start in each new process, gets
    // 15 so the suite stays within a few minutes; SYNC_KILLS sets any number.
    const KILLS = Number(process.env.SYNC_KILLS ?? (DB_KIND === "postgres" ? 50 : 15));
    for (let k = 0; k < KILLS; k++) {
      // Both sides keep changing while the daemon dies and restarts.
      await edgeChanges(edge, random, KILLS >= 50 ? 800 : Math.ceil(40_000 / KILLS));
      const daemon = new CliProcess(["run"], {
        ...env,
        BATCH_SIZE: String(100 + Math.floor(random() * 900)),
      });
      // Kill once it is working (a batch applied or pushed), a random moment later: between
      // batches, mid-fetch, mid-push, mid-transaction, between the edge's answer and the mark.
      await daemon.waitForLog((l) => l.msg === "applied batch" || l.msg === "pushed outbox batch");
      await new Promise((r) => setTimeout(r, Math.floor(random() * 250)));
      daemon.child.kill("SIGKILL");
      const exit = await daemon.exited;
      expect(exit.signal, exit.stderr.slice(-2000)).toBe("SIGKILL");
      // Where the kill left it, and (same open: PGlite is slow to open) the next outbox rows.
      kills.push(
        await withDb(target, async ({ db }) => {
          await insertOutbox(db, { changes: outboxChanges(random, 200) });
          return {
            cursor: (await readCursor(db, { name: FEED_CURSOR }))?.lastSeq ?? 0,
            sent: rowsOf<{ n: number }>(
              await db.execute(sql`select count(*)::int as n from optout.outbox where sent_at is not null`),
            )[0]!.n,
          };
        }),
      );
    }
    const total = edge.events.length;
    expect(total).toBeGreaterThanOrEqual(100_000);
    // Kills landed in the middle: the cursor had not reached the edge's head.
    expect(kills.filter((k) => k.cursor < total).length, JSON.stringify({ seed, kills })).toBe(KILLS);

    const r = await runCli(["once"], env);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const again = await runCli(["once"], env); // pushes nothing new: the outbox is drained
    expect(again.stdout).toMatch(/^applied 0 change\(s\)/);
    await expectExactlyOnce(edge, target);
    const verify = await runCli(["verify"], env);
    expect(verify.code, verify.stdout).toBe(0);
  });
});

/** Polls until `check` holds (or fails with what it last saw). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function caughtUp(edge: FakeEdge, target: TestTarget): Promise<boolean> {
  return withDb(target, async ({ db }) => {
    const cursor = (await readCursor(db, { name: FEED_CURSOR }))?.lastSeq ?? 0;
    const [pending] = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from optout.outbox where sent_at is null`),
    );
    return cursor === edge.events.length && pending!.n === 0;
  });
}

function retriesIn(daemon: CliProcess) {
  return daemon
    .logs()
    .filter((l) => l.msg === "sync step failed; retrying")
    .map((l) => ({ kind: String(l.kind), delayMs: Number(l.delayMs), attempt: Number(l.attempt) }));
}

describe(`outages (${DB_KIND})`, () => {
  it.skipIf(DB_KIND !== "postgres")(
    "PostgreSQL restarted mid-run (connections dropped, refused for a while): backs off, resumes, nothing lost or doubled",
    { timeout: 120_000 },
    async () => {
      const random = prng(7);
      const { edge, target } = await setup();
      const url = new URL(target.env.DATABASE_URL!);
      const proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
      cleanups.push(() => proxy.stop());
      url.hostname = "127.0.0.1";
      url.port = String(proxy.port);
      await edgeChanges(edge, random, 20_000);
      await withDb(target, async ({ db }) => {
        await insertOutbox(db, { changes: outboxChanges(random, 2000) });
      });
      const daemon = new CliProcess(["run"], {
        EDGE_URL: edge.url,
        SYNC_TOKEN: edge.token,
        DATABASE_URL: url.toString(),
        BATCH_SIZE: "100",
        POLL_INTERVAL_MS: "50",
        RETRY_MAX_DELAY_MS: "800",
      });
      await daemon.waitForLog((l) => l.msg === "applied batch");
      for (const downMs of [2500, 1500]) {
        await proxy.refuse(); // the server goes away: open connections drop, new ones are refused
        await new Promise((r) => setTimeout(r, downMs));
        await proxy.pass();
        await edgeChanges(edge, random, 500);
        const applied = daemon.logs().filter((l) => l.msg === "applied batch").length;
        await until(
          async () => daemon.logs().filter((l) => l.msg === "applied batch").length > applied,
          "a batch after the database came back",
        );
      }
      await until(() => caughtUp(edge, target), "the daemon to catch up");
      daemon.child.kill("SIGTERM");
      const exit = await daemon.exited;
      expect(exit.code, exit.stderr.slice(-2000)).toBe(0);

      const retries = retriesIn(daemon);
      expect(
        retries.some((r) => r.kind === "database_unavailable"),
        JSON.stringify(retries),
      ).toBe(true);
      // Capped and jittered: never above the cap, and not all the same.
      expect(retries.every((r) => r.delayMs >= 0 && r.delayMs < 800)).toBe(true);
      expect(new Set(retries.map((r) => r.delayMs)).size).toBeGreaterThan(1);
      await expectExactlyOnce(edge, target);
    },
  );

  it("the edge refusing connections, stalling, then answering 5xx: retries each kind, then resumes where it stopped", {
    timeout: 120_000,
  }, async () => {
    const random = prng(11);
    const { edge, target } = await setup();
    const edgePort = Number(new URL(edge.url).port);
    const proxy = await new TcpProxy("127.0.0.1", edgePort).start();
    cleanups.push(() => proxy.stop());
    await edgeChanges(edge, random, 10_000);
    await withDb(target, async ({ db }) => {
      await insertOutbox(db, { changes: outboxChanges(random, 1000) });
    });
    const daemon = new CliProcess(["run"], {
      EDGE_URL: `http://127.0.0.1:${proxy.port}`,
      SYNC_TOKEN: edge.token,
      ...target.env,
      BATCH_SIZE: "100",
      POLL_INTERVAL_MS: "50",
      REQUEST_TIMEOUT_MS: "300",
      RETRY_MAX_DELAY_MS: "500",
    });
    await daemon.waitForLog((l) => l.msg === "applied batch");
    const waitForRetry = (kind: string) =>
      until(async () => retriesIn(daemon).some((r) => r.kind === kind), `a retry of kind ${kind}`);

    await proxy.refuse();
    await waitForRetry("edge_network");
    await new Promise((r) => setTimeout(r, 1000));
    await proxy.pass();
    proxy.stall();
    await waitForRetry("edge_timeout");
    await new Promise((r) => setTimeout(r, 1000));
    await proxy.pass();
    edge.faults.push(...Array.from({ length: 8 }, () => ({ type: "status" as const, status: 503 })));
    await waitForRetry("edge_unavailable");
    await edgeChanges(edge, random, 500);
    // From its logs (PGlite cannot be opened while the daemon has it): every outbox row pushed
    // and acknowledged, and a batch that ends at the edge's head.
    await until(async () => {
      const logs = daemon.logs();
      const pushed = logs
        .filter((l) => l.msg === "pushed outbox batch")
        .reduce((n, l) => n + Number(l.count), 0);
      const last = logs.filter((l) => l.msg === "applied batch").at(-1);
      return pushed >= 1000 && Number(last?.toSeq) === edge.events.length;
    }, "the daemon to catch up");
    daemon.child.kill("SIGTERM");
    const exit = await daemon.exited;
    expect(exit.code, exit.stderr.slice(-2000)).toBe(0);
    expect(retriesIn(daemon).every((r) => r.delayMs < 500)).toBe(true);
    await expectExactlyOnce(edge, target);
  });

  it("SIGTERM in the middle of a large drain: finishes the batch in flight, commits, exits 0 within 10 s", {
    timeout: 60_000,
  }, async () => {
    const random = prng(3);
    const { edge, target } = await setup();
    await edgeChanges(edge, random, 20_000);
    const daemon = new CliProcess(["run"], {
      EDGE_URL: edge.url,
      SYNC_TOKEN: edge.token,
      ...target.env,
      BATCH_SIZE: "1000",
    });
    await daemon.waitForLog((l) => l.msg === "applied batch");
    const t0 = Date.now();
    daemon.child.kill("SIGTERM");
    const exit = await daemon.exited;
    const elapsed = Date.now() - t0;
    expect(exit.code, exit.stderr.slice(-2000)).toBe(0);
    expect(elapsed).toBeLessThan(10_000);
    // What it logged as applied is what is committed: the cursor is the last batch's end.
    const last = daemon
      .logs()
      .filter((l) => l.msg === "applied batch")
      .at(-1)!;
    await withDb(target, async ({ db }) => {
      expect((await readCursor(db, { name: FEED_CURSOR }))?.lastSeq).toBe(Number(last.toSeq));
      const [n] = rowsOf<{ n: number }>(
        await db.execute(sql`select count(*)::int as n from optout.ledger_events`),
      );
      expect(n!.n).toBe(Number(last.toSeq));
    });
    expect(Number(last.toSeq)).toBeLessThan(20_000);
  });
});
