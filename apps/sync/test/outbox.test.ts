import type { Channel, ConsentAction, Scope } from "@optout/core";
import { scopeKey } from "@optout/core";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rowsOf } from "../src/db/client.ts";
import { listEntries } from "../src/db/queries/entries.ts";
import { insertOutbox, type NewOutboxChange, outboxStats } from "../src/db/queries/outbox.ts";
import { EdgeClient } from "../src/edge-client.ts";
import { drainFeed, type FeedSyncDeps } from "../src/feed/sync-feed.ts";
import { createLogger } from "../src/log.ts";
import { drainOutbox, type OutboxPushDeps } from "../src/outbox/push-outbox.ts";
import { openTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { FakeEdge } from "./helpers/fake-edge.ts";
import { minutes, prng } from "./helpers/feed.ts";

let t: TestDatabase;
let edge: FakeEdge;
const log = createLogger("silent");

beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => {
  await t?.destroy();
});
beforeEach(async () => {
  await edge?.stop();
  edge = await new FakeEdge().start();
  await t.db.execute(
    sql`truncate optout.ledger_events, optout.blocklist_entries, optout.chain_heads, optout.sync_cursor, optout.outbox`,
  );
});

const retry = { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 10 };
const client = () => new EdgeClient({ baseUrl: edge.url, token: edge.token, timeoutMs: 500 });
const push = (over: Partial<OutboxPushDeps> = {}) =>
  drainOutbox({
    db: t.db,
    edge: client(),
    log,
    batchSize: 3,
    retry,
    signal: new AbortController().signal,
    ...over,
  });
const pull = (over: Partial<FeedSyncDeps> = {}) =>
  drainFeed({
    db: t.db,
    edge: client(),
    log,
    batchSize: 4,
    retry,
    signal: new AbortController().signal,
    ...over,
  });

const change = (over: Partial<NewOutboxChange> = {}): NewOutboxChange => ({
  accountId: "acc_a",
  address: "+14155550100",
  channel: "*",
  scope: { type: "account" },
  action: "opt_out",
  occurredAt: minutes(10),
  ...over,
});

async function outboxRows() {
  return rowsOf<{
    id: string;
    changeId: string;
    sentAt: string | null;
    edgeSeq: string | null;
    appliedSeq: string | null;
    rejectedAt: string | null;
    lastError: string | null;
    attempts: number;
  }>(
    await t.db.execute(sql`select id, change_id as "changeId", sent_at as "sentAt", edge_seq as "edgeSeq",
      applied_seq as "appliedSeq", rejected_at as "rejectedAt", last_error as "lastError", attempts
      from optout.outbox order by id`),
  );
}

