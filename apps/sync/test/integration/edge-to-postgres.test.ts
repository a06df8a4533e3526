import {
  type BlocklistEntry,
  type ChangesPage,
  type ConsentEvent,
  type CreateAccountResult,
  type SyncChange,
  scopeKey,
  verifyChain,
} from "@optout/core";
import { LocalEdge } from "@optout/edge/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/client.ts";
import { type Database, openDatabase } from "../../src/db/open.ts";
import { readChainHeads } from "../../src/db/queries/chain-heads.ts";
import { readCursor } from "../../src/db/queries/cursor.ts";
import { listEntries } from "../../src/db/queries/entries.ts";
import { eventFromLedgerRow, ledgerStats, readLedger } from "../../src/db/queries/ledger.ts";
import { insertOutbox } from "../../src/db/queries/outbox.ts";
import { FEED_CURSOR } from "../../src/feed/sync-feed.ts";
import { CliProcess, killLiveChildren, runCli } from "../helpers/cli.ts";
import { createTestTarget, DB_KIND, type TestTarget } from "../helpers/database.ts";
import { prng } from "../helpers/feed.ts";

let edge: LocalEdge;
let db: TestTarget;
let env: Record<string, string>;
const accounts: CreateAccountResult[] = [];

beforeAll(async () => {
  // Assigned one by one, so afterAll cleans up whichever started even if the other failed.
  const starting = new LocalEdge();
  edge = starting;
  db = await createTestTarget();
  await starting.start();
  env = { EDGE_URL: edge.url, SYNC_TOKEN: edge.syncToken, ...db.env };
  for (const name of ["Acme", "Globex"]) {
    accounts.push(await edge.request<CreateAccountResult>("POST", "/v1/accounts", edge.adminToken, { name }));
  }
});
afterAll(async () => {
  killLiveChildren();
  await edge?.stop();
  await db?.drop();
});

