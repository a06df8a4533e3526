import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ChainHead,
  type EntryState,
  entryKey,
  GENESIS_HASH,
  isPendingSeq,
  type LedgerChange,
  PENDING_SEQ_BASE,
  planChanges,
  verifyChain,
} from "../src/index.ts";

const ACCOUNT = "acc_1";
const change = (over: Partial<LedgerChange> = {}): LedgerChange => ({
  address: "+14155550100",
  channel: "*",
  scope: { type: "account" },
  action: "opt_out",
  source: "api",
  occurredAt: "2026-05-01T12:00:00.000Z",
  evidence: {},
  ...over,
});
const entry = (over: Partial<EntryState> = {}): EntryState => ({
  address: "+14155550100",
  channel: "*",
  scope: { type: "account" },
  active: true,
  source: "api",
  reason: null,
  occurredAt: "2026-05-01T11:00:00.000Z",
  seq: 7,
  createdAt: "2026-05-01T11:00:00.000Z",
  updatedAt: "2026-05-01T11:00:00.000Z",
  ...over,
});
const keyOf = (c: Pick<LedgerChange, "address" | "channel" | "scope">) =>
  entryKey({ accountId: ACCOUNT, ...c });

let ids = 0;
async function plan(
  changes: LedgerChange[],
  known: EntryState[] = [],
  head: ChainHead = { hash: GENESIS_HASH, accountSeq: 0 },
) {
  const entries = new Map(known.map((e) => [keyOf(e), e]));
  return planChanges({
    accountId: ACCOUNT,
    head,
    entryOf: (key) => entries.get(key),
    changes,
    recordedAt: "2026-05-01T12:00:01.000Z",
    newEventId: () => `evt_${++ids}`,
  });
}

describe("planChanges", () => {
  it("appends an event per change, chained from the head, numbered from its position", async () => {
    const planned = await plan([change(), change({ address: "a@example.com" })], [], {
      hash: "f".repeat(64),
      accountSeq: 41,
    });
    expect(planned.events.map((e) => [e.accountSeq, e.prevHash.slice(0, 4)])).toEqual([
      [42, "ffff"],
      [43, planned.events[0]!.hash.slice(0, 4)],
    ]);
    expect(planned.head).toEqual({ hash: planned.events[1]!.hash, accountSeq: 43 });
    // Feed positions come from the database later: a chain of events with any increasing seqs verifies.
    const committed = planned.events.map((e, i) => ({ ...e, seq: 1000 + i }));
    expect(await verifyChain(committed, { startHash: "f".repeat(64) })).toMatchObject({ ok: true });
  });

  it.each([
    { name: "add to an active entry", action: "opt_out", current: entry({ active: true }) },
    { name: "remove an absent entry", action: "opt_in", current: undefined },
    { name: "remove an inactive entry", action: "opt_in", current: entry({ active: false }) },
  ] as const)("skipIfUnchanged: $name appends nothing", async ({ action, current }) => {
    const planned = await plan([change({ action, skipIfUnchanged: true })], current ? [current] : []);
    expect(planned.events).toEqual([]);
    expect(planned.outcomes).toEqual([{ status: "unchanged", entry: current ?? null }]);
    expect(planned.moves.size).toBe(0);
  });

  it("an older change is recorded for audit but does not move the entry (latest occurredAt wins)", async () => {
    const current = entry({ occurredAt: "2026-05-01T12:30:00.000Z" });
    const planned = await plan(
      [change({ action: "opt_in", occurredAt: "2026-05-01T12:00:00.000Z" })],
      [current],
    );
    expect(planned.events).toHaveLength(1);
    expect(planned.outcomes[0]).toMatchObject({ status: "appended", applied: false, entry: current });
    expect(planned.moves.size).toBe(0);
  });

  it("a tie in occurredAt goes to the new change: it will commit after everything committed", async () => {
    const current = entry({ occurredAt: "2026-05-01T12:00:00.000Z", seq: 2 ** 50 });
    const planned = await plan([change({ action: "opt_in" })], [current]);
    expect(planned.outcomes[0]).toMatchObject({ status: "appended", applied: true });
    const moved = planned.moves.get(keyOf(change()))!;
    expect(isPendingSeq(moved.seq)).toBe(true);
    expect(moved.eventId).toBe(planned.events[0]!.id);
    expect(moved.createdAt).toBe(current.createdAt);
  });

  it("each change sees the ones before it: STOP then START then STOP moves the entry three times", async () => {
    const planned = await plan([
      change({ skipIfUnchanged: true }),
      change({ action: "opt_in", skipIfUnchanged: true }),
      change({ skipIfUnchanged: true }),
      change({ skipIfUnchanged: true }),
    ]);
    expect(planned.outcomes.map((o) => o.status)).toEqual(["appended", "appended", "appended", "unchanged"]);
    expect(planned.moves.get(keyOf(change()))).toMatchObject({ active: true, seq: PENDING_SEQ_BASE + 3 });
  });

  it("expectSeq: reverts only the entry the caller saw", async () => {
    const seen = entry({ seq: 10 });
    const undo = change({ action: "opt_in", expectSeq: 10, skipIfUnchanged: true });
    expect((await plan([undo], [seen])).outcomes[0]).toMatchObject({ status: "appended", applied: true });
    expect((await plan([undo], [entry({ seq: 11 })])).outcomes[0]).toMatchObject({ status: "changed_since" });
    expect((await plan([undo], [])).outcomes[0]).toEqual({ status: "changed_since", entry: null });
  });

  it("the final state of every entry is what converging all its events gives (property)", async () => {
    const when = fc
      .integer({ min: 0, max: 5 })
      .map((m) => new Date(Date.UTC(2026, 4, 1, 12, m)).toISOString());
    const arbitraryChange = fc.record({
      address: fc.constantFrom("+14155550100", "+14155550101"),
      action: fc.constantFrom("opt_out", "opt_in"),
      occurredAt: when,
      skipIfUnchanged: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryChange, { maxLength: 12 }), async (raw) => {
        const changes = raw.map((r) => change(r as Partial<LedgerChange>));
        const planned = await plan(changes);
        // Replay the appended events in order with latest-occurredAt-wins, ties to the later one.
        const expected = new Map<string, { active: boolean; occurredAt: string }>();
        for (const event of planned.events) {
          const key = keyOf(event);
          const current = expected.get(key);
          if (!current || Date.parse(event.occurredAt) >= Date.parse(current.occurredAt))
            expected.set(key, { active: event.action === "opt_out", occurredAt: event.occurredAt });
        }
        for (const [key, state] of expected) expect(planned.moves.get(key)).toMatchObject(state);
        expect(planned.events.map((e) => e.accountSeq)).toEqual(planned.events.map((_, i) => i + 1));
      }),
      { numRuns: 200 },
    );
  });
});
