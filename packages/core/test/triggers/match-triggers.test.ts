import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  deadlinesStartedBy,
  firingOccurredAt,
  type MatchableRule,
  type TriggerEvent,
  triggerEvidence,
  triggersFiredBy,
} from "../../src/index.ts";

const event = (over: Partial<TriggerEvent> = {}): TriggerEvent => ({
  type: "sent",
  messageId: "msg_1",
  address: "+14155550100",
  sender: "ACME",
  channel: "sms",
  occurredAt: "2026-05-01T12:00:00.000Z",
  campaign: null,
  origin: "api",
  ...over,
});

const rule = (over: Partial<MatchableRule> & Pick<MatchableRule, "on">): MatchableRule => ({
  id: "trg_1",
  channel: "*",
  scope: { type: "account" },
  campaign: null,
  enabled: true,
  ...over,
});

const keywordRule = rule({ id: "kw", on: { type: "keyword_reply", keywords: ["STOP", "Désabonner"] } });
const linkRule = rule({ id: "link", on: { type: "link_click" } });
const bounceRule = rule({ id: "bounce", on: { type: "bounced" } });
const complaintRule = rule({ id: "complaint", on: { type: "complained" } });
const notOpenedRule = rule({ id: "no", on: { type: "not_opened", withinSeconds: 60, after: "sent" } });
const all = [keywordRule, linkRule, bounceRule, complaintRule, notOpenedRule];

describe("triggersFiredBy: which rules an event fires at once", () => {
  it.each([
    { name: "a bounce fires bounced rules", e: event({ type: "bounced" }), fired: ["bounce"] },
    { name: "a complaint fires complained rules", e: event({ type: "complained" }), fired: ["complaint"] },
    {
      name: "a keyword reply (classified) fires",
      e: event({ type: "replied", keyword: "stop" }),
      fired: ["kw"],
    },
    {
      name: "a reply text with punctuation and case",
      e: event({ type: "replied", text: "  Stop! " }),
      fired: ["kw"],
    },
    {
      name: "accents and width are ignored",
      e: event({ type: "replied", text: "DESABONNER" }),
      fired: ["kw"],
    },
    {
      name: "a reply that merely contains it does not",
      e: event({ type: "replied", text: "please stop it" }),
      fired: [],
    },
    {
      name: "an opt-out link click fires link_click",
      e: event({ type: "clicked", origin: "link" }),
      fired: ["link"],
    },
    {
      name: "a tracked click posted by the account does not",
      e: event({ type: "clicked", origin: "api" }),
      fired: [],
    },
    { name: "a sent never fires at once (it starts a deadline)", e: event({ type: "sent" }), fired: [] },
    { name: "an open fires nothing", e: event({ type: "opened" }), fired: [] },
  ])("$name", ({ e, fired }) => {
    expect(triggersFiredBy(e, all).map((r) => r.id)).toEqual(fired);
  });

  it.each([
    {
      name: "a disabled rule",
      r: { ...bounceRule, enabled: false },
      e: event({ type: "bounced" }),
      fires: false,
    },
    {
      name: "another channel",
      r: { ...bounceRule, channel: "email" as const },
      e: event({ type: "bounced" }),
      fires: false,
    },
    {
      name: "its channel",
      r: { ...bounceRule, channel: "sms" as const },
      e: event({ type: "bounced" }),
      fires: true,
    },
    {
      name: "an event on * only for a * rule",
      r: { ...linkRule, channel: "sms" as const },
      e: event({ type: "clicked", origin: "link", channel: "*" }),
      fires: false,
    },
    {
      name: "a sender rule, other sender",
      r: { ...bounceRule, scope: { type: "sender" as const, sender: "OTHER" } },
      e: event({ type: "bounced" }),
      fires: false,
    },
    {
      name: "a sender rule, its sender",
      r: { ...bounceRule, scope: { type: "sender" as const, sender: "ACME" } },
      e: event({ type: "bounced" }),
      fires: true,
    },
    {
      name: "a sender rule, an event without sender",
      r: { ...bounceRule, scope: { type: "sender" as const, sender: "ACME" } },
      e: event({ type: "bounced", sender: null }),
      fires: false,
    },
    {
      name: "a campaign rule, other campaign",
      r: { ...bounceRule, campaign: "spring" },
      e: event({ type: "bounced", campaign: "fall" }),
      fires: false,
    },
    {
      name: "a campaign rule, no campaign",
      r: { ...bounceRule, campaign: "spring" },
      e: event({ type: "bounced" }),
      fires: false,
    },
    {
      name: "a campaign rule, its campaign",
      r: { ...bounceRule, campaign: "spring" },
      e: event({ type: "bounced", campaign: "spring" }),
      fires: true,
    },
  ])("filters: $name", ({ r, e, fires }) => {
    expect(triggersFiredBy(e, [r]).length).toBe(fires ? 1 : 0);
  });

  it("never fires a disabled rule, and never a not_opened rule on arrival (property)", () => {
    const types = ["sent", "delivered", "opened", "clicked", "replied", "bounced", "complained"] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...types),
        fc.constantFrom("api" as const, "keyword" as const, "link" as const),
        fc.constantFrom(...all),
        (type, origin, r) => {
          const e = event({ type, origin, keyword: "stop" });
          expect(triggersFiredBy(e, [{ ...r, enabled: false }])).toEqual([]);
          if (r.on.type === "not_opened") expect(triggersFiredBy(e, [r])).toEqual([]);
        },
      ),
    );
  });
});