describe("outbox → edge", () => {
  it("pushes rows in order, marks them sent with the edge's seq, and applies them when they come back", async () => {
    const ids = await insertOutbox(t.db, {
      changes: [
        change({ reason: "asked by phone" }),
        change({ address: "a@example.com", channel: "email" }),
        change({ accountId: "acc_b", scope: { type: "sender", sender: "ACME" } }),
        change({ action: "opt_in", occurredAt: minutes(11) }),
      ],
    });
    const pushed = await push();
    expect(pushed).toMatchObject({ pushed: 4, rejected: 0, batches: 2, drained: true });
    expect(edge.events.map((e) => [e.source, e.evidence.changeId])).toEqual(
      ids.map((r) => ["primary", r.changeId]),
    );
    expect(edge.events[0]!.evidence).toEqual({ changeId: ids[0]!.changeId, reason: "asked by phone" });
    expect((await outboxRows()).map((r) => [Number(r.edgeSeq), r.sentAt !== null, r.appliedSeq])).toEqual([
      [1, true, null],
      [2, true, null],
      [3, true, null],
      [4, true, null],
    ]);
    // Nothing changed in the primary's state yet: entries follow the feed, one rule for both stores.
    expect(await listEntries(t.db)).toEqual([]);

    const batches: number[] = [];
    await pull({ onBatch: (b) => batches.push(b.own) });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(4);
    expect((await outboxRows()).map((r) => Number(r.appliedSeq))).toEqual([1, 2, 3, 4]);
    const entries = await listEntries(t.db);
    expect(entries.map((e) => [e.accountId, e.address, e.channel, e.scopeKey, e.active, e.source])).toEqual([
      ["acc_a", "+14155550100", "*", "account", false, "primary"],
      ["acc_a", "a@example.com", "email", "account", true, "primary"],
      ["acc_b", "+14155550100", "*", "sender:ACME", true, "primary"],
    ]);
    // Never echoed: another push sends nothing, and the edge saw exactly the two requests.
    expect(await push()).toMatchObject({ pushed: 0 });
    expect(edge.applyRequests).toBe(2);
    expect(edge.events).toHaveLength(4);
  });

  it("a row acknowledged but not marked (crash) is resent and recorded once; the feed also marks it", async () => {
    await insertOutbox(t.db, { changes: [change(), change({ address: "+14155550101" })] });
    await push();
    // As if the daemon died after the edge's answer, before its UPDATE committed.
    await t.db.execute(sql`update optout.outbox set sent_at = null, edge_seq = null`);
    expect(await push()).toMatchObject({ pushed: 2 });
    expect(edge.events).toHaveLength(2);
    expect((await outboxRows()).map((r) => Number(r.edgeSeq))).toEqual([1, 2]);

    // And if the feed brings the change back first, the row counts as sent and is not pushed.
    await t.db.execute(sql`update optout.outbox set sent_at = null, edge_seq = null`);
    await pull();
    const before = edge.applyRequests;
    expect(await push()).toMatchObject({ pushed: 0 });
    expect(edge.applyRequests).toBe(before);
    expect((await outboxRows()).every((r) => r.sentAt && Number(r.appliedSeq) === Number(r.edgeSeq))).toBe(
      true,
    );
  });

  it("skips a row the edge refuses for good, and one that is invalid here, recording why", async () => {
    const [, refused] = await insertOutbox(t.db, {
      changes: [change(), change({ accountId: "acc_gone" }), change({ address: "+14155550102" })],
    });
    edge.refuse.add(refused!.changeId);
    await t.db.execute(sql`insert into optout.outbox (account_id, address, channel, action)
      values ('acc_a', '+14155550103', 'fax', 'opt_out')`);
    const r = await push();
    expect(r).toMatchObject({ pushed: 2, rejected: 2, drained: true });
    const rows = await outboxRows();
    expect(rows.map((x) => [x.sentAt !== null, x.rejectedAt !== null])).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
    ]);
    expect(rows[1]!.lastError).toBe("edge refused it (invalid_input): accountId: unknown account");
    expect(rows[3]!.lastError).toMatch(/^invalid: channel/);
    expect(await outboxStats(t.db)).toMatchObject({ pending: 0, rejected: 2, sent: 2 });
  });

  it("never pushes a row dated beyond the edge's clock skew: rejects it with the reason, pushes the rows behind it", async () => {
    const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
    await insertOutbox(t.db, {
      changes: [
        change({ address: "+14155550101" }),
        // An opt-in dated 2999 would hold the entry unblocked at the edge until then.
        change({ address: "+14155550102", action: "opt_in", occurredAt: "2999-01-01T00:00:00.000Z" }),
        change({ address: "+14155550103", occurredAt: inMinutes(5) }), // within the skew: fine
        change({ address: "+14155550104", occurredAt: inMinutes(60) }),
        change({ address: "+14155550105" }),
      ],
    });
    const r = await push();
    expect(r).toMatchObject({ pushed: 3, rejected: 2, drained: true });
    expect(edge.events.map((e) => e.address)).toEqual(["+14155550101", "+14155550103", "+14155550105"]);
    const rows = await outboxRows();
    expect(rows.map((x) => [x.sentAt !== null, x.rejectedAt !== null])).toEqual([
      [true, false],
      [false, true],
      [true, false],
      [false, true],
      [true, false],
    ]);
    expect(rows[1]!.lastError).toMatch(
      /^invalid: occurredAt: 2999-01-01T00:00:00\.000Z is more than 15 minutes in the future/,
    );
    expect(rows[3]!.lastError).toMatch(/^invalid: occurredAt: .* is more than 15 minutes in the future/);
    // Rejected for good: a later push does not try them again.
    expect(await push()).toMatchObject({ pushed: 0, rejected: 0 });
    expect(await outboxStats(t.db)).toMatchObject({ pending: 0, rejected: 2, sent: 3 });
  });

  it("retries 5xx, resets and timeouts, then marks the rows sent once", async () => {
    await insertOutbox(t.db, { changes: [change()] });
    edge.faults.push({ type: "status", status: 503 }, { type: "reset" }, { type: "hang", ms: 1500 });
    const kinds: string[] = [];
    const r = await push({ onRetry: (k) => kinds.push(k) });
    expect(r.pushed).toBe(1);
    expect(kinds).toEqual(["edge_unavailable", "edge_network", "edge_timeout"]);
    // The hung request was recorded by the edge before it answered; the resend was a replay.
    expect(edge.events).toHaveLength(1);
    const [row] = await outboxRows();
    expect(Number(row!.edgeSeq)).toBe(1);
    expect(row!.attempts).toBeGreaterThanOrEqual(1);
  });
});

describe("both stores converge by the core rule, whatever the interleaving", () => {
  const channels: Channel[] = ["*", "sms"];
  const scopes: Scope[] = [{ type: "account" }, { type: "sender", sender: "ACME" }];

  it.each(Array.from({ length: 12 }, (_, i) => ({ seed: 1000 + i })))(
    "seed $seed: edge changes and outbox changes on the same entries at once",
    async ({ seed }) => {
      const random = prng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
      // Few entries and few instants: collisions and occurredAt ties are the point.
      const spec = () => ({
        accountId: pick(["acc_a", "acc_b"]),
        address: pick(["+14155550100", "x@example.com"]),
        channel: pick(channels),
        scope: pick(scopes),
        action: pick(["opt_out", "opt_in"] as ConsentAction[]),
        occurredAt: minutes(Math.floor(random() * 4)),
      });
      for (let step = 0; step < 40; step++) {
        const r = random();
        if (r < 0.35) await edge.append({ ...spec(), source: "api", evidence: {} });
        else if (r < 0.7) await insertOutbox(t.db, { changes: [spec()] });
        else if (r < 0.85) await push({ batchSize: 1 + Math.floor(random() * 3) });
        else await pull({ batchSize: 1 + Math.floor(random() * 5) });
      }
      await push();
      await pull();
      const edgeState = [...edge.state().values()]
        .map((e) => [e.accountId, e.address, e.channel, scopeKey(e.scope), e.action === "opt_out", e.seq])
        .sort();
      const primary = (await listEntries(t.db))
        .map((e) => [e.accountId, e.address, e.channel, e.scopeKey, e.active, e.seq])
        .sort();
      expect(primary).toEqual(edgeState);
      expect(await outboxStats(t.db)).toMatchObject({ pending: 0, rejected: 0 });
      const rows = await outboxRows();
      expect(
        rows.every((row) => row.appliedSeq !== null && Number(row.appliedSeq) === Number(row.edgeSeq)),
      ).toBe(true);
    },
  );
});
