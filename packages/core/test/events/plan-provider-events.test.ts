import { describe, expect, it } from "vitest";
import { type ProviderEvent, planProviderEvents } from "../../src/index.ts";

const NOW = new Date("2026-05-01T12:00:00.000Z");
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

function emailEvent(
  over: Partial<Extract<ProviderEvent, { kind: "message_event" }>["event"]> = {},
): ProviderEvent {
  return {
    kind: "message_event",
    event: {
      type: "sent",
      messageId: "m-1",
      address: "Alice@Example.com",
      sender: "news@acme.test",
      channel: "email",
      occurredAt: ago(HOUR),
      campaign: null,
      providerEventId: "ev-1",
      ...over,
    },
  };
}

function optOut(over: Partial<Extract<ProviderEvent, { kind: "opt_out" }>> = {}): ProviderEvent {
  return {
    kind: "opt_out",
    address: "alice@example.com",
    channel: "email",
    occurredAt: ago(HOUR),
    providerEventId: "unsub-1",
    reason: "sendgrid unsubscribe",
    messageId: "m-1",
    ...over,
  };
}

const plan = (events: ProviderEvent[], defaultRegion: string | null = "US") =>
  planProviderEvents({ provider: "sendgrid", events, defaultRegion, now: NOW, requestId: "req-1" });

describe("planProviderEvents", () => {
  it("turns message events into trigger events of origin provider, addresses normalized", () => {
    const out = plan([
      emailEvent(),
      emailEvent({ type: "opened", campaign: "spring", occurredAt: ago(60_000) }),
    ]);
    expect(out.skipped).toEqual([]);
    expect(out.optOuts).toEqual([]);
    expect(out.messageEvents).toEqual([
      {
        type: "sent",
        messageId: "m-1",
        address: "alice@example.com",
        sender: "news@acme.test",
        channel: "email",
        occurredAt: ago(HOUR),
        campaign: null,
        origin: "provider",
      },
      expect.objectContaining({ type: "opened", campaign: "spring", origin: "provider" }),
    ]);
  });

  it("puts an email provider's unsubscribe on the email channel for the whole account", () => {
    const [o] = plan([optOut()]).optOuts;
    expect(o).toEqual({
      receiptId: "unsub-1",
      change: {
        address: "alice@example.com",
        channel: "email",
        scope: { type: "account" },
        action: "opt_out",
        source: "provider",
        occurredAt: ago(HOUR),
        evidence: {
          provider: "sendgrid",
          providerEventId: "unsub-1",
          reason: "sendgrid unsubscribe",
          messageId: "m-1",
          requestId: "req-1",
        },
        reason: "provider: sendgrid unsubscribe",
        skipIfUnchanged: true,
      },
    });
  });

  it.each([
    { name: "the sending number", sender: "+14155550199", scope: { type: "sender", sender: "+14155550199" } },
    { name: "an alphanumeric sender id", sender: "ACME", scope: { type: "sender", sender: "ACME" } },
    { name: "no sender (the account)", sender: null, scope: { type: "account" } },
  ])("blocks an SMS refusal for $name", ({ sender, scope }) => {
    const [o] = plan([
      optOut({ address: "(415) 555-0100", channel: "sms", sender, reason: "twilio error 21610 (…)" }),
    ]).optOuts;
    expect(o?.change).toMatchObject({ address: "+14155550100", channel: "sms", scope, source: "provider" });
    expect(o?.change.evidence.sender ?? null).toBe(sender);
  });

  it("applies each provider event id once per request", () => {
    const out = plan([optOut(), optOut(), optOut({ providerEventId: "unsub-2" })]);
    expect(out.optOuts.map((o) => o.receiptId)).toEqual(["unsub-1", "unsub-2"]);
  });

  it("clamps a provider clock ahead of ours to now", () => {
    const [o] = plan([optOut({ occurredAt: new Date(NOW.getTime() + HOUR).toISOString() })]).optOuts;
    expect(o?.change.occurredAt).toBe(NOW.toISOString());
  });

  it.each([
    {
      name: "an unreadable address",
      event: emailEvent({ address: "not an address" }),
      reason: "unreadable_address",
    },
    {
      name: "a phone number on email",
      event: emailEvent({ address: "+14155550100" }),
      reason: "wrong_kind_of_address",
    },
    {
      name: "an email address on sms",
      event: optOut({ channel: "sms", sender: "ACME" }),
      reason: "wrong_kind_of_address",
    },
    {
      name: "an event older than 31 days",
      event: emailEvent({ occurredAt: ago(40 * 24 * HOUR) }),
      reason: "outside_event_window",
    },
    {
      name: "an event an hour ahead",
      event: emailEvent({ occurredAt: ago(-HOUR) }),
      reason: "outside_event_window",
    },
  ])("skips $name without failing the others", ({ event, reason }) => {
    const out = plan([event, emailEvent({ messageId: "m-ok" })]);
    expect(out.skipped).toEqual([{ index: 0, reason }]);
    expect(out.messageEvents.map((e) => e.messageId)).toEqual(["m-ok"]);
  });

  it("keeps old opt-outs (ordering decides), unlike old message events", () => {
    expect(plan([optOut({ occurredAt: ago(400 * 24 * HOUR) })]).optOuts).toHaveLength(1);
  });
});
