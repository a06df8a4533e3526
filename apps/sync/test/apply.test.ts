import { activeEntries, type ConsentEvent, entryKey, hashEvent, scopeKey } from "@optout/core";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readChainHeads } from "../src/db/queries/chain-heads.ts";
import { ensureCursor, readCursor } from "../src/db/queries/cursor.ts";
import { listEntries } from "../src/db/queries/entries.ts";
import { eventFromLedgerRow, ledgerStats, readLedger } from "../src/db/queries/ledger.ts";
import { CursorConflictError } from "../src/errors.ts";
import { applyPage } from "../src/feed/apply-page.ts";
import { FEED_CURSOR } from "../src/feed/sync-feed.ts";
import { verifyPage } from "../src/feed/verify-page.ts";
import { DB_KIND, openTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { FeedBuilder, prng } from "./helpers/feed.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.destroy();
});
beforeEach(async () => {
  await t.db.execute(
    sql`truncate optout.ledger_events, optout.blocklist_entries, optout.chain_heads, optout.sync_cursor`,
  );
  await ensureCursor(t.db, { name: FEED_CURSOR });
});

/** Verifies against the stored heads and applies, as the sync loop does. */
async function apply(events: ConsentEvent[]) {
  const cursor = (await readCursor(t.db, { name: FEED_CURSOR }))!.lastSeq;
  const heads = await readChainHeads(t.db, { accountIds: [...new Set(events.map((e) => e.accountId))] });
  const page = await verifyPage(events, { afterSeq: cursor, heads });
  return applyPage(t.db, { cursor: FEED_CURSOR, afterSeq: cursor, page });
}

async function snapshot() {
  return {
    cursor: (await readCursor(t.db, { name: FEED_CURSOR }))!.lastSeq,
    ledger: await ledgerStats(t.db),
    entries: await listEntries(t.db),
    heads: await readChainHeads(t.db, { accountIds: ["acc_a", "acc_b", "acc_test"] }),
  };
}

/** The entries PostgreSQL holds, as core convergence says they must be. */
function expectedActive(events: ConsentEvent[]) {
  return activeEntries(events)
    .map((e) => entryKey(e))
    .sort();
}
async function storedActive() {
  return (await listEntries(t.db, { activeOnly: true }))
    .map((r) => JSON.stringify([r.accountId, r.address, r.channel, r.scopeKey]))
    .sort();
}

describe(`applying a batch (${DB_KIND})`, () => {
  it("writes ledger rows, entries, chain heads and the cursor together", async () => {
    const feed = new FeedBuilder();
    await feed.addMany([
      { accountId: "acc_a", address: "+14155550100", reason: "asked by phone" },
      { accountId: "acc_a", address: "a@example.com", channel: "email" },
      { accountId: "acc_b", address: "+14155550100", scope: { type: "sender", sender: "+15550001" } },
      { accountId: "acc_a", address: "a@example.com", channel: "email", action: "opt_in" },
    ]);
    const result = await apply(feed.events);
    expect(result).toEqual({ inserted: 4, entriesChanged: 3, own: 0, lastSeq: 4 });

    const s = await snapshot();
    expect(s.cursor).toBe(4);
    expect(s.ledger).toEqual({ count: 4, minSeq: 1, maxSeq: 4 });
    expect(s.heads.get("acc_a")).toEqual({ lastSeq: 4, hash: feed.events[3]!.hash });
    expect(s.heads.get("acc_b")).toEqual({ lastSeq: 3, hash: feed.events[2]!.hash });
    expect(s.entries.map((e) => [e.accountId, e.channel, e.scopeKey, e.active, e.seq, e.reason])).toEqual([
      ["acc_a", "*", "account", true, 1, "asked by phone"],
      ["acc_a", "email", "account", false, 4, null],
      ["acc_b", "*", "sender:+15550001", true, 3, null],
    ]);
  });

  it("stores each event so that its hash can be recomputed from the row", async () => {
    const feed = new FeedBuilder();
    await feed.addMany([
      { scope: { type: "sender", sender: "ACME" }, reason: "r" },
      { channel: "whatsapp", action: "opt_in", source: "keyword" },
    ]);
    await apply(feed.events);
    const rows = await readLedger(t.db, { afterSeq: 0, limit: 10 });
    for (const [i, row] of rows.entries()) {
      const event = eventFromLedgerRow(row);
      expect(event).toEqual(feed.events[i]);
      expect(await hashEvent(event)).toBe(row.hash);
    }
  });

  it("an empty page changes nothing", async () => {
    expect(await apply([])).toEqual({ inserted: 0, entriesChanged: 0, own: 0, lastSeq: 0 });
    expect((await snapshot()).cursor).toBe(0);
  });
});

