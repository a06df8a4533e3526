import type { ConsentEvent } from "@optout/core";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/open.ts";
import { readCursor } from "../src/db/queries/cursor.ts";
import { ledgerStats, readLedger } from "../src/db/queries/ledger.ts";
import { EdgeClient } from "../src/edge-client.ts";
import { EdgeHttpError, type ErrorKind, IntegrityError } from "../src/errors.ts";
import {
  type BatchReport,
  drainFeed,
  FEED_CURSOR,
  type FeedSyncDeps,
  followFeed,
} from "../src/feed/sync-feed.ts";
import { createLogger } from "../src/log.ts";
import { DB_KIND, openTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { FeedBuilder } from "./helpers/feed.ts";
import { TcpProxy } from "./helpers/tcp-proxy.ts";

let t: TestDatabase;
let edge: FakeEdge;
const log = createLogger("silent");

beforeAll(async () => {
  t = await openTestDatabase();
  edge = await new FakeEdge().start();
});
afterAll(async () => {
  await edge?.stop();
  await t?.destroy();
});
beforeEach(async () => {
  await t.db.execute(
    sql`truncate optout.ledger_events, optout.blocklist_entries, optout.chain_heads, optout.sync_cursor`,
  );
  edge.events = [];
  edge.faults.length = 0;
  edge.requests = 0;
});

let stop: AbortController;
afterEach(() => stop?.abort());

function deps(overrides: Partial<FeedSyncDeps> = {}) {
  stop = new AbortController();
  const retries: ErrorKind[] = [];
  const batches: BatchReport[] = [];
  const d: FeedSyncDeps = {
    db: t.db,
    edge: new EdgeClient({ baseUrl: edge.url, token: edge.token, timeoutMs: 300 }),
    log,
    batchSize: 7,
    retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 10 },
    signal: stop.signal,
    onRetry: (kind) => retries.push(kind),
    onBatch: (b) => batches.push(b),
    ...overrides,
  };
  return { d, retries, batches };
}

async function feedOf(n: number): Promise<ConsentEvent[]> {
  const feed = new FeedBuilder();
  for (let i = 0; i < n; i++) {
    await feed.add({
      accountId: i % 3 ? "acc_a" : "acc_b",
      address: `u${i % 11}@example.com`,
      action: i % 4 ? "opt_out" : "opt_in",
    });
  }
  return feed.events;
}

