import { describe, expect, it } from "vitest";
import {
  CreateTriggerInput,
  canonicalInstant,
  futureInstantProblem,
  MAX_WITHIN_SECONDS,
  MessageEvent,
  normalizeKeyword,
  occurredAtProblem,
  PostEventsInput,
} from "../../src/index.ts";

const sent = {
  type: "sent",
  messageId: "msg_1",
  address: "+14155550100",
  sender: "ACME",
  channel: "sms",
  occurredAt: "2026-05-01T12:00:00Z",
};

const issues = (result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) => result.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

describe("MessageEvent and PostEventsInput", () => {
  it("accepts every event type", () => {
    for (const type of ["sent", "delivered", "opened", "clicked", "replied", "bounced", "complained"]) {
      expect(MessageEvent.safeParse({ ...sent, type }).success, type).toBe(true);
    }
  });

  it.each([
    { name: "an unknown type", event: { ...sent, type: "unsubscribed" }, path: "type" },
    { name: "a missing messageId", event: { ...sent, messageId: undefined }, path: "messageId" },
    { name: "channel *", event: { ...sent, channel: "*" }, path: "channel" },
    {
      name: "an instant without offset",
      event: { ...sent, occurredAt: "2026-05-01T12:00:00" },
      path: "occurredAt",
    },
    { name: "an unknown field", event: { ...sent, extra: 1 }, path: "" },
    { name: "text on a non-reply", event: { ...sent, text: "hi" }, path: "text" },
  ])("rejects $name", ({ event, path }) => {
    const result = MessageEvent.safeParse(event);
    expect(result.success).toBe(false);
    expect(issues(result).some((i) => i.startsWith(`${path}:`) || (path === "" && i.includes("extra")))).toBe(
      true,
    );
  });

  it("takes 1..1000 events", () => {
    expect(PostEventsInput.safeParse({ events: [] }).success).toBe(false);
    expect(PostEventsInput.safeParse({ events: Array(1000).fill(sent) }).success).toBe(true);
    const tooMany = PostEventsInput.safeParse({ events: Array(1001).fill(sent) });
    expect(issues(tooMany)).toEqual([expect.stringMatching(/^events: Too big/)]);
  });
});

describe("CreateTriggerInput", () => {
  const base = { name: "ghosted", on: { type: "not_opened", withinSeconds: 60 } };

  it("fills the defaults", () => {
    expect(CreateTriggerInput.parse(base)).toEqual({
      name: "ghosted",
      on: { type: "not_opened", withinSeconds: 60, after: "sent" },
      channel: "*",
      scope: { type: "account" },
      enabled: true,
    });
  });

  it.each([
    { name: "59 s", withinSeconds: 59, ok: false },
    { name: "60 s", withinSeconds: 60, ok: true },
    { name: "30 days", withinSeconds: MAX_WITHIN_SECONDS, ok: true },
    { name: "30 days + 1 s", withinSeconds: MAX_WITHIN_SECONDS + 1, ok: false },
    { name: "a fraction", withinSeconds: 60.5, ok: false },
  ])("withinSeconds $name", ({ withinSeconds, ok }) => {
    const result = CreateTriggerInput.safeParse({ ...base, on: { ...base.on, withinSeconds } });
    expect(result.success).toBe(ok);
    if (!ok) expect(issues(result)[0]).toMatch(/^on\.withinSeconds: /);
  });

  it.each([
    { name: "an unknown trigger type", on: { type: "opened" } },
    { name: "keyword_reply without keywords", on: { type: "keyword_reply", keywords: [] } },
    { name: "a keyword of punctuation only", on: { type: "keyword_reply", keywords: ["!!!"] } },
    { name: "not_opened after opened", on: { type: "not_opened", withinSeconds: 60, after: "opened" } },
    { name: "an extra field on link_click", on: { type: "link_click", keywords: ["x"] } },
  ])("rejects $name", ({ on }) => {
    expect(CreateTriggerInput.safeParse({ name: "r", on }).success).toBe(false);
  });
});

describe("helpers", () => {
  it("canonicalInstant is UTC with milliseconds, so text order is time order", () => {
    expect(canonicalInstant("2026-05-01T14:00:00+02:00")).toBe("2026-05-01T12:00:00.000Z");
    expect(canonicalInstant("2026-05-01T12:00:00.123456Z")).toBe("2026-05-01T12:00:00.123Z");
    expect(() => canonicalInstant("nope")).toThrow(RangeError);
  });

  it("occurredAtProblem allows 31 days of past and 15 minutes of future skew", () => {
    const now = new Date("2026-05-01T12:00:00Z");
    expect(occurredAtProblem("2026-03-31T12:00:00Z", now)).toBeNull();
    expect(occurredAtProblem("2026-03-31T11:59:59.999Z", now)).toMatch(/31 days in the past/);
    expect(occurredAtProblem("2000-01-01T00:00:00Z", now)).toMatch(/in the past/);
    expect(occurredAtProblem("2026-05-01T12:15:00Z", now)).toBeNull();
    expect(occurredAtProblem("2026-05-01T12:15:00.001Z", now)).toMatch(/future/);
    expect(occurredAtProblem("nope", now)).toBe("not an instant");
  });

  it("futureInstantProblem allows any past and 15 minutes of future skew", () => {
    const now = new Date("2026-05-01T12:00:00Z");
    expect(futureInstantProblem("1970-01-01T00:00:00Z", now)).toBeNull();
    expect(futureInstantProblem("2026-05-01T12:15:00Z", now)).toBeNull();
    expect(futureInstantProblem("2999-01-01T00:00:00Z", now)).toMatch(/15 minutes in the future/);
    expect(futureInstantProblem("9999-12-31T23:59:59Z", now)).toMatch(/future/);
  });

  it("normalizeKeyword", () => {
    expect(normalizeKeyword(" Stop!! ")).toBe("stop");
    expect(normalizeKeyword("ＳＴＯＰ")).toBe("stop");
    expect(normalizeKeyword("Arrêt")).toBe("arret");
    expect(normalizeKeyword("stop   all")).toBe("stop all");
    expect(normalizeKeyword(normalizeKeyword("Désabonner"))).toBe(normalizeKeyword("Désabonner"));
  });
});
