import { describe, expect, it } from "vitest";
import {
  MAX_DEADLINES_PER_REQUEST,
  type MatchableRule,
  planEvents,
  type StoredMessage,
  type TriggerEvent,
} from "../../src/index.ts";

const T = "2026-05-01T12:00:00.000Z";
const ev = (over: Partial<TriggerEvent> & Pick<TriggerEvent, "type" | "messageId">): TriggerEvent => ({
  address: "+14155550100",
  sender: "ACME",
  channel: "sms",
  occurredAt: T,
  campaign: null,
  origin: "api",
  ...over,
});
const rule = (id: string, on: MatchableRule["on"]): MatchableRule => ({
  id,
  on,
  channel: "*",
  scope: { type: "account" },
  campaign: null,
  enabled: true,
});
const bounces = rule("r-bounce", { type: "bounced" });
const ghosted = rule("r-ghost", { type: "not_opened", withinSeconds: 60, after: "sent" });

function plan(
  events: TriggerEvent[],
  stored: { messages?: StoredMessage[]; events?: [string, string, string][] } = {},
  strict = true,
  rules = [bounces, ghosted],
) {
  const messages = new Map((stored.messages ?? []).map((m) => [m.messageId, m]));
  const kept = new Map((stored.events ?? []).map(([id, type, at]) => [`${id} ${type}`, { occurredAt: at }]));
  return planEvents({
    events,
    messageOf: (id) => messages.get(id) ?? null,
    eventOf: (id, type) => kept.get(`${id} ${type}`) ?? null,
    rules,
    strict,
  });
}

describe("planEvents", () => {
  it("a first report fires its rules and starts deadlines; a repeat does neither", () => {
    const first = plan([ev({ type: "bounced", messageId: "m1" }), ev({ type: "sent", messageId: "m2" })]);
    expect(first.ok && first.plan.firings.map((f) => f.rule.id)).toEqual(["r-bounce"]);
    expect(first.ok && first.plan.deadlines).toEqual([
      { rule: ghosted, messageId: "m2", dueAt: "2026-05-01T12:01:00.000Z" },
    ]);
    expect(first.ok && first.plan.results.map((r) => r.status)).toEqual(["recorded", "recorded"]);

    const again = plan([ev({ type: "bounced", messageId: "m1" })], { events: [["m1", "bounced", T]] });
    expect(again.ok && again.plan).toMatchObject({
      firings: [],
      events: [],
      results: [{ status: "duplicate" }],
    });
  });

  it("an earlier re-report replaces the kept time and moves the deadline earlier, without firing", () => {
    const earlier = "2026-05-01T11:59:00.000Z";
    const p = plan([ev({ type: "sent", messageId: "m1", occurredAt: earlier })], {
      events: [["m1", "sent", T]],
    });
    expect(p.ok && p.plan.events.map((e) => e.occurredAt)).toEqual([earlier]);
    expect(p.ok && p.plan.deadlines[0]!.dueAt).toBe("2026-05-01T12:00:00.000Z");
    expect(p.ok && p.plan.results[0]!.status).toBe("duplicate");
  });

  it("strict: an event that contradicts its stored message refuses the batch (409), or its own batch (400)", () => {
    const stored: StoredMessage = {
      messageId: "m1",
      address: "+14155550100",
      sender: "ACME",
      channel: "sms",
      campaign: null,
    };
    expect(plan([ev({ type: "opened", messageId: "m1", sender: "OTHER" })], { messages: [stored] })).toEqual({
      ok: false,
      problem: {
        status: 409,
        message: "events.0.sender: differs from the message's, which was recorded with another sender",
      },
    });
    expect(
      plan([
        ev({ type: "sent", messageId: "m9" }),
        ev({ type: "opened", messageId: "m9", channel: "email" }),
      ]),
    ).toMatchObject({
      ok: false,
      problem: { status: 400, message: expect.stringMatching(/^events\.1\.channel/) },
    });
  });

  it("internal events take their message's identity instead of being refused", () => {
    const stored: StoredMessage = {
      messageId: "m1",
      address: "+14155550100",
      sender: "ACME",
      channel: "email",
      campaign: "spring",
    };
    const p = plan(
      [ev({ type: "clicked", messageId: "m1", sender: null, channel: "*", origin: "link" })],
      { messages: [stored] },
      false,
    );
    expect(p.ok && p.plan.events[0]).toMatchObject({ sender: "ACME", channel: "email", campaign: "spring" });
  });

  it("stores only messages it learned something about: new ones, and a campaign filled in", () => {
    const stored: StoredMessage = {
      messageId: "m1",
      address: "+14155550100",
      sender: "ACME",
      channel: "sms",
      campaign: null,
    };
    const p = plan(
      [ev({ type: "opened", messageId: "m1", campaign: "spring" }), ev({ type: "sent", messageId: "m2" })],
      { messages: [stored] },
    );
    expect(p.ok && p.plan.messages.map((m) => [m.messageId, m.campaign])).toEqual([
      ["m1", "spring"],
      ["m2", null],
    ]);
  });

  it("refuses a batch that would schedule more deadlines than a request may", () => {
    const rules = Array.from({ length: 20 }, (_, i) =>
      rule(`r${i}`, { type: "not_opened", withinSeconds: 60, after: "sent" }),
    );
    const events = Array.from({ length: Math.ceil(MAX_DEADLINES_PER_REQUEST / 20) + 1 }, (_, i) =>
      ev({ type: "sent", messageId: `m${i}` }),
    );
    const p = plan(events, {}, true, rules);
    expect(p).toMatchObject({
      ok: false,
      problem: { status: 400, message: expect.stringMatching(/not_opened deadlines/) },
    });
  });
});