async function storedSeqs() {
  return (await readLedger(t.db, { afterSeq: 0, limit: 100_000 })).map((r) => r.seq);
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe(`draining the feed (${DB_KIND})`, () => {
  it("applies every page, in batches of BATCH_SIZE, and stops when caught up", async () => {
    edge.events = await feedOf(50);
    const { d, batches } = deps();
    const result = await drainFeed(d);
    expect(result).toEqual({ applied: 50, batches: 8, lastSeq: 50, caughtUp: true });
    expect(batches.map((b) => b.count)).toEqual([7, 7, 7, 7, 7, 7, 7, 1]);
    expect(await storedSeqs()).toEqual(range(50));
    expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq).toBe(50);
    // Nothing new: a second drain asks once and applies nothing.
    expect(await drainFeed(deps().d)).toMatchObject({ applied: 0, lastSeq: 50, caughtUp: true });
  });

  it("while behind, fetches pages ahead and merges those that arrived into one transaction", async () => {
    edge.events = await feedOf(200);
    // The fake edge answers slowly at first, so pages queue up behind the first one.
    edge.faults.push({ type: "hang", ms: 150 });
    const { d, batches } = deps({ maxApplyEvents: 35 });
    const result = await drainFeed(d);
    expect(result).toMatchObject({ applied: 200, lastSeq: 200, caughtUp: true });
    expect(batches.some((b) => b.pages > 1)).toBe(true);
    expect(batches.every((b) => b.count <= 35)).toBe(true);
    expect(batches.map((b) => b.fromSeq)).toEqual(
      batches.map((_, i) => (i === 0 ? 1 : batches[i - 1]!.toSeq + 1)),
    );
    expect(await storedSeqs()).toEqual(range(200));
    expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq).toBe(200);
  });

  it("a gap behind pages merged into one batch: the pages before it are applied, then it stops", async () => {
    const events = await feedOf(40);
    edge.events = [...events.slice(0, 20), ...events.slice(21)];
    edge.faults.push({ type: "hang", ms: 150 });
    const { d } = deps({ maxApplyEvents: 35 });
    await expect(drainFeed(d)).rejects.toThrow(/gap in the change feed: expected seq 21/);
    // Pages of 7: 1–7 and 8–14 verified and are applied; the page holding the gap (15–22) is not.
    expect(await storedSeqs()).toEqual(range(14));
  });

  it("picks up where the cursor is, across runs", async () => {
    edge.events = (await feedOf(30)).slice(0, 20);
    await drainFeed(deps().d);
    edge.events = await feedOf(30);
    expect(await drainFeed(deps().d)).toMatchObject({ applied: 10, lastSeq: 30 });
    expect(await storedSeqs()).toEqual(range(30));
  });

  it.each([
    {
      name: "5xx answers",
      faults: [
        { type: "status", status: 503 },
        { type: "status", status: 500 },
      ],
      kind: "edge_unavailable",
    },
    { name: "429 answers", faults: [{ type: "status", status: 429 }], kind: "edge_unavailable" },
    { name: "dropped connections", faults: [{ type: "reset" }, { type: "reset" }], kind: "edge_network" },
    { name: "timeouts", faults: [{ type: "hang", ms: 1000 }], kind: "edge_timeout" },
  ] as const)("retries $name and still applies every change exactly once", async ({ faults, kind }) => {
    edge.events = await feedOf(40);
    // Faults hit requests in order: the first page, then one in the middle.
    edge.faults.push(...faults, { type: "hang", ms: 0 }, { type: "hang", ms: 0 }, ...faults);
    const { d, retries } = deps();
    expect(await drainFeed(d)).toMatchObject({ applied: 40, lastSeq: 40, caughtUp: true });
    expect(retries.length).toBeGreaterThanOrEqual(faults.length);
    expect(new Set(retries)).toEqual(new Set([kind]));
    expect(await storedSeqs()).toEqual(range(40));
  });

  it("gives up after maxAttempts with the last error", async () => {
    edge.events = await feedOf(5);
    for (let i = 0; i < 5; i++) edge.faults.push({ type: "status", status: 502 });
    const { d } = deps({ retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 } });
    await expect(drainFeed(d)).rejects.toBeInstanceOf(EdgeHttpError);
    expect(await ledgerStats(t.db)).toMatchObject({ count: 0 });
  });

  it.each([401, 403])("a %i is fatal at once: no retry, nothing applied", async (status) => {
    edge.events = await feedOf(5);
    edge.faults.push({ type: "status", status });
    const { d, retries } = deps();
    await expect(drainFeed(d)).rejects.toMatchObject({ kind: "edge_unauthorized", retryable: false });
    expect(retries).toEqual([]);
    expect(edge.requests).toBe(1);
  });

  it("a wrong token is reported as such", async () => {
    edge.events = await feedOf(5);
    const { d } = deps({ edge: new EdgeClient({ baseUrl: edge.url, token: "wrong", timeoutMs: 300 }) });
    await expect(drainFeed(d)).rejects.toThrow(/401.*SYNC_TOKEN/);
  });
});

describe(`integrity stops (${DB_KIND})`, () => {
  it("stops at a gap: pages before it stay applied, nothing after it is written", async () => {
    const events = await feedOf(30);
    edge.events = events.filter((e) => e.seq !== 17);
    const { d, retries } = deps();
    const error = await drainFeed(d).catch((e) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error).toMatchObject({ kind: "seq_gap", details: { expectedSeq: 17, receivedSeq: 18 } });
    expect(retries).toEqual([]);
    expect(await storedSeqs()).toEqual(range(14));
    expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq).toBe(14);
  });

  it("stops at a broken chain the same way", async () => {
    const events = await feedOf(30);
    edge.events = events.map((e) =>
      e.seq === 20 ? { ...e, action: e.action === "opt_in" ? "opt_out" : "opt_in" } : e,
    );
    const error = await drainFeed(deps().d).catch((e) => e);
    expect(error).toMatchObject({ kind: "chain_broken", details: { seq: 20 } });
    expect(await storedSeqs()).toEqual(range(14));
  });

  it("an empty page that claims more is a bad response, not a loop", async () => {
    edge.faults.push({ type: "override", changes: [], hasMore: true });
    await expect(drainFeed(deps().d)).rejects.toMatchObject({ kind: "edge_bad_response" });
  });
});

