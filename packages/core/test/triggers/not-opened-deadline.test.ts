import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cancelsDeadline,
  canonicalInstant,
  type DeadlineState,
  isDeadlineDue,
  keepsEarlier,
  MAX_WITHIN_SECONDS,
  MIN_WITHIN_SECONDS,
  notOpenedDeadline,
  settleDeadline,
  shareDeadlineClaims,
} from "../../src/index.ts";

const SENT = "2026-05-01T12:00:00.000Z";
const DUE = "2026-05-01T12:01:00.000Z";
const at = (ms: number) => new Date(Date.parse(DUE) + ms).toISOString();

describe("notOpenedDeadline", () => {
  it("is the event's occurredAt plus withinSeconds, in canonical form", () => {
    expect(notOpenedDeadline(SENT, 60)).toBe(DUE);
    expect(notOpenedDeadline("2026-05-01T14:00:00+02:00", 60)).toBe(DUE);
    expect(notOpenedDeadline(SENT, MAX_WITHIN_SECONDS)).toBe("2026-05-31T12:00:00.000Z");
  });

  it("truncates finer than milliseconds", () => {
    expect(notOpenedDeadline("2026-05-01T12:00:00.0009Z", 60)).toBe(DUE);
  });

  it("depends on occurredAt only (property)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("2000-01-01"), max: new Date("2099-01-01"), noInvalidDate: true }),
        fc.integer({ min: MIN_WITHIN_SECONDS, max: MAX_WITHIN_SECONDS }),
        (sent, within) => {
          const due = notOpenedDeadline(sent.toISOString(), within);
          expect(Date.parse(due) - sent.getTime()).toBe(within * 1000);
          expect(canonicalInstant(due)).toBe(due);
        },
      ),
    );
  });
});

describe("the deadline boundary: the window is half-open", () => {
  it.each([
    { name: "an open 1 ms before the deadline cancels it", openedAt: at(-1), cancels: true },
    { name: "an open exactly at the deadline does not", openedAt: at(0), cancels: false },
    { name: "an open 1 ms after the deadline does not", openedAt: at(1), cancels: false },
    {
      name: "an open before the message was sent (clock skew) cancels it",
      openedAt: at(-120_000),
      cancels: true,
    },
    { name: "offsets compare as instants", openedAt: "2026-05-01T14:00:59.999+02:00", cancels: true },
  ])("$name", ({ openedAt, cancels }) => {
    expect(cancelsDeadline(openedAt, DUE)).toBe(cancels);
  });

  it.each([
    { name: "1 ms before: not due", now: at(-1), due: false },
    { name: "exactly at: due", now: at(0), due: true },
    { name: "after: due", now: at(1), due: true },
  ])("isDeadlineDue, $name", ({ now, due }) => {
    expect(isDeadlineDue(DUE, new Date(now))).toBe(due);
  });

  it("due and cancel agree: at the first instant it is due, no later open can cancel it (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10_000, max: 10_000 }),
        fc.integer({ min: -10_000, max: 10_000 }),
        (o, n) => {
          const openedAt = at(o);
          const now = new Date(at(n));
          // An open that has not happened yet at `now` (openedAt > now) never cancels a due deadline.
          if (isDeadlineDue(DUE, now) && Date.parse(openedAt) > now.getTime()) {
            expect(cancelsDeadline(openedAt, DUE)).toBe(false);
          }
        },
      ),
    );
  });
});