async function withDatabase<T>(fn: (d: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(db.target);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

async function edgeFeed(): Promise<ConsentEvent[]> {
  const events: ConsentEvent[] = [];
  for (let after = 0; ; ) {
    const page = await edge.request<ChangesPage>(
      "GET",
      `/v1/changes?after=${after}&limit=1000`,
      edge.syncToken,
    );
    events.push(...page.changes);
    if (!page.hasMore) return events;
    after = Number(page.next);
  }
}

async function edgeActiveEntries(): Promise<string[]> {
  const keys: string[] = [];
  for (const account of accounts) {
    for (let cursor: string | null = null; ; ) {
      const page: { items: BlocklistEntry[]; nextCursor: string | null } = await edge.request(
        "GET",
        `/v1/blocklist?limit=1000${cursor ? `&cursor=${cursor}` : ""}`,
        account.apiKey,
      );
      for (const e of page.items)
        keys.push(JSON.stringify([e.accountId, e.address, e.channel, scopeKey(e.scope), e.seq]));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
  }
  return keys.sort();
}

/** Asserts PostgreSQL holds exactly the edge's ledger and the edge's active entries. */
async function expectPostgresEqualsEdge() {
  const feed = await edgeFeed();
  const active = await edgeActiveEntries();
  await withDatabase(async ({ db: pg }) => {
    const rows = await readLedger(pg, { afterSeq: 0, limit: 1_000_000 });
    expect(rows.length).toBe(feed.length);
    // Every change exactly once, in order, byte for byte what the edge hashed.
    expect(rows.map((r) => r.seq)).toEqual(feed.map((e) => e.seq));
    expect(rows.map(eventFromLedgerRow)).toEqual(feed);
    expect((await readCursor(pg, { name: FEED_CURSOR }))?.lastSeq).toBe(feed.at(-1)?.seq ?? 0);

    const stored = (await listEntries(pg, { activeOnly: true }))
      .map((r) => JSON.stringify([r.accountId, r.address, r.channel, r.scopeKey, r.seq]))
      .sort();
    expect(stored).toEqual(active);

    // Each account's chain verifies from the copy alone, and its head is the stored one.
    const heads = await readChainHeads(pg, { accountIds: accounts.map((a) => a.id) });
    for (const account of accounts) {
      const events = rows.map(eventFromLedgerRow).filter((e) => e.accountId === account.id);
      const verified = await verifyChain(events);
      expect(verified.ok).toBe(true);
      if (events.length)
        expect(heads.get(account.id)).toEqual({ lastSeq: events.at(-1)!.seq, hash: events.at(-1)!.hash });
    }
  });
  return feed.length;
}

describe(`a real edge on loopback → ${DB_KIND}`, () => {
  it("`once` makes PostgreSQL equal the edge after adds and removes", async () => {
    const [acme, globex] = accounts as [CreateAccountResult, CreateAccountResult];
    const add = (key: string, body: object) => edge.request("POST", "/v1/blocklist", key, body);
    const remove = (key: string, body: object) => edge.request("DELETE", "/v1/blocklist", key, body);
    await add(acme.apiKey, { address: "+1 415 555 0100", reason: "replied STOP by phone" });
    await add(acme.apiKey, { address: "+14155550101", scope: { type: "sender", sender: "+15550009999" } });
    await add(acme.apiKey, { address: "Someone@Example.com", channel: "email" });
    await add(acme.apiKey, { address: "someone@example.com", channel: "email" }); // already active: no event
    await add(globex.apiKey, { address: "+14155550100", channel: "sms" });
    await remove(acme.apiKey, { address: "+14155550101", scope: { type: "sender", sender: "+15550009999" } });
    await remove(globex.apiKey, { address: "nobody@example.com" }); // not active: no event

    const r = await runCli(["once"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("applied 5 change(s) in 1 batch(es); cursor at seq 5\n");
    expect(await expectPostgresEqualsEdge()).toBe(5);
    await withDatabase(async ({ db: pg }) => {
      const [first] = await listEntries(pg, { accountId: acme.id, activeOnly: true });
      expect(first).toMatchObject({
        address: "+14155550100",
        reason: "replied STOP by phone",
        source: "api",
      });
    });

    // Later changes arrive with the next run, and nothing is applied twice.
    await remove(acme.apiKey, { address: "+14155550100" });
    const again = await runCli(["once"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("applied 1 change(s) in 1 batch(es); cursor at seq 6\n");
    expect(await expectPostgresEqualsEdge()).toBe(6);
  });

  it("SIGKILLed at random moments in a large feed, it still applies every change exactly once", async () => {
    const random = prng(Number(process.env.SYNC_KILL_SEED ?? Date.now() % 1_000_000));
    const seedChanges = async (count: number, prefix: string) => {
      for (let done = 0; done < count; done += 1000) {
        const changes: SyncChange[] = Array.from({ length: Math.min(1000, count - done) }, (_, i) => {
          const account = accounts[Math.floor(random() * accounts.length)]!;
          const n = Math.floor(random() * 3000);
          return {
            id: `${prefix}-${done + i}`,
            accountId: account.id,
            address: n % 2 ? `user${n}@example.com` : `+1415555${String(n).padStart(4, "0")}`,
            channel: (["*", "sms", "email"] as const)[n % 3]!,
            scope: n % 5 ? { type: "account" } : { type: "sender", sender: "ACME" },
            action: random() < 0.6 ? "opt_out" : "opt_in",
            // Spread over a day in random order, so older changes often arrive after newer ones.
            occurredAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 86_400_000)).toISOString(),
          };
        });
        await edge.request("POST", "/v1/sync/apply", edge.syncToken, { changes });
      }
    };
    await seedChanges(10_000, "bulk");
    const total = (await edgeFeed()).length;
    expect(total).toBeGreaterThanOrEqual(10_000);

    const kills: number[] = [];
    const runEnv = { ...env, BATCH_SIZE: "100", POLL_INTERVAL_MS: "100" };
    for (let k = 0; k < 4; k++) {
      const before = await withDatabase(
        async ({ db: pg }) => (await readCursor(pg, { name: FEED_CURSOR }))?.lastSeq ?? 0,
      );
      const daemon = new CliProcess(["run"], runEnv);
      // Let it commit at least one batch after the restart, then kill it a random moment later:
      // between batches, mid-fetch or mid-transaction.
      await daemon.waitForLog((l) => l.msg === "applied batch" && Number(l.toSeq) > before);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 300)));
      daemon.child.kill("SIGKILL");
      const exit = await daemon.exited;
      expect(exit.signal).toBe("SIGKILL");
      const at = await withDatabase(
        async ({ db: pg }) => (await readCursor(pg, { name: FEED_CURSOR }))!.lastSeq,
      );
      kills.push(at);
      // More changes arrive at the edge while the daemon is down.
      if (k === 1) await seedChanges(2000, "late");
    }
    const finalTotal = (await edgeFeed()).length;
    // Every kill landed mid-feed, never after the daemon had finished.
    expect(
      kills.every((seq) => seq > 0 && seq < finalTotal),
      `cursor at kills: ${kills}`,
    ).toBe(true);

    const r = await runCli(["once"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`cursor at seq ${finalTotal}\\n$`));
    expect(await expectPostgresEqualsEdge()).toBe(finalTotal);
    await withDatabase(async ({ db: pg }) => {
      expect(await ledgerStats(pg)).toEqual({ count: finalTotal, minSeq: 1, maxSeq: finalTotal });
    });
  });

  it("outbox rows reach the real edge once, come back recognized, and both stores agree on simultaneous changes", async () => {
    const [acme] = accounts as [CreateAccountResult];
    const hour = 3_600_000;
    const minute = 60_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    // The same entries changed on both sides around the same time, in different orders.
    await edge.request("POST", "/v1/blocklist", acme.apiKey, { address: "+14155550301" });
    await edge.request("POST", "/v1/blocklist", acme.apiKey, { address: "+14155550302" });
    await withDatabase(async ({ db: pg }) => {
      await insertOutbox(pg, {
        changes: [
          // Later than the edge's block (within the clock skew a change may be ahead): wins on both sides.
          {
            accountId: acme.id,
            address: "+14155550301",
            channel: "*",
            scope: { type: "account" },
            action: "opt_in",
            occurredAt: at(5 * minute),
          },
          // Earlier than the edge's block: recorded, loses on both sides.
          {
            accountId: acme.id,
            address: "+14155550302",
            channel: "*",
            scope: { type: "account" },
            action: "opt_in",
            occurredAt: at(-hour),
          },
          {
            accountId: acme.id,
            address: "pushed@example.com",
            channel: "email",
            scope: { type: "sender", sender: "ACME" },
            action: "opt_out",
            reason: "from the CRM",
          },
        ],
      });
    });
    const first = await runCli(["once"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^pushed 3 outbox change\(s\); applied \d+ change\(s\)/);
    // An edge change after the push, and a second round: nothing is pushed again.
    await edge.request("DELETE", "/v1/blocklist", acme.apiKey, {
      address: "pushed@example.com",
      channel: "email",
      scope: { type: "sender", sender: "ACME" },
    });
    const second = await runCli(["once"], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^applied 1 change\(s\)/);
    await expectPostgresEqualsEdge();
    const feed = await edgeFeed();
    const primary = feed.filter(
      (e) => e.source === "primary" && String(e.evidence.changeId ?? "").length === 36,
    );
    expect(primary).toHaveLength(3);
    await withDatabase(async ({ db: pg }) => {
      const rows = await listEntries(pg, { accountId: acme.id });
      const state = (address: string) => rows.find((r) => r.address === address)?.active;
      expect([state("+14155550301"), state("+14155550302"), state("pushed@example.com")]).toEqual([
        false,
        true,
        false,
      ]);
      const outbox = rowsOf<{ edgeSeq: string; appliedSeq: string }>(
        await pg.execute(
          sql`select edge_seq as "edgeSeq", applied_seq as "appliedSeq" from optout.outbox order by id`,
        ),
      );
      expect(outbox.map((o) => Number(o.appliedSeq))).toEqual(primary.map((e) => e.seq));
      expect(outbox.map((o) => Number(o.edgeSeq))).toEqual(primary.map((e) => e.seq));
    });
    const verify = await runCli(["verify"], env);
    // Differences are listed on stdout; why verify could not run at all is on stderr.
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });
});