describe("deadlinesStartedBy", () => {
  const afterDelivered = rule({
    id: "nd",
    on: { type: "not_opened", withinSeconds: 3600, after: "delivered" },
  });

  it("a sent starts the after-sent deadlines, due at occurredAt + withinSeconds", () => {
    const started = deadlinesStartedBy(event({ type: "sent" }), [...all, afterDelivered]);
    expect(started.map((d) => [d.rule.id, d.dueAt])).toEqual([["no", "2026-05-01T12:01:00.000Z"]]);
  });

  it("a delivered starts the after-delivered ones", () => {
    const started = deadlinesStartedBy(event({ type: "delivered" }), [...all, afterDelivered]);
    expect(started.map((d) => [d.rule.id, d.dueAt])).toEqual([["nd", "2026-05-01T13:00:00.000Z"]]);
  });

  it("respects the rule's filters", () => {
    expect(deadlinesStartedBy(event(), [{ ...notOpenedRule, channel: "email" }])).toEqual([]);
    expect(deadlinesStartedBy(event(), [{ ...notOpenedRule, enabled: false }])).toEqual([]);
  });
});

describe("firing time and evidence", () => {
  it("an immediate firing happened when the event did; a not_opened one at its deadline", () => {
    const e = event({ type: "bounced", occurredAt: "2026-05-01T12:00:05.000Z" });
    expect(firingOccurredAt(bounceRule, e)).toBe("2026-05-01T12:00:05.000Z");
    expect(firingOccurredAt(notOpenedRule, event(), "2026-05-01T12:01:00.000Z")).toBe(
      "2026-05-01T12:01:00.000Z",
    );
    expect(() => firingOccurredAt(notOpenedRule, event())).toThrow();
  });

  it("names the rule and the events, never the address or the reply text", () => {
    const e = event({ type: "replied", keyword: "STOP", text: "STOP", campaign: "spring" });
    const evidence = triggerEvidence({ id: "kw", name: "STOP replies", on: keywordRule.on }, [e]);
    expect(evidence).toEqual({
      trigger: { ruleId: "kw", ruleName: "STOP replies", type: "keyword_reply" },
      messageId: "msg_1",
      campaign: "spring",
      events: [
        {
          type: "replied",
          messageId: "msg_1",
          occurredAt: "2026-05-01T12:00:00.000Z",
          origin: "api",
          keyword: "STOP",
        },
      ],
    });
    expect(JSON.stringify(evidence)).not.toContain("+1415");

    const deadline = triggerEvidence({ id: "no", name: "ghosted", on: notOpenedRule.on }, [event()], {
      dueAt: "2026-05-01T12:01:00.000Z",
    });
    expect(deadline).toMatchObject({
      trigger: { ruleId: "no", type: "not_opened", withinSeconds: 60, after: "sent" },
      deadline: "2026-05-01T12:01:00.000Z",
    });
  });
});
