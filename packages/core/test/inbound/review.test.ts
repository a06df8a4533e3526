import { describe, expect, it } from "vitest";
import { isReviewOverdue, planReviewOptOut, reviewOverdueBefore } from "../../src/index.ts";

describe("reviewOverdueBefore: 10 business days, weekends skipped", () => {
  it.each([
    // Monday noon → two weeks earlier, Monday noon.
    { now: "2026-03-16T12:00:00.000Z", before: "2026-03-02T12:00:00.000Z" },
    // Saturday → the weekend does not count: ten weekdays back lands on Monday of two weeks before.
    { now: "2026-03-14T12:00:00.000Z", before: "2026-03-02T12:00:00.000Z" },
    // Wednesday → Wednesday two weeks before.
    { now: "2026-03-18T08:30:00.000Z", before: "2026-03-04T08:30:00.000Z" },
  ])("$now → $before", ({ now, before }) => {
    expect(reviewOverdueBefore(new Date(now))).toBe(before);
  });

  it("flags undecided items received before it, never decided ones", () => {
    const now = new Date("2026-03-16T12:00:00.000Z");
    expect(isReviewOverdue({ receivedAt: "2026-03-02T11:59:59.000Z", decidedAt: null }, now)).toBe(true);
    expect(isReviewOverdue({ receivedAt: "2026-03-02T12:00:01.000Z", decidedAt: null }, now)).toBe(false);
    expect(
      isReviewOverdue({ receivedAt: "2026-01-01T00:00:00.000Z", decidedAt: "2026-01-02T00:00:00.000Z" }, now),
    ).toBe(false);
  });
});

describe("planReviewOptOut", () => {
  const item = {
    id: "7",
    provider: "vonage",
    providerMessageId: "m-1",
    address: "+14155550100",
    sender: "+14155550199",
    text: "please stop texting me",
    keyword: "STOP",
    ruleId: "default-en-opt-out",
    language: "en",
    receivedAt: "2026-03-02T12:00:00.000Z",
  };

  it.each([
    { level: "account" as const, scope: { type: "account" } },
    { level: "sender" as const, scope: { type: "sender", sender: "+14155550199" } },
  ])(
    "opts out at the rule's level ($level), as of the message, with the message as evidence",
    ({ level, scope }) => {
      const plan = planReviewOptOut({ item, level, channel: "sms", requestId: "req-1" });
      expect(plan.classification).toMatchObject({
        action: "opt_out",
        level,
        keyword: "STOP",
        language: "en",
      });
      expect(plan.changes).toEqual([
        expect.objectContaining({
          address: item.address,
          channel: "sms",
          scope,
          action: "opt_out",
          source: "keyword",
          occurredAt: item.receivedAt,
          evidence: expect.objectContaining({
            text: item.text,
            reviewId: "7",
            match: "review",
            requestId: "req-1",
          }),
        }),
      ]);
    },
  );
});