describe(`following and stopping (${DB_KIND})`, () => {
  it("applies changes as they appear, and stops when asked with everything committed", async () => {
    const all = await feedOf(25);
    edge.events = all.slice(0, 10);
    const { d, batches } = deps({ batchSize: 1000 });
    const following = followFeed({ ...d, pollIntervalMs: 20 });
    await expect.poll(async () => (await ledgerStats(t.db)).count, { timeout: 5000 }).toBe(10);
    edge.events = all;
    await expect.poll(async () => (await ledgerStats(t.db)).count, { timeout: 5000 }).toBe(25);
    stop.abort();
    const result = await following;
    expect(result).toMatchObject({ applied: 25, caughtUp: false });
    expect(batches.reduce((n, b) => n + b.count, 0)).toBe(25);
    expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq).toBe(25);
  });

  it("a stop during a slow fetch returns promptly without writing", async () => {
    edge.events = await feedOf(10);
    edge.faults.push({ type: "hang", ms: 250 });
    const { d } = deps({ edge: new EdgeClient({ baseUrl: edge.url, token: edge.token, timeoutMs: 10_000 }) });
    const draining = drainFeed(d);
    setTimeout(() => stop.abort(), 30);
    expect(await draining).toMatchObject({ applied: 0, caughtUp: false });
    expect(await ledgerStats(t.db)).toMatchObject({ count: 0 });
  });
});

// PGlite runs inside the test process and has no connections to lose; these need a server.
describe.runIf(DB_KIND === "postgres")("database outages (postgres)", () => {
  it("a connection killed mid-transaction is retried, and nothing is lost or doubled", async () => {
    edge.events = await feedOf(40);
    const url = (t.target as { url: string }).url;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Hold the first apply inside its transaction until the test has killed its connection.
      await admin.query("create table optout.test_hold (x int); insert into optout.test_hold values (1)");
      await admin.query(`create function optout.test_hold() returns trigger language plpgsql as $$
        begin if exists (select 1 from optout.test_hold) then perform pg_sleep(30); end if; return null; end $$`);
      await admin.query(`create trigger test_hold after insert on optout.ledger_events
        for each statement execute function optout.test_hold()`);
      const { d, retries } = deps();
      const draining = drainFeed(d);
      let killed = 0;
      for (let i = 0; i < 200 && killed === 0; i++) {
        const { rows } = await admin.query(
          "select pid from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'",
        );
        if (rows.length) {
          await admin.query("delete from optout.test_hold");
          for (const { pid } of rows)
            killed += (await admin.query("select pg_terminate_backend($1)", [pid])).rowCount ?? 0;
        } else await new Promise((r) => setTimeout(r, 25));
      }
      expect(killed).toBe(1);
      expect(await draining).toMatchObject({ applied: 40, lastSeq: 40, caughtUp: true });
      expect(retries).toContain("database_unavailable");
      expect(await storedSeqs()).toEqual(range(40));
    } finally {
      await admin.query("drop trigger if exists test_hold on optout.ledger_events");
      await admin.query("drop function if exists optout.test_hold(); drop table if exists optout.test_hold");
      await admin.end();
    }
  });
});

/**
 * Makes every statement inserting into the ledger sleep 30 s while optout.test_hold has a row:
 * the apply's transaction hangs on the server until the test deletes the row.
 */
async function holdApplies(admin: pg.Client): Promise<{ release(): Promise<void>; drop(): Promise<void> }> {
  await admin.query("create table optout.test_hold (x int); insert into optout.test_hold values (1)");
  await admin.query(`create function optout.test_hold() returns trigger language plpgsql as $$
    begin if exists (select 1 from optout.test_hold) then perform pg_sleep(30); end if; return null; end $$`);
  await admin.query(`create trigger test_hold after insert on optout.ledger_events
    for each statement execute function optout.test_hold()`);
  return {
    release: async () => void (await admin.query("delete from optout.test_hold")),
    drop: async () => {
      await admin.query("drop trigger if exists test_hold on optout.ledger_events");
      await admin.query("drop function if exists optout.test_hold(); drop table if exists optout.test_hold");
    },
  };
}