describe("settleDeadline", () => {
  const live = { enabled: true, deleted: false };
  const state = (over: Partial<DeadlineState>): DeadlineState => ({
    dueAt: DUE,
    rule: live,
    firstOpen: null,
    ...over,
  });
  const after = new Date(at(30_000));

  it.each([
    { name: "not due yet: wait", s: state({}), now: new Date(at(-1)), action: "wait" },
    { name: "due, never opened: fire", s: state({}), now: after, action: "fire" },
    {
      name: "opened just before: cancel",
      s: state({ firstOpen: { type: "opened", occurredAt: at(-1) } }),
      now: after,
      action: "cancel",
    },
    {
      name: "clicked before: cancel",
      s: state({ firstOpen: { type: "clicked", occurredAt: at(-5000) } }),
      now: after,
      action: "cancel",
    },
    {
      name: "opened exactly at: fire",
      s: state({ firstOpen: { type: "opened", occurredAt: at(0) } }),
      now: after,
      action: "fire",
    },
    {
      name: "opened just after: fire",
      s: state({ firstOpen: { type: "opened", occurredAt: at(1) } }),
      now: after,
      action: "fire",
    },
    {
      name: "rule deleted: skip",
      s: state({ rule: { enabled: true, deleted: true } }),
      now: after,
      action: "skip",
    },
    { name: "rule gone: skip", s: state({ rule: null }), now: after, action: "skip" },
    {
      name: "rule disabled: skip",
      s: state({ rule: { enabled: false, deleted: false } }),
      now: after,
      action: "skip",
    },
  ] as const)("$name", ({ s, now, action }) => {
    expect(settleDeadline(s, now).action).toBe(action);
  });

  it("is the same whatever order the message's events arrived in (property)", () => {
    // Events of one message: reports of `sent` and `opened`, possibly repeated with other times.
    const report = fc.record({
      type: fc.constantFrom("sent" as const, "opened" as const),
      offset: fc.integer({ min: -100_000, max: 100_000 }),
    });
    const reportsAndShuffle = fc
      .array(report, { minLength: 1, maxLength: 8 })
      .chain((reports) =>
        fc.tuple(fc.constant(reports), fc.shuffledSubarray(reports, { minLength: reports.length })),
      );
    fc.assert(
      fc.property(reportsAndShuffle, ([reports, shuffled]) => {
        const decide = (order: typeof reports) => {
          const kept = new Map<string, { occurredAt: string }>();
          for (const r of order) {
            const e = { occurredAt: new Date(Date.parse(SENT) + r.offset).toISOString() };
            if (keepsEarlier(e, kept.get(r.type))) kept.set(r.type, e);
          }
          const sent = kept.get("sent");
          if (!sent) return "no deadline";
          const opened = kept.get("opened");
          const dueAt = notOpenedDeadline(sent.occurredAt, 60);
          return settleDeadline(
            {
              dueAt,
              rule: live,
              firstOpen: opened ? { type: "opened", occurredAt: opened.occurredAt } : null,
            },
            new Date("2026-06-01T00:00:00Z"),
          ).action;
        };
        expect(decide(shuffled)).toBe(decide(reports));
        expect(decide([...reports].reverse())).toBe(decide(reports));
      }),
    );
  });
});

describe("keepsEarlier", () => {
  it("keeps the first report and replaces it only with an earlier one", () => {
    expect(keepsEarlier({ occurredAt: SENT }, undefined)).toBe(true);
    expect(keepsEarlier({ occurredAt: SENT }, { occurredAt: SENT })).toBe(false);
    expect(keepsEarlier({ occurredAt: at(-1) }, { occurredAt: DUE })).toBe(true);
    expect(keepsEarlier({ occurredAt: at(1) }, { occurredAt: DUE })).toBe(false);
  });
});

describe("shareDeadlineClaims", () => {
  const due = (accountId: string, firstDueAt: string) => ({ accountId, firstDueAt });

  it.each([
    { name: "no accounts", accounts: [], batch: 250, want: [] },
    { name: "one account takes the whole batch", accounts: [due("a", SENT)], batch: 250, want: [["a", 250]] },
    {
      name: "two accounts share it, the earlier-due first with the remainder",
      accounts: [due("late", DUE), due("early", SENT)],
      batch: 5,
      want: [
        ["early", 3],
        ["late", 2],
      ],
    },
    {
      name: "more accounts than slots: the earliest due get one each",
      accounts: [due("c", at(3)), due("a", at(1)), due("b", at(2))],
      batch: 2,
      want: [
        ["a", 1],
        ["b", 1],
      ],
    },
  ])("$name", ({ accounts, batch, want }) => {
    expect(shareDeadlineClaims(accounts, batch).map((s) => [s.accountId, s.limit])).toEqual(want);
  });

  it("uses the batch whole, never gives an account more than one above another, never skips an earlier account", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({ accountId: fc.string({ minLength: 1 }), due: fc.integer({ min: 0, max: 1e6 }) }),
          {
            selector: (a) => a.accountId,
            maxLength: 50,
          },
        ),
        fc.integer({ min: 1, max: 1000 }),
        (raw, batch) => {
          const accounts = raw.map((a) => due(a.accountId, at(a.due)));
          const shares = shareDeadlineClaims(accounts, batch);
          if (accounts.length === 0) {
            expect(shares).toEqual([]);
            return;
          }
          expect(shares.reduce((s, x) => s + x.limit, 0)).toBe(batch);
          const limits = shares.map((s) => s.limit);
          expect(Math.max(...limits) - Math.min(...limits)).toBeLessThanOrEqual(1);
          expect(Math.min(...limits)).toBeGreaterThanOrEqual(1);
          expect(shares).toHaveLength(Math.min(accounts.length, batch));
          // Every account left out is due no earlier than every account taken.
          const taken = new Set(shares.map((s) => s.accountId));
          const latestTaken = Math.max(
            ...accounts.filter((a) => taken.has(a.accountId)).map((a) => Date.parse(a.firstDueAt)),
          );
          for (const a of accounts)
            if (!taken.has(a.accountId)) expect(Date.parse(a.firstDueAt)).toBeGreaterThanOrEqual(latestTaken);
        },
      ),
    );
  });
});