describe(`replays (${DB_KIND})`, () => {
  it("re-applying a batch from a stale cursor is refused and writes nothing", async () => {
    const feed = new FeedBuilder();
    await feed.addMany([{}, { address: "b@example.com" }, { action: "opt_in" }]);
    const page = await verifyPage(feed.events, { afterSeq: 0, heads: new Map() });
    await applyPage(t.db, { cursor: FEED_CURSOR, afterSeq: 0, page });
    const before = await snapshot();
    await expect(applyPage(t.db, { cursor: FEED_CURSOR, afterSeq: 0, page })).rejects.toBeInstanceOf(
      CursorConflictError,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("even with the cursor lost, replayed events add no ledger row and change no entry", async () => {
    const feed = new FeedBuilder();
    await feed.addMany([{}, { address: "b@example.com" }, { action: "opt_in" }]);
    await apply(feed.events);
    const before = await snapshot();
    // Simulate a restored cursor (say, from an older backup) while the rows stayed.
    await t.db.execute(sql`update optout.sync_cursor set last_seq = 0`);
    const page = await verifyPage(feed.events, { afterSeq: 0, heads: new Map() });
    const again = await applyPage(t.db, { cursor: FEED_CURSOR, afterSeq: 0, page });
    expect(again).toEqual({ inserted: 0, entriesChanged: 0, own: 0, lastSeq: 3 });
    const after = await snapshot();
    expect(after.ledger).toEqual(before.ledger);
    expect(after.entries).toEqual(before.entries);
  });

  it("two appliers racing with the same batch: exactly one wins", async () => {
    const feed = new FeedBuilder();
    for (let i = 0; i < 200; i++) await feed.add({ address: `u${i}@example.com` });
    const page = await verifyPage(feed.events, { afterSeq: 0, heads: new Map() });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 4 }, () => applyPage(t.db, { cursor: FEED_CURSOR, afterSeq: 0, page })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === "rejected") expect(o.reason).toBeInstanceOf(CursorConflictError);
    expect((await snapshot()).ledger.count).toBe(200);
  });
});

describe(`ordering: the latest occurredAt wins, ties go to the higher seq (${DB_KIND})`, () => {
  it.each([
    {
      name: "an older opt-in arriving later does not undo a newer opt-out",
      changes: [
        { action: "opt_out", occurredAt: 10 },
        { action: "opt_in", occurredAt: 5 },
      ],
      active: true,
      winner: 1,
    },
    {
      name: "a newer opt-in undoes an opt-out",
      changes: [
        { action: "opt_out", occurredAt: 10 },
        { action: "opt_in", occurredAt: 11 },
      ],
      active: false,
      winner: 2,
    },
    {
      name: "on equal occurredAt the higher seq wins",
      changes: [
        { action: "opt_in", occurredAt: 10 },
        { action: "opt_out", occurredAt: 10 },
      ],
      active: true,
      winner: 2,
    },
    {
      name: "an older opt-out arriving later does not undo a newer opt-in",
      changes: [
        { action: "opt_out", occurredAt: 1 },
        { action: "opt_in", occurredAt: 30 },
        { action: "opt_out", occurredAt: 20 },
      ],
      active: false,
      winner: 2,
    },
  ] as const)("$name — in one batch and across batches", async ({ changes, active, winner }) => {
    const feed = new FeedBuilder();
    await feed.addMany(changes.map((c) => ({ ...c })));
    for (const split of [changes.length, 1]) {
      await t.db.execute(sql`truncate optout.ledger_events, optout.blocklist_entries, optout.chain_heads`);
      await t.db.execute(sql`update optout.sync_cursor set last_seq = 0`);
      for (let i = 0; i < feed.events.length; i += split) await apply(feed.events.slice(i, i + split));
      const [entry] = await listEntries(t.db);
      expect(entry).toMatchObject({ active, seq: winner, occurredAt: expect.any(String) });
      expect(new Date(entry!.occurredAt).toISOString()).toBe(feed.events[winner - 1]!.occurredAt);
    }
  });

  it.each([1, 2, 3, 4, 5])(
    "random feeds split at random converge to core's state (seed %i)",
    async (seed) => {
      const random = prng(seed);
      const feed = new FeedBuilder();
      const addresses = ["+14155550100", "+14155550101", "x@example.com", "y@example.com"];
      for (let i = 0; i < 300; i++) {
        const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
        await feed.add({
          accountId: pick(["acc_a", "acc_b"]),
          address: pick(addresses),
          channel: pick(["*", "sms", "email"] as const),
          scope: pick([{ type: "account" }, { type: "sender", sender: "S1" }] as const),
          action: pick(["opt_out", "opt_in"] as const),
          // Few distinct instants, so ties on occurredAt are common.
          occurredAt: Math.floor(random() * 40),
        });
      }
      for (let i = 0; i < feed.events.length; ) {
        const size = 1 + Math.floor(random() * 60);
        await apply(feed.events.slice(i, i + size));
        i += size;
      }
      expect(await storedActive()).toEqual(expectedActive(feed.events));
      expect((await snapshot()).cursor).toBe(300);
    },
  );
});

describe(`atomicity (${DB_KIND})`, () => {
  it("a failure mid-transaction leaves nothing visible: no rows, no heads, cursor unmoved", async () => {
    const feed = new FeedBuilder();
    await feed.addMany([{}, { address: "b@example.com" }]);
    await apply(feed.slice(1, 1));
    const before = await snapshot();

    // A real database error after the cursor and ledger statements have run in the transaction.
    await t.db.execute(sql`
      create function optout.fail_entries() returns trigger language plpgsql as $$
      begin raise exception 'simulated failure while writing entries'; end $$`);
    await t.db.execute(sql`
      create trigger fail_entries before insert on optout.blocklist_entries
      for each row execute function optout.fail_entries()`);
    try {
      await expect(apply(feed.slice(2, 2))).rejects.toThrow();
      expect(await snapshot()).toEqual(before);
    } finally {
      await t.db.execute(sql`drop trigger fail_entries on optout.blocklist_entries`);
      await t.db.execute(sql`drop function optout.fail_entries()`);
    }
    // And once the cause is gone, the same batch applies.
    expect(await apply(feed.slice(2, 2))).toMatchObject({ inserted: 1, lastSeq: 2 });
  });

  it("entries store scope keys the core way", async () => {
    const feed = new FeedBuilder();
    const scope = { type: "sender", sender: "Acme Alerts" } as const;
    await feed.add({ scope });
    await apply(feed.events);
    expect((await listEntries(t.db))[0]?.scopeKey).toBe(scopeKey(scope));
  });
});