// PG_STATEMENT_TIMEOUT_MS is a PostgreSQL session setting and a node-postgres socket timeout.
// PGlite runs in-process, with no session to configure and no network to hang: nothing to test.
describe.runIf(DB_KIND === "postgres")("statement timeouts (postgres; not applicable to PGlite)", () => {
  it("a statement over PG_STATEMENT_TIMEOUT_MS is cancelled and retried; nothing is lost or doubled", async () => {
    edge.events = await feedOf(40);
    const url = (t.target as { url: string }).url;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const hold = await holdApplies(admin);
    const daemon = await openDatabase({ kind: "postgres", url, statementTimeoutMs: 300 }, { migrate: false });
    try {
      const setting = await daemon.db.execute(sql`show statement_timeout`);
      expect(
        (setting as unknown as { rows: Array<{ statement_timeout: string }> }).rows[0]?.statement_timeout,
      ).toBe("300ms");
      const { d, retries } = deps({
        db: daemon.db,
        retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 100 },
      });
      const started = Date.now();
      const draining = drainFeed(d);
      // The server cancels the held apply again and again; each time its transaction rolls back.
      await expect
        .poll(() => retries.filter((k) => k === "database_timeout").length, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(3);
      expect(await storedSeqs()).toEqual([]);
      expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq ?? 0).toBe(0);
      await hold.release();
      expect(await draining).toMatchObject({ applied: 40, lastSeq: 40, caughtUp: true });
      expect(Date.now() - started).toBeLessThan(15_000); // not the 30 s the statement wanted
      expect(new Set(retries)).toEqual(new Set(["database_timeout"]));
      expect(await storedSeqs()).toEqual(range(40));
      expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq).toBe(40);
    } finally {
      await daemon.close();
      await hold.drop();
      await admin.end();
    }
  });

  it("a connection that hangs mid-query is given up on, replaced, and the batch retried", async () => {
    edge.events = await feedOf(40);
    const url = new URL((t.target as { url: string }).url);
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    const hold = await holdApplies(admin);
    const proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
    const viaProxy = new URL(url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    // Client-side read timeout: 1000 + 1000 ms margin.
    const daemon = await openDatabase(
      { kind: "postgres", url: viaProxy.toString(), statementTimeoutMs: 1000 },
      { migrate: false },
    );
    try {
      const { d, retries } = deps({
        db: daemon.db,
        retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 100 },
      });
      const started = Date.now();
      const draining = drainFeed(d);
      // Once the apply is inside its statement on the server, the network path goes silent: the
      // server's cancellation never arrives, only the client's own timeout can end the wait.
      await expect
        .poll(
          async () =>
            (
              await admin.query(
                "select 1 from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'",
              )
            ).rowCount,
          { timeout: 5000, interval: 10 },
        )
        .toBe(1);
      proxy.freeze();
      await hold.release();
      const connectionsBefore = proxy.connections;
      expect(await draining).toMatchObject({ applied: 40, lastSeq: 40, caughtUp: true });
      // Given up on after the 2 s client timeout, not the 30 s the statement wanted; and once:
      // the hung connection was closed (its rollback found it closed: reported as unavailable),
      // not returned to the pool to hang the retry too.
      expect(Date.now() - started).toBeLessThan(6_000);
      expect(retries).toHaveLength(1);
      expect(["database_timeout", "database_unavailable"]).toContain(retries[0]);
      expect(proxy.connections).toBeGreaterThan(connectionsBefore); // a fresh connection was made
      expect(await storedSeqs()).toEqual(range(40));
      expect((await readCursor(t.db, { name: FEED_CURSOR }))?.lastSeq).toBe(40);
    } finally {
      await daemon.close();
      await proxy.stop();
      await hold.drop();
      await admin.end();
    }
  });
});
