import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/open.ts";
import { ledgerStats } from "../src/db/queries/ledger.ts";
import { insertOutbox, rejectOutboxRow } from "../src/db/queries/outbox.ts";
import { CliProcess, killLiveChildren, runCli } from "./helpers/cli.ts";
import { createTestTarget, DB_KIND, type TestTarget } from "./helpers/database.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { FeedBuilder } from "./helpers/feed.ts";

let edge: FakeEdge;
let db: TestTarget;
let cwd: string;
let env: Record<string, string>;

beforeAll(async () => {
  edge = await new FakeEdge().start();
  db = await createTestTarget();
  cwd = mkdtempSync(join(tmpdir(), "optout-sync-cli-"));
  env = { EDGE_URL: edge.url, SYNC_TOKEN: edge.token, ...db.env };
  const feed = new FeedBuilder();
  for (let i = 0; i < 30; i++)
    await feed.add({ address: `person${i}@example.com`, accountId: `acc_${i % 2}` });
  edge.events = feed.events;
});
afterAll(async () => {
  killLiveChildren();
  await edge?.stop();
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

describe.concurrent("usage", () => {
  it.each([
    { args: ["--help"], code: 0, out: /Commands:\n {2}run .*\n {2}once .*\n {2}status/ },
    { args: ["-h"], code: 0, out: /Usage: optout-sync <command>/ },
    { args: ["help", "once"], code: 0, out: /Usage: optout-sync once/ },
    { args: ["run", "--help"], code: 0, out: /Usage: optout-sync run[\s\S]*SIGTERM/ },
    { args: ["once", "--help"], code: 0, out: /Usage: optout-sync once[\s\S]*exits 3/ },
    { args: ["status", "-h"], code: 0, out: /Usage: optout-sync status \[--json\][\s\S]*SYNC_TOKEN/ },
    {
      args: ["verify", "--help"],
      code: 0,
      out: /Usage: optout-sync verify \[--json\][\s\S]*Exits 0 when there is none, 4/,
    },
    { args: ["backfill", "--help"], code: 0, out: /Usage: optout-sync backfill[\s\S]*progress bar/ },
    {
      args: ["block", "--help"],
      code: 0,
      out: /Usage: optout-sync block --account <id> --address[\s\S]*--sender/,
    },
    { args: ["unblock", "-h"], code: 0, out: /Usage: optout-sync unblock[\s\S]*--occurred-at/ },
  ])("optout-sync $args prints help", async ({ args, code, out }) => {
    const r = await runCli(args, {});
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toMatch(out);
  });

  it.each([
    { args: [], err: "" },
    { args: ["sync"], err: "unknown command 'sync'" },
    { args: ["once", "--fast"], err: "Unknown option '--fast'" },
    { args: ["once", "extra"], err: "unexpected argument 'extra'" },
    { args: ["run", "--json"], err: "'run' takes no option --json" },
    { args: ["block", "--json"], err: "'block' takes no option --json" },
  ])("optout-sync $args is a usage error (exit 2)", async ({ args, err }) => {
    const r = await runCli(args, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(err);
  });

  it.each(["run", "once", "status"])("%s without SYNC_TOKEN says so and exits 2", async (command) => {
    const r = await runCli([command], { EDGE_URL: edge.url, ...db.env }, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SYNC_TOKEN: is required");
  });

  it("bad configuration lists every bad variable and exits 2", async () => {
    const r = await runCli(["once"], { ...env, BATCH_SIZE: "5000", POLL_INTERVAL_MS: "x" }, cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("BATCH_SIZE: must be at most 1000");
    expect(r.stderr).toContain("POLL_INTERVAL_MS: must be a whole number");
  });

  it("a configuration with three problems prints all three (SYNC_TOKEN among them) and exits 2", async () => {
    const r = await runCli(
      ["once"],
      { EDGE_URL: "http://edge.example.com", BATCH_SIZE: "0", SYNC_TOKEN: "", ...db.env },
      cwd,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SYNC_TOKEN: is required");
    expect(r.stderr).toContain("EDGE_URL: plain http:// to a host that is not loopback");
    expect(r.stderr).toContain("BATCH_SIZE: must be at least 1");
  });

  it("--help documents EDGE_ALLOW_HTTP", async () => {
    const r = await runCli(["run", "--help"], {});
    expect(r.stdout).toMatch(/^ {2}EDGE_ALLOW_HTTP +.*http:\/\/ to a host that is not loopback/m);
  });
});

describe(`once, status and run (${DB_KIND})`, () => {
  it("once drains the feed, prints a summary, exits 0; logs carry no addresses", async () => {
    const r = await runCli(["once"], { ...env, BATCH_SIZE: "8", APPLY_MAX_EVENTS: "8" }, cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("applied 30 change(s) in 4 batch(es); cursor at seq 30\n");
    expect(r.stderr).not.toMatch(/@example\.com/);
    const lines = r.stderr.trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).msg)).toContain("caught up");

    const again = await runCli(["once"], env, cwd);
    expect(again.stdout).toBe("applied 0 change(s) in 0 batch(es); cursor at seq 30\n");
  });

  it("status shows cursor, head, lag and the outbox backlog", async () => {
    const more = new FeedBuilder();
    for (let i = 0; i < 30; i++)
      await more.add({ address: `person${i}@example.com`, accountId: `acc_${i % 2}` });
    for (let i = 0; i < 1500; i++) await more.add({ accountId: "acc_2", address: `p${i}@example.com` });
    edge.events = more.events; // same first 30 events, then 1500 more
    // Outbox: two rows pending (the oldest created 90 s ago), one rejected for good.
    const database = await openDatabase(db.target);
    try {
      const change = (address: string) => ({
        accountId: "acc_9",
        address,
        channel: "sms" as const,
        scope: { type: "account" as const },
        action: "opt_out" as const,
      });
      const rows = await insertOutbox(database.db, {
        changes: [change("+14155550101"), change("+14155550102"), change("+14155550103")],
      });
      await database.db.execute(
        sql`update optout.outbox set created_at = now() - interval '90 seconds' where id = ${rows[0]!.id}`,
      );
      await rejectOutboxRow(database.db, { id: rows[2]!.id, error: "test: refused" });
    } finally {
      await database.close();
    }
    try {
      const text = await runCli(["status"], env, cwd);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/cursor {4}seq 30 \(moved /);
      expect(text.stdout).toMatch(/head {6}seq 1530\n/);
      expect(text.stdout).toMatch(/lag {7}1500 change\(s\); oldest pending recorded [\d.]+ s ago/);
      expect(text.stdout).toMatch(
        /outbox {4}2 pending, oldest created (9\d|1\d\d)\.\d s ago; 1 rejected \(see last_error in optout\.outbox\)\n/,
      );

      const json = await runCli(["status", "--json"], env, cwd);
      const status = JSON.parse(json.stdout);
      expect(status).toMatchObject({
        cursor: { lastSeq: 30 },
        edge: { headSeq: 1530 },
        lag: { changes: 1500 },
        outbox: { pending: 2, rejected: 1, oldestPendingAt: expect.any(String) },
      });
      expect(status.outbox.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(90);
      expect(status.outbox.oldestPendingAgeSeconds).toBeLessThan(200);
    } finally {
      // The run test below must not push these.
      const cleanup = await openDatabase(db.target);
      await cleanup.db.execute(sql`delete from optout.outbox`);
      await cleanup.close();
    }
  });

  it("status exits 1 when the edge cannot be reached", async () => {
    const r = await runCli(
      ["status"],
      { ...env, EDGE_URL: "http://127.0.0.1:9", REQUEST_TIMEOUT_MS: "2000" },
      cwd,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/head {6}unknown — cannot reach the edge/);
    expect(r.stdout).toMatch(/outbox {4}nothing pending; 0 rejected\n/);
  });

  it("run follows the feed and exits 0 on SIGTERM with everything committed", async () => {
    const run = new CliProcess(["run"], { ...env, POLL_INTERVAL_MS: "100", BATCH_SIZE: "100" }, cwd);
    await run.waitForLog((l) => l.msg === "applied batch" && l.toSeq === 1530);
    if (DB_KIND === "pglite") {
      // PGlite belongs to one process: status says so instead of corrupting it.
      const s = await runCli(["status"], env, cwd);
      expect(s.stdout).toMatch(/cursor {4}unknown — .*in use by another optout-sync process \(pid \d+\)/);
    }
    run.child.kill("SIGTERM");
    const r = await run.exited;
    expect(r.code, r.stderr).toBe(0);
    expect(run.logs().map((l) => l.msg)).toEqual(
      expect.arrayContaining(["stopping: letting the batch in flight commit", "stopped"]),
    );
    const database = await openDatabase(db.target);
    try {
      expect(await ledgerStats(database.db)).toEqual({ count: 1530, minSeq: 1, maxSeq: 1530 });
    } finally {
      await database.close();
    }
  });

  it("once exits 1 with the reason when the token is rejected", async () => {
    const r = await runCli(["once"], { ...env, SYNC_TOKEN: "not-the-token" }, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the edge answered 401 to GET /v1/changes");
  });
});

describe(`integrity failures stop once with exit 3 (${DB_KIND})`, () => {
  it.each([
    {
      name: "a gap in seq",
      tamper: (f: FeedBuilder) => f.events.filter((e) => e.seq !== 1540),
      message: "gap in the change feed: expected seq 1540, the edge sent 1541",
    },
    {
      name: "a broken hash chain",
      tamper: (f: FeedBuilder) =>
        f.events.map((e) => (e.seq === 1540 ? { ...e, address: "evil@example.com" } : e)),
      message: "ledger hash chain broken at seq 1540: its hash does not match its content",
    },
  ])("$name", async ({ tamper, message }) => {
    const feed = new FeedBuilder();
    for (let i = 0; i < 30; i++)
      await feed.add({ address: `person${i}@example.com`, accountId: `acc_${i % 2}` });
    for (let i = 0; i < 1500; i++) await feed.add({ accountId: "acc_2", address: `p${i}@example.com` });
    for (let i = 0; i < 20; i++) await feed.add({ accountId: "acc_2", address: `q${i}@example.com` });
    edge.events = tamper(feed);
    const r = await runCli(["once"], env, cwd);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`SYNC STOPPED — ${message}`);
    expect(r.stderr).not.toContain("evil@example.com");
    const fatal = r.stderr.split("\n").filter((l) => l.includes('"level":"fatal"'));
    expect(fatal).toHaveLength(1);
  });
});
