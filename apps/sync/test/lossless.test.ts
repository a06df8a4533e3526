import {
  type Channel,
  type ConsentAction,
  type ConsentEvent,
  type ConsentSource,
  canonicalJson,
  type Evidence,
  hashEvent,
  type Scope,
  Sender,
  sealEvent,
  type UnhashedConsentEvent,
} from "@optout/core";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareStores } from "../src/commands/verify.ts";
import { rowsOf } from "../src/db/client.ts";
import { ensureCursor } from "../src/db/queries/cursor.ts";
import { eventFromLedgerRow, readLedger } from "../src/db/queries/ledger.ts";
import { EdgeClient } from "../src/edge-client.ts";
import { applyPage } from "../src/feed/apply-page.ts";
import { drainFeed, FEED_CURSOR } from "../src/feed/sync-feed.ts";
import { verifyPage } from "../src/feed/verify-page.ts";
import { createLogger } from "../src/log.ts";
import { killLiveChildren, runCli } from "./helpers/cli.ts";
import { createTestTarget, DB_KIND, openTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { type ChangeSpec, FeedBuilder } from "./helpers/feed.ts";

/**
 * The edge's ledger can hold text PostgreSQL cannot store as is: U+0000 (refused by `text` and by
 * `jsonb`) and UTF-16 surrogates without their pair (no UTF-8 form; the drivers write U+FFFD in
 * their place, so the row would no longer hash to the event's hash). Every such event must still
 * be applied, and read back exactly as the edge sealed it.
 */

let t: TestDatabase;
let edge: FakeEdge;
const log = createLogger("silent");
const retry = { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 };
const client = () => new EdgeClient({ baseUrl: edge.url, token: edge.token, timeoutMs: 5000 });

beforeAll(async () => {
  t = await openTestDatabase();
  edge = await new FakeEdge().start();
});
afterAll(async () => {
  killLiveChildren();
  await edge?.stop();
  await t?.destroy();
});

// Any UTF-16 code unit sequence: every code point, lone surrogate halves (which may also meet
// and pair up), NUL, and look-alikes of what the stored columns put in their place.
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u)) },
  { weight: 2, arbitrary: fc.constantFrom("\u0000", "\uFFFD", "\\u0000", "\\ud800", "\\", "\t", "\n", '"') },
);
const text = (minLength = 0) => fc.string({ unit, minLength, maxLength: 10 });
// Member names of any text, and the ones a plain object treats specially.
const key = fc.oneof(text(), fc.constantFrom("reason", "changeId", "__proto__", "constructor", ""));
// Numbers of every kind too: jsonb keeps them as numeric, which must read back as the same double.
const leaf = fc.oneof(
  text(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.oneof(
  leaf,
  fc.array(leaf, { maxLength: 3 }),
  fc.array(fc.tuple(key, leaf), { maxLength: 3 }).map((e) => Object.fromEntries(e)),
);
// Object.fromEntries defines own properties, so a "__proto__" member stays a member.
const evidence: fc.Arbitrary<Evidence> = fc
  .tuple(fc.array(fc.tuple(key, value), { maxLength: 4 }), fc.option(text(), { nil: undefined }))
  .map(([members, reason]) =>
    Object.fromEntries(reason === undefined ? members : [...members, ["reason", reason]]),
  );
// A sender the edge can hold: one its own Sender schema leaves unchanged.
const sender = text(1).filter((s) => Sender.safeParse(s).data === s);
const scope: fc.Arbitrary<Scope> = fc.oneof(
  fc.constant({ type: "account" } as const),
  sender.map((s) => ({ type: "sender", sender: s }) as const),
);
const change: fc.Arbitrary<ChangeSpec> = fc.record({
  id: text(1),
  // A few accounts, one of them with unstorable text in its id (distinct after any replacement).
  accountId: fc.constantFrom("acc_a", "acc_b", "acc_\u0000\udc00x"),
  address: fc.oneof(text(1), fc.constantFrom("+14155550100", "x@example.com")),
  channel: fc.constantFrom<Channel>("*", "sms", "email"),
  scope,
  action: fc.constantFrom<ConsentAction>("opt_out", "opt_in"),
  source: fc.constantFrom<ConsentSource>("api", "keyword", "primary"),
  // Few instants: ties on occurredAt are common.
  occurredAt: fc.integer({ min: 0, max: 5 }),
  evidence,
});

/** Whether any string of the value, member names included, holds NUL or an unpaired surrogate. */
function hasUnstorableText(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000") || /[\uD800-\uDFFF]/u.test(value);
  if (typeof value !== "object" || value === null) return false;
  return Object.entries(value).some(([k, v]) => hasUnstorableText(k) || hasUnstorableText(v));
}

async function reset() {
  await t.db.execute(
    sql`truncate optout.ledger_events, optout.blocklist_entries, optout.chain_heads, optout.sync_cursor, optout.outbox`,
  );
}

/** What the edge serves: the sealed event after its JSON round trip. */
const served = (events: ConsentEvent[]): ConsentEvent[] => JSON.parse(JSON.stringify(events));

describe(`every event the edge can hold round-trips losslessly (${DB_KIND})`, () => {
  it("a feed of events with any text in every text field is applied, read back exactly, and verify finds no difference", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(change, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        // On PostgreSQL the ledger rows go in by COPY; the jsonb statement is the other path
        // (PGlite's, and the fallback after a COPY conflict).
        fc.boolean(),
        async (specs, batchSize, jsonbPath) => {
          await reset();
          const feed = new FeedBuilder();
          await feed.addMany(specs);
          edge.events = feed.events;
          const before = process.env.OPTOUT_SYNC_APPLY;
          if (jsonbPath) process.env.OPTOUT_SYNC_APPLY = "jsonb";
          try {
            const drained = await drainFeed({
              db: t.db,
              edge: client(),
              log,
              batchSize,
              maxApplyEvents: batchSize * 2,
              retry,
              signal: new AbortController().signal,
            });
            expect(drained).toMatchObject({ applied: specs.length, caughtUp: true });
          } finally {
            if (before === undefined) delete process.env.OPTOUT_SYNC_APPLY;
            else process.env.OPTOUT_SYNC_APPLY = before;
          }

          const rows = await readLedger(t.db, { afterSeq: 0, limit: 100 });
          const expected = served(feed.events);
          expect(rows.map((r) => r.seq)).toEqual(expected.map((e) => e.seq));
          for (const [i, row] of rows.entries()) {
            const event = eventFromLedgerRow(row);
            expect(canonicalJson(event)).toBe(canonicalJson(expected[i]));
            expect(await hashEvent(event)).toBe(expected[i]!.hash);
          }
          // The exact copy is kept only for the events the plain columns cannot hold.
          const exact = rowsOf<{ exact: boolean }>(
            await t.db.execute(
              sql`select (exact_event is not null) as exact from optout.ledger_events order by seq`,
            ),
          );
          expect(exact.map((r) => r.exact)).toEqual(expected.map(hasUnstorableText));

          const report = await compareStores(t.db, { edge: client(), log, retry });
          expect(report.differences).toEqual([]);
          expect(report.events).toBe(specs.length);
        },
      ),
      { numRuns: DB_KIND === "postgres" ? 60 : 40 },
    );
  });

  it("events sealed with their chain position keep it in account_seq; a field no column holds is kept exactly", async () => {
    await reset();
    const feed = new FeedBuilder();
    const [plain] = await feed.addMany([{ reason: "sealed before chain positions" }]);
    const { hash: _, ...unsealed } = plain!;
    const positioned = await sealEvent({
      ...unsealed,
      seq: 2,
      id: "evt_2",
      prevHash: plain!.hash,
      accountSeq: 1,
    });
    // A field a later edge might seal, which no column has a place for.
    const extended = await sealEvent({
      ...unsealed,
      seq: 3,
      id: "evt_3",
      prevHash: positioned.hash,
      accountSeq: 2,
      writer: "w-7",
    } as UnhashedConsentEvent);
    const events = [plain!, positioned, extended];
    const page = await verifyPage(events, { afterSeq: 0, heads: new Map() });
    await ensureCursor(t.db, { name: FEED_CURSOR });
    await applyPage(t.db, { cursor: FEED_CURSOR, afterSeq: 0, page });
    const rows = await readLedger(t.db, { afterSeq: 0, limit: 10 });
    expect(rows.map((r) => [r.accountSeq, r.exactEvent === null])).toEqual([
      [null, true],
      [1, true],
      [2, false],
    ]);
    for (const [i, row] of rows.entries()) {
      expect(canonicalJson(eventFromLedgerRow(row))).toBe(canonicalJson(events[i]));
      expect(await hashEvent(eventFromLedgerRow(row))).toBe(events[i]!.hash);
    }
  });

  it("`once` applies such events (exit 0) instead of failing at their seq on every run, and `verify` agrees", {
    timeout: 120_000,
  }, async () => {
    const target = await createTestTarget();
    try {
      const feed = new FeedBuilder();
      await feed.addMany([
        { address: "+14155550100", reason: "x\u0000y" },
        { address: "lone\ud800@example.com", scope: { type: "sender", sender: "AC\udc00ME" } },
        {
          address: "nul\u0000@example.com",
          evidence: { "k\u0000": ["\udfff", { "\ud83d": 1 }], reason: "ok" },
        },
        { address: "+14155550100", action: "opt_in", reason: "paired \ud83d\ude00 is fine" },
      ]);
      const events = [...feed.events];
      const local = await new FakeEdge().start();
      local.events = events;
      try {
        const env = { EDGE_URL: local.url, SYNC_TOKEN: local.token, ...target.env };
        const once = await runCli(["once"], env);
        expect(once.code, once.stderr).toBe(0);
        expect(once.stdout).toBe("applied 4 change(s) in 1 batch(es); cursor at seq 4\n");
        const verify = await runCli(["verify"], env);
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
        expect(verify.stdout).toContain("result    no difference");
      } finally {
        await local.stop();
      }
    } finally {
      await target.drop();
    }
  });
});
