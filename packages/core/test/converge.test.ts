import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { activeEntries, converge, type OrderedChange, supersedes } from "../src/index.ts";

const base = {
  accountId: "acc_1",
  address: "+14155550100",
  channel: "*" as const,
  scope: { type: "account" as const },
};

describe("supersedes", () => {
  it.each([
    {
      name: "later occurredAt wins",
      a: ["2026-01-02T00:00:00Z", 1],
      b: ["2026-01-01T00:00:00Z", 9],
      wins: true,
    },
    {
      name: "earlier occurredAt loses",
      a: ["2026-01-01T00:00:00Z", 9],
      b: ["2026-01-02T00:00:00Z", 1],
      wins: false,
    },
    {
      name: "tie goes to higher seq",
      a: ["2026-01-01T00:00:00Z", 5],
      b: ["2026-01-01T00:00:00Z", 4],
      wins: true,
    },
    {
      name: "tie with lower seq loses",
      a: ["2026-01-01T00:00:00Z", 4],
      b: ["2026-01-01T00:00:00Z", 5],
      wins: false,
    },
    {
      name: "same event does not supersede itself",
      a: ["2026-01-01T00:00:00Z", 5],
      b: ["2026-01-01T00:00:00Z", 5],
      wins: false,
    },
    {
      name: "offsets compare as instants",
      a: ["2026-01-01T01:00:00+02:00", 9],
      b: ["2026-01-01T00:00:00Z", 1],
      wins: false,
    },
  ] as const)("$name", ({ a, b, wins }) => {
    expect(supersedes({ occurredAt: a[0], seq: a[1] }, { occurredAt: b[0], seq: b[1] })).toBe(wins);
  });
});

const change = fc.record({
  address: fc.constantFrom("+14155550100", "+14155550101", "a@example.com"),
  channel: fc.constantFrom("sms", "email", "*") as fc.Arbitrary<OrderedChange["channel"]>,
  scope: fc.constantFrom({ type: "account" as const }, { type: "sender" as const, sender: "S1" }),
  action: fc.constantFrom("opt_out", "opt_in") as fc.Arbitrary<OrderedChange["action"]>,
  // a small range of instants so ties are common
  occurredAt: fc.integer({ min: 0, max: 5 }).map((m) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString()),
});

// Unique seqs, as the ledger assigns them.
const changes = fc
  .array(change, { maxLength: 40 })
  .map((cs) => cs.map((c, i): OrderedChange => ({ ...base, ...c, source: "api", seq: i + 1 })));

describe("converge", () => {
  it("gives the same state for any order and any replays (property)", () => {
    fc.assert(
      fc.property(
        changes.chain((cs) =>
          fc.tuple(
            fc.constant(cs),
            fc.shuffledSubarray(cs, { minLength: cs.length }),
            fc.array(fc.constantFrom(...(cs.length ? cs : [undefined])), { maxLength: 10 }),
          ),
        ),
        ([events, shuffled, replays]) => {
          const a = converge(events);
          const b = converge([...shuffled, ...replays.filter((r): r is OrderedChange => r !== undefined)]);
          expect(new Map([...b].sort())).toEqual(new Map([...a].sort()));
        },
      ),
    );
  });

  it("keeps only opt-outs as active entries", () => {
    const out = {
      ...base,
      action: "opt_out" as const,
      source: "api" as const,
      occurredAt: "2026-01-01T00:00:00Z",
      seq: 1,
    };
    const inn = { ...out, action: "opt_in" as const, occurredAt: "2026-01-01T00:01:00Z", seq: 2 };
    expect(activeEntries([out])).toEqual([out]);
    expect(activeEntries([inn, out])).toEqual([]);
    // a late-arriving older opt-out does not resurrect the entry
    expect(activeEntries([inn, { ...out, seq: 3 }])).toEqual([]);
  });
});
