import { describe, expect, it } from "vitest";
import {
  DEFAULT_KEYWORD_SETTINGS,
  type InboundClassification,
  type InboundMessage,
  inboundConfirmation,
  inboundOccurredAt,
  keywordScopes,
  planInboundMessage,
} from "../../src/index.ts";

describe("inboundOccurredAt", () => {
  const now = new Date("2026-05-01T12:00:00.750Z");
  const message = (receivedAt: string) => ({ receivedAt }) as InboundMessage;

  it("takes the provider's time", () => {
    expect(inboundOccurredAt(message("2026-05-01T11:59:00.000Z"), 1_777_636_800, now)).toBe(
      "2026-05-01T11:59:00.000Z",
    );
  });

  it("uses the edge's millisecond clock when the payload had no time (parse fallback)", () => {
    const parsedAt = Math.floor(now.getTime() / 1000);
    expect(inboundOccurredAt(message(new Date(parsedAt * 1000).toISOString()), parsedAt, now)).toBe(
      now.toISOString(),
    );
  });

  it("clamps a provider clock ahead of ours", () => {
    expect(inboundOccurredAt(message("2026-05-01T13:00:00.000Z"), 0, now)).toBe(now.toISOString());
  });
});

const classified = (over: Partial<InboundClassification>): InboundClassification => ({
  action: "none",
  ...over,
});

describe("keywordScopes", () => {
  it.each([
    {
      name: "STOP at account level",
      c: classified({ action: "opt_out", level: "account" }),
      want: ["account"],
    },
    {
      name: "STOP at sender level",
      c: classified({ action: "opt_out", level: "sender" }),
      want: ["sender:ACME"],
    },
    {
      name: "START at account level also lifts the sender's own entry",
      c: classified({ action: "opt_in", level: "account" }),
      want: ["account", "sender:ACME"],
    },
    {
      name: "START at sender level",
      c: classified({ action: "opt_in", level: "sender" }),
      want: ["sender:ACME"],
    },
    { name: "HELP", c: classified({ action: "help" }), want: [] },
    { name: "a plain message", c: classified({ action: "none" }), want: [] },
  ])("$name", ({ c, want }) => {
    expect(
      keywordScopes(c, "ACME").map((s) => (s.type === "account" ? "account" : `sender:${s.sender}`)),
    ).toEqual(want);
  });
});

describe("planInboundMessage", () => {
  const message: InboundMessage = {
    provider: "twilio",
    providerMessageId: "SM1",
    from: "+14155550100",
    to: " +14155550199 ",
    text: "Stop",
    receivedAt: "2026-05-01T12:00:00.000Z",
  };

  it("records a STOP as a skip-if-unchanged sms opt-out with the evidence, and a replied event", () => {
    const plan = planInboundMessage({
      provider: "twilio",
      message,
      address: "+14155550100",
      classification: classified({
        action: "opt_out",
        level: "account",
        keyword: "STOP",
        ruleId: "r1",
        match: "keyword",
      }),
      occurredAt: "2026-05-01T12:00:00.000Z",
      channel: "sms",
      requestId: "req-1",
    });
    expect(plan.sender).toBe("+14155550199");
    expect(plan.changes).toEqual([
      expect.objectContaining({
        channel: "sms",
        scope: { type: "account" },
        action: "opt_out",
        source: "keyword",
        skipIfUnchanged: true,
        reason: "keyword STOP",
        evidence: {
          provider: "twilio",
          providerMessageId: "SM1",
          ruleId: "r1",
          keyword: "STOP",
          match: "keyword",
          sender: "+14155550199",
          text: "Stop",
          requestId: "req-1",
        },
      }),
    ]);
    expect(plan.replied).toMatchObject({
      type: "replied",
      messageId: "SM1",
      origin: "keyword",
      keyword: "STOP",
    });
  });

  it("records nothing for a plain message, but still a replied event without a keyword", () => {
    const plan = planInboundMessage({
      provider: "twilio",
      message: { ...message, text: "thanks!" },
      address: "+14155550100",
      classification: classified({ action: "none" }),
      occurredAt: "2026-05-01T12:00:00.000Z",
      channel: "sms",
      requestId: "req-2",
    });
    expect(plan.changes).toEqual([]);
    expect(plan.replied.keyword).toBeUndefined();
    expect(plan.replied.text).toBe("thanks!");
  });
});

describe("inboundConfirmation", () => {
  const base = { brand: "Acme", settings: DEFAULT_KEYWORD_SETTINGS };
  it.each([
    { name: "STOP that changed something", c: "opt_out", changed: true, still: false, says: /unsubscribed/i },
    { name: "STOP that changed nothing", c: "opt_out", changed: false, still: false, says: null },
    {
      name: "START that lifted the block",
      c: "opt_in",
      changed: true,
      still: false,
      says: /resubscribed|subscribed/i,
    },
    {
      name: "START that changed nothing, still blocked",
      c: "opt_in",
      changed: false,
      still: true,
      says: /still/i,
    },
    {
      name: "START that changed nothing, not blocked",
      c: "opt_in",
      changed: false,
      still: false,
      says: null,
    },
    { name: "HELP", c: "help", changed: false, still: false, says: /Acme/ },
    { name: "a plain message", c: "none", changed: false, still: false, says: null },
  ] as const)("$name", ({ c, changed, still, says }) => {
    const text = inboundConfirmation({
      ...base,
      classification: classified({ action: c, language: "en" }),
      changed,
      stillOptedOut: still,
    });
    if (says === null) expect(text).toBeNull();
    else expect(text).toMatch(says);
  });
});
