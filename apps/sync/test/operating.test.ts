import { createServer } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../src/db/client.ts";
import { openDatabase } from "../src/db/open.ts";
import { CliProcess, killLiveChildren, runCli } from "./helpers/cli.ts";
import { createTestTarget, DB_KIND, type TestTarget } from "./helpers/database.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { FeedBuilder } from "./helpers/feed.ts";
import { TcpProxy } from "./helpers/tcp-proxy.ts";

let edge: FakeEdge;
const targets: TestTarget[] = [];
afterAll(async () => {
  killLiveChildren();
  await edge?.stop();
  for (const t of targets) await t.drop();
});
beforeAll(async () => {
  edge = await new FakeEdge().start();
  const feed = new FeedBuilder();
  for (let i = 0; i < 45; i++)
    await feed.add({
      address: `person${i % 20}@example.com`,
      accountId: `acc_${i % 3}`,
      action: i % 4 ? "opt_out" : "opt_in",
    });
  edge.events = feed.events;
});

async function freshEnv(): Promise<{ env: Record<string, string>; target: TestTarget }> {
  const target = await createTestTarget();
  targets.push(target);
  return { target, env: { EDGE_URL: edge.url, SYNC_TOKEN: edge.token, ...target.env } };
}

async function sqlOn(target: TestTarget, query: ReturnType<typeof sql>): Promise<unknown[]> {
  const database = await openDatabase(target.target, { maxConnections: 1 });
  try {
    return rowsOf(await database.db.execute(query));
  } finally {
    await database.close();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe(`block, verify and backfill (${DB_KIND})`, { timeout: 120_000 }, () => {
  it("block/unblock queue outbox rows; once pushes them; verify finds no difference, then every tampering", async () => {
    const { env, target } = await freshEnv();
    const blocked = await runCli(
      [
        "block",
        "--account",
        "acc_1",
        "--address",
        "+14155550199",
        "--channel",
        "sms",
        "--reason",
        "called in",
      ],
      env,
    );
    expect(blocked.code, blocked.stderr).toBe(0);
    expect(blocked.stdout).toMatch(/^queued block as outbox row 1 \(change [0-9a-f-]{36}\)/);
    const unblocked = await runCli(
      ["unblock", "--account", "acc_2", "--address", "x@example.com", "--sender", "ACME"],
      env,
    );
    expect(unblocked.code, unblocked.stderr).toBe(0);
    const bad = await runCli(["block", "--account", "acc_1", "--channel", "fax"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--address:");
    expect(bad.stderr).toContain("--channel:");

    const once = await runCli(["once"], { ...env, BATCH_SIZE: "10", APPLY_MAX_EVENTS: "10" });
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toBe(
      `pushed 2 outbox change(s); applied 47 change(s) in 5 batch(es); cursor at seq 47\n`,
    );
    expect(edge.events.slice(-2).map((e) => [e.source, e.accountId, e.action])).toEqual([
      ["primary", "acc_1", "opt_out"],
      ["primary", "acc_2", "opt_in"],
    ]);

    const ok = await runCli(["verify"], env);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain("compared  47 event(s) in 3 account(s)");
    expect(ok.stdout).toContain("result    no difference");

    // Tamper with the primary: flip an entry, drop a ledger row of another account.
    await sqlOn(
      target,
      sql`update optout.blocklist_entries set active = not active where account_id = 'acc_0' and address = 'person3@example.com'`,
    );
    await sqlOn(
      target,
      sql`delete from optout.ledger_events where seq = (select max(seq) from optout.ledger_events where account_id = 'acc_1')`,
    );
    // And alter a copied event: the row no longer holds what the edge sealed.
    await sqlOn(target, sql`update optout.ledger_events set evidence = '{"reason":"edited"}' where seq = 5`);
    const diff = await runCli(["verify", "--json"], env);
    expect(diff.code).toBe(4);
    const report = JSON.parse(diff.stdout) as { differences: string[] };
    expect(report.differences).toEqual([
      expect.stringMatching(/^account acc_1: 16 event\(s\) at the edge, 15 in the primary$/),
      expect.stringMatching(/^account acc_1: ledger head differs — edge seq 46 /),
      "ledger seq 5 (account acc_1): the primary's copy differs in evidence",
      expect.stringMatching(
        /^entry \(account acc_0, channel \*, scope account\): edge (not )?blocked \(seq \d+\), primary (not )?blocked/,
      ),
    ]);
    // No addresses in what verify prints.
    expect(diff.stdout).not.toContain("@example.com");
  });

  it("block/unblock refuse an --occurred-at beyond the edge's clock skew (exit 2) and queue nothing", async () => {
    const { env, target } = await freshEnv();
    const args = ["--account", "acc_1", "--address", "+14155550199"];
    for (const command of ["unblock", "block"]) {
      const far = await runCli([command, ...args, "--occurred-at", "2999-01-01T00:00:00Z"], env);
      expect(far.code, far.stderr).toBe(2);
      expect(far.stderr).toContain(
        "--occurred-at: 2999-01-01T00:00:00Z is more than 15 minutes in the future",
      );
      expect(far.stderr).toContain(`Run 'optout-sync ${command} --help' for usage.`);
    }
    expect(await sqlOn(target, sql`select id from optout.outbox`)).toEqual([]);
    // Within the skew (a clock a few minutes ahead) it is queued.
    const soon = new Date(Date.now() + 5 * 60_000).toISOString();
    const ok = await runCli(["block", ...args, "--occurred-at", soon], env);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it.skipIf(DB_KIND !== "postgres")(
    "verify rides out a database that refuses connections for a moment, as once does (exit 0, not 1)",
    async () => {
      const { env, target } = await freshEnv();
      expect((await runCli(["once"], env)).code).toBe(0);
      const url = new URL(target.env.DATABASE_URL!);
      const proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
      try {
        url.hostname = "127.0.0.1";
        url.port = String(proxy.port);
        await proxy.refuse();
        const verify = new CliProcess(["verify"], { ...env, DATABASE_URL: url.toString() });
        // Refused until verify has met the refusal; it must wait and try again, not give up.
        await verify.waitForLog(
          (l) => l.msg === "sync step failed; retrying" && l.kind === "database_unavailable",
        );
        await proxy.pass();
        const r = await verify.exited;
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(r.stdout).toContain("result    no difference");
      } finally {
        await proxy.stop();
      }
    },
  );

  it("backfill loads an empty database with progress lines, resumes after kill -9, refuses a filled one", async () => {
    const { env } = await freshEnv();
    // Slow pages, so the kill lands mid-backfill.
    edge.faults.push(...Array.from({ length: 40 }, () => ({ type: "hang" as const, ms: 100 })));
    const first = new CliProcess(["backfill"], { ...env, BATCH_SIZE: "1", LOG_LEVEL: "" });
    await first.waitForOutput(/^backfill: [\d,]+ change\(s\) to load/m);
    await new Promise((r) => setTimeout(r, 500));
    first.child.kill("SIGKILL");
    await first.exited;
    edge.faults.length = 0;
    const r = await runCli(["backfill"], { ...env, BATCH_SIZE: "5", LOG_LEVEL: "" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^backfill: resuming at seq \d+, [\d,]+ change\(s\) to load from/m);
    expect(r.stderr).toMatch(/^backfill: 100% 47\/47 changes/m);
    expect(r.stdout).toMatch(/cursor at seq 47\n$/);
    const again = await runCli(["backfill"], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already has changes up to seq 47");
    expect((await runCli(["verify"], env)).code).toBe(0);
  });
});

describe(`run serves /health, /ready and /metrics (${DB_KIND})`, { timeout: 120_000 }, () => {
  it("answers the probes, counts what it did, and stops within the bound on SIGTERM", async () => {
    const { env } = await freshEnv();
    const port = await freePort();
    await runCli(["block", "--account", "acc_0", "--address", "+14155550100"], env);
    const daemon = new CliProcess(["run"], { ...env, HTTP_PORT: String(port), POLL_INTERVAL_MS: "100" });
    await daemon.waitForLog((l) => l.msg === "serving /health, /ready and /metrics");
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
    };
    expect(await get("/health")).toMatchObject({ status: 200, text: '{"ok":true}' });
    await daemon.waitForLog((l) => l.msg === "applied batch" && l.hasMore === false);
    await daemon.waitForLog((l) => l.msg === "pushed outbox batch");
    const deadline = Date.now() + 10_000;
    let metrics = "";
    while (Date.now() < deadline) {
      metrics = (await get("/metrics")).text;
      if (/optout_sync_own_events_total 1$/m.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ready = await get("/ready");
    expect(ready.status, ready.text).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: true, database: true });
    expect((await get("/metrics")).type).toBe("text/plain; version=0.0.4; charset=utf-8");
    for (const line of [
      /^# TYPE optout_sync_lag_changes gauge$/m,
      /^optout_sync_lag_changes 0$/m,
      /^optout_sync_lag_seconds 0$/m,
      /^optout_sync_applied_events_total 48$/m,
      /^optout_sync_own_events_total 1$/m,
      /^optout_sync_pushed_changes_total 1$/m,
      /^optout_sync_cursor_seq 48$/m,
      /^optout_sync_outbox_pending 0$/m,
      /^# TYPE optout_sync_batch_duration_seconds histogram$/m,
      /^optout_sync_batch_duration_seconds_bucket\{direction="pull",le="\+Inf"\} \d+$/m,
      /^optout_sync_batch_duration_seconds_count\{direction="push"\} 1$/m,
      /^# TYPE optout_sync_errors_total counter$/m,
    ]) {
      expect(metrics).toMatch(line);
    }
    expect((await get("/nope")).status).toBe(404);

    // The edge fails for a while: errors are counted by kind, /ready turns 503 once polls are stale.
    edge.faults.push(...Array.from({ length: 3 }, () => ({ type: "status" as const, status: 503 })));
    await daemon.waitForLog((l) => l.msg === "sync step failed; retrying" && l.kind === "edge_unavailable");
    await new Promise((r) => setTimeout(r, 300));
    expect((await get("/metrics")).text).toMatch(
      /^optout_sync_errors_total\{kind="edge_unavailable"\} [1-9]/m,
    );

    const t0 = Date.now();
    daemon.child.kill("SIGTERM");
    const exit = await daemon.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("/ready is 503 while the edge cannot be polled", async () => {
    const { env } = await freshEnv();
    const port = await freePort();
    const daemon = new CliProcess(["run"], {
      ...env,
      EDGE_URL: "http://127.0.0.1:9",
      HTTP_PORT: String(port),
      RETRY_MAX_DELAY_MS: "200",
    });
    await daemon.waitForLog((l) => l.msg === "sync step failed; retrying");
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, database: true, lastPollAgeMs: null });
    daemon.child.kill("SIGTERM");
    expect((await daemon.exited).code).toBe(0);
  });
});
