import { describe, expect, it } from "vitest";
import { parseEvents, verifyEventWebhook } from "../../src/index.ts";
import { EVENTS_URL, mailgunSignature, NOW, post } from "./support.ts";

/** Mailgun's own vector, from mailgun/mailgun-php `tests/Api/WebhookTest.php`. */
const PHP = {
  key: "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
  timestamp: 1403645220,
  token: "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6",
  otherToken: "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr",
  signature: "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33",
};

const KEY = "0123456789abcdef0123456789abcdef-0a1b2c3d-4e5f6a7b";

// An accepted event as in Mailgun's "Webhook Payloads" documentation.
const ACCEPTED = {
  account: { id: "1234567890303a4bd1f33898" },
  "api-key-id": "12345678-87654321",
  domain: { name: "sample.mailgun.com" },
  envelope: {
    sender: "sender@sample.mailgun.com",
    targets: "recipient@sample.mailgun.com",
    transport: "smtp",
  },
  event: "accepted",
  flags: { "is-authenticated": true, "is-test-mode": false },
  id: "CCXMjJ7nQi2N3BPigGOdgQ",
  "log-level": "info",
  message: {
    headers: {
      from: "Sample Sender <sender@sample.mailgun.com>",
      "message-id": "20260203192638.000be97f99f8cea1@sample.mailgun.com",
      subject: "Sample webhook payload",
      to: "recipient@sample.mailgun.com",
    },
    size: 341,
  },
  method: "HTTP",
  recipient: "recipient@sample.mailgun.com",
  "recipient-domain": "sample.mailgun.com",
  tags: [],
  timestamp: 1521472262.908181,
  "user-variables": {},
};

function body(eventData: unknown, signature: Record<string, unknown>) {
  return JSON.stringify({ signature, "event-data": eventData });
}

function signedBody(
  eventData: unknown,
  timestamp = String(NOW),
  token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
) {
  return body(eventData, { timestamp, token, signature: mailgunSignature(KEY, timestamp, token) });
}

describe("mailgun verifyEventWebhook", () => {
  it.each([
    {
      name: "mailgun-php's good vector (timestamp as a string)",
      body: body(ACCEPTED, { timestamp: String(PHP.timestamp), token: PHP.token, signature: PHP.signature }),
      secret: PHP.key,
      now: PHP.timestamp,
      reason: null,
    },
    {
      name: "mailgun-php's good vector (timestamp as a number)",
      body: body(ACCEPTED, { timestamp: PHP.timestamp, token: PHP.token, signature: PHP.signature }),
      secret: PHP.key,
      now: PHP.timestamp,
      reason: null,
    },
    {
      name: "mailgun-php's bad vector (another token)",
      body: body(ACCEPTED, {
        timestamp: String(PHP.timestamp),
        token: PHP.otherToken,
        signature: PHP.signature,
      }),
      secret: PHP.key,
      now: PHP.timestamp,
      reason: "signature.signature does not match",
    },
    { name: "our own signature", body: signedBody(ACCEPTED), secret: KEY, now: NOW, reason: null },
    {
      name: "upper-case hex",
      body: body(ACCEPTED, {
        timestamp: String(NOW),
        token: "t",
        signature: mailgunSignature(KEY, String(NOW), "t").toUpperCase(),
      }),
      secret: KEY,
      now: NOW,
      reason: null,
    },
    {
      name: "forged with another key",
      body: body(ACCEPTED, {
        timestamp: String(NOW),
        token: "t",
        signature: mailgunSignature("another key", String(NOW), "t"),
      }),
      secret: KEY,
      now: NOW,
      reason: "signature.signature does not match",
    },
    {
      name: "timestamp moved",
      body: body(ACCEPTED, {
        timestamp: String(NOW + 1),
        token: "t",
        signature: mailgunSignature(KEY, String(NOW), "t"),
      }),
      secret: KEY,
      now: NOW,
      reason: "signature.signature does not match",
    },
    {
      name: "a subaccount's event, signed for the primary account (parent-signature)",
      body: body(ACCEPTED, {
        timestamp: String(NOW),
        token: "t",
        signature: mailgunSignature("the subaccount's key", String(NOW), "t"),
        "parent-signature": mailgunSignature(KEY, String(NOW), "t"),
      }),
      secret: KEY,
      now: NOW,
      reason: null,
    },
    {
      name: "stale (replayed after 301 s)",
      body: signedBody(ACCEPTED),
      secret: KEY,
      now: NOW + 301,
      reason: "signature.timestamp is outside the 300 s window",
    },
    {
      name: "from the future",
      body: signedBody(ACCEPTED),
      secret: KEY,
      now: NOW - 301,
      reason: "signature.timestamp is outside the 300 s window",
    },
    {
      name: "no signature object",
      body: JSON.stringify({ "event-data": ACCEPTED }),
      secret: KEY,
      now: NOW,
      reason: "body has no signature object with timestamp, token and signature",
    },
    {
      name: "a legacy form-encoded webhook",
      body: "timestamp=1&token=t&signature=s",
      secret: KEY,
      now: NOW,
      reason: "body is not JSON (Mailgun's form-encoded legacy webhooks are not supported)",
    },
  ])("$name", async ({ body, secret, now, reason }) => {
    const r = await verifyEventWebhook({ provider: "mailgun", request: post(EVENTS_URL, body), secret, now });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });

  it("does not cover event-data: Mailgun signs only timestamp + token (the edge must remember tokens)", async () => {
    const original = JSON.parse(signedBody(ACCEPTED));
    const altered = JSON.stringify({
      ...original,
      "event-data": { ...ACCEPTED, recipient: "someone-else@example.com" },
    });
    const r = await verifyEventWebhook({
      provider: "mailgun",
      request: post(EVENTS_URL, altered),
      secret: KEY,
      now: NOW,
    });
    expect(r).toEqual({ ok: true });
  });
});

