import { describe, expect, it } from "vitest";
import { type ActiveEntry, decideSend } from "../src/index.ts";

const entry = (over: Partial<ActiveEntry>): ActiveEntry => ({
  address: "+14155550100",
  channel: "*",
  scope: { type: "account" },
  source: "api",
  occurredAt: "2026-01-01T00:00:00.000Z",
  seq: 1,
  ...over,
});

describe("decideSend", () => {
  it.each([
    { name: "no entries allow", entries: [], sender: "S1", channel: "sms" as const, allowed: true },
    {
      name: "account scope blocks any sender",
      entries: [entry({})],
      sender: "S9",
      channel: "sms" as const,
      allowed: false,
    },
    {
      name: "sender scope blocks that sender",
      entries: [entry({ scope: { type: "sender", sender: "S1" } })],
      sender: "S1",
      channel: "sms" as const,
      allowed: false,
    },
    {
      name: "sender scope allows another sender",
      entries: [entry({ scope: { type: "sender", sender: "S1" } })],
      sender: "S2",
      channel: "sms" as const,
      allowed: true,
    },
    {
      name: "channel * blocks email",
      entries: [entry({})],
      sender: "S1",
      channel: "email" as const,
      allowed: false,
    },
    {
      name: "sms entry allows whatsapp",
      entries: [entry({ channel: "sms" })],
      sender: "S1",
      channel: "whatsapp" as const,
      allowed: true,
    },
    {
      name: "sms entry blocks sms",
      entries: [entry({ channel: "sms" })],
      sender: "S1",
      channel: "sms" as const,
      allowed: false,
    },
    {
      name: "sender scope on another channel allows",
      entries: [entry({ channel: "email", scope: { type: "sender", sender: "S1" } })],
      sender: "S1",
      channel: "sms" as const,
      allowed: true,
    },
  ])("$name", ({ entries, sender, channel, allowed }) => {
    expect(decideSend(entries, { sender, channel }).allowed).toBe(allowed);
  });

  it("reports the broadest blocking entry, whatever the order", () => {
    const narrow = entry({ channel: "sms", scope: { type: "sender", sender: "S1" }, seq: 1 });
    const broad = entry({ channel: "*", scope: { type: "account" }, seq: 7, source: "keyword" });
    const mid = entry({ channel: "sms", scope: { type: "account" }, seq: 3 });
    for (const entries of [
      [narrow, broad, mid],
      [mid, narrow, broad],
      [broad, mid, narrow],
    ]) {
      const decision = decideSend(entries, { sender: "S1", channel: "sms" });
      expect(decision).toEqual({
        allowed: false,
        blockedBy: {
          channel: "*",
          scope: { type: "account" },
          source: "keyword",
          occurredAt: broad.occurredAt,
          seq: 7,
        },
      });
    }
  });
});