const AT = "2018-03-19T15:11:02.908Z";
const base = {
  messageId: "20260203192638.000be97f99f8cea1@sample.mailgun.com",
  address: "recipient@sample.mailgun.com",
  sender: "sender@sample.mailgun.com",
  channel: "email",
  occurredAt: AT,
  campaign: null,
};

function parsed(eventData: unknown) {
  return parseEvents({ provider: "mailgun", request: post(EVENTS_URL, signedBody(eventData)), now: NOW });
}

describe("mailgun parseEvents", () => {
  it.each([
    {
      name: "accepted → sent",
      data: ACCEPTED,
      expected: [
        {
          kind: "message_event",
          event: { ...base, type: "sent", providerEventId: "CCXMjJ7nQi2N3BPigGOdgQ" },
        },
      ],
    },
    {
      name: "delivered → delivered",
      data: { ...ACCEPTED, event: "delivered", id: "d1", "delivery-status": { code: 250, message: "OK" } },
      expected: [{ kind: "message_event", event: { ...base, type: "delivered", providerEventId: "d1" } }],
    },
    {
      name: "opened → opened",
      data: {
        ...ACCEPTED,
        event: "opened",
        id: "o1",
        ip: "50.56.129.169",
        "client-info": { "client-type": "browser" },
      },
      expected: [{ kind: "message_event", event: { ...base, type: "opened", providerEventId: "o1" } }],
    },
    {
      name: "clicked → clicked",
      data: { ...ACCEPTED, event: "clicked", id: "c1", url: "https://example.com" },
      expected: [{ kind: "message_event", event: { ...base, type: "clicked", providerEventId: "c1" } }],
    },
    {
      name: "failed, permanent (hard bounce) → bounced",
      data: {
        ...ACCEPTED,
        event: "failed",
        id: "f1",
        severity: "permanent",
        reason: "bounce",
        "delivery-status": { code: 550, message: "No such user" },
      },
      expected: [{ kind: "message_event", event: { ...base, type: "bounced", providerEventId: "f1" } }],
    },
    {
      name: "failed, permanent, previously bounced address → bounced",
      data: {
        ...ACCEPTED,
        event: "failed",
        id: "f2",
        severity: "permanent",
        reason: "suppress-bounce",
        "delivery-status": { code: 605, description: "Not delivering to previously bounced address" },
      },
      expected: [{ kind: "message_event", event: { ...base, type: "bounced", providerEventId: "f2" } }],
    },
    {
      name: "failed, temporary (soft bounce) → nothing",
      data: { ...ACCEPTED, event: "failed", id: "f3", severity: "temporary", reason: "generic" },
      expected: [],
    },
    {
      name: "failed, permanent, previously unsubscribed → nothing",
      data: { ...ACCEPTED, event: "failed", id: "f4", severity: "permanent", reason: "suppress-unsubscribe" },
      expected: [],
    },
    {
      name: "failed, permanent, retries exhausted (old) → nothing",
      data: { ...ACCEPTED, event: "failed", id: "f5", severity: "permanent", reason: "old" },
      expected: [],
    },
    {
      name: "complained → complained",
      data: { ...ACCEPTED, event: "complained", id: "p1" },
      expected: [{ kind: "message_event", event: { ...base, type: "complained", providerEventId: "p1" } }],
    },
    {
      name: "unsubscribed → opt-out",
      data: { ...ACCEPTED, event: "unsubscribed", id: "u1" },
      expected: [
        {
          kind: "opt_out",
          address: "recipient@sample.mailgun.com",
          channel: "email",
          occurredAt: AT,
          providerEventId: "u1",
          reason: "mailgun unsubscribe",
          messageId: base.messageId,
        },
      ],
    },
    { name: "rejected → nothing", data: { ...ACCEPTED, event: "rejected", id: "r1" }, expected: [] },
    {
      name: "user-variables optout_message_id and optout_campaign win",
      data: {
        ...ACCEPTED,
        event: "opened",
        id: "o2",
        "user-variables": {
          optout_message_id: "msg_42",
          optout_campaign: "spring",
          my_var_1: "Mailgun Variable #1",
        },
      },
      expected: [
        {
          kind: "message_event",
          event: { ...base, type: "opened", providerEventId: "o2", messageId: "msg_42", campaign: "spring" },
        },
      ],
    },
    {
      name: "user-variables Mailgun could not load (a string) are ignored",
      data: {
        ...ACCEPTED,
        event: "opened",
        id: "o3",
        "user-variables": "Could not load user-variables. They were either truncated or invalid JSON",
      },
      expected: [{ kind: "message_event", event: { ...base, type: "opened", providerEventId: "o3" } }],
    },
    {
      name: "a message id in angle brackets is unwrapped, and the envelope sender stands in for a missing From",
      data: {
        ...ACCEPTED,
        event: "delivered",
        id: "d2",
        message: { headers: { "message-id": "<20130503182626.18666.16540@sandbox.mailgun.org>" } },
      },
      expected: [
        {
          kind: "message_event",
          event: {
            ...base,
            messageId: "20130503182626.18666.16540@sandbox.mailgun.org",
            type: "delivered",
            providerEventId: "d2",
          },
        },
      ],
    },
  ])("$name", ({ data, expected }) => {
    expect(parsed(data)).toEqual(expected);
  });

  it.each([
    { name: "not JSON", body: "event=delivered", message: "mailgun webhook body is not valid JSON" },
    {
      name: "no event-data",
      body: JSON.stringify({ signature: {} }),
      message: "mailgun webhook body is malformed: event-data",
    },
    {
      name: "a delivered event without a recipient",
      body: signedBody({ event: "delivered", id: "x", timestamp: NOW }),
      message: "mailgun delivered event-data is malformed: recipient",
    },
  ])("throws invalid_input: $name", ({ body, message }) => {
    expect(() =>
      parseEvents({ provider: "mailgun", request: post(EVENTS_URL, body), now: NOW }),
    ).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining(message) }),
    );
  });
});
