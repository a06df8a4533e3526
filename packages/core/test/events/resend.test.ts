import { describe, expect, it } from "vitest";
import { parseEvents, verifyEventWebhook } from "../../src/index.ts";
import { EVENTS_URL, NOW, post, svixSignature, tamper } from "./support.ts";

/**
 * Svix's own vector, from svix/svix-webhooks `javascript/src/webhook.test.ts` ("sign function works"),
 * and the secret its other tests (and resend/resend-node's webhook spec) use.
 */
const SVIX = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

function svix(
  body: string,
  {
    id = SVIX.id,
    timestamp = String(NOW),
    signature,
  }: { id?: string; timestamp?: string; signature: string },
) {
  return post(EVENTS_URL, body, {
    "svix-id": id,
    "svix-timestamp": timestamp,
    "svix-signature": signature,
    "content-type": "application/json",
  });
}

const sig = (secret: string, body: string, id = SVIX.id, timestamp = String(NOW)) =>
  `v1,${svixSignature(secret, id, timestamp, body)}`;
const OLD_SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo3Nzc3";

describe("resend verifyEventWebhook (Svix)", () => {
  it.each([
    {
      name: "Svix's signing vector",
      request: svix(SVIX.payload, { timestamp: String(SVIX.timestamp), signature: SVIX.signature }),
      secret: SVIX.secret,
      now: SVIX.timestamp,
      reason: null,
    },
    {
      name: "Svix's vector with the secret given without its whsec_ prefix",
      request: svix(SVIX.payload, { timestamp: String(SVIX.timestamp), signature: SVIX.signature }),
      secret: SVIX.secret.slice("whsec_".length),
      now: SVIX.timestamp,
      reason: null,
    },
    {
      name: "Svix's vector with the body changed",
      request: svix('{"test": 2432232315}', { timestamp: String(SVIX.timestamp), signature: SVIX.signature }),
      secret: SVIX.secret,
      now: SVIX.timestamp,
      reason: "svix-signature does not match",
    },
    {
      name: "Svix's vector under another message id",
      request: svix(SVIX.payload, {
        id: "msg_other",
        timestamp: String(SVIX.timestamp),
        signature: SVIX.signature,
      }),
      secret: SVIX.secret,
      now: SVIX.timestamp,
      reason: "svix-signature does not match",
    },
    {
      name: "key rotation: several signatures, one of them ours (Svix's multi-signature case)",
      request: svix(SVIX.payload, {
        signature: [
          "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
          "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
          sig(SVIX.secret, SVIX.payload),
          "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        ].join(" "),
      }),
      secret: SVIX.secret,
      now: NOW,
      reason: null,
    },
    {
      name: "key rotation: signed by the old and the new secret, configured with either",
      request: svix(SVIX.payload, {
        signature: `${sig(OLD_SECRET, SVIX.payload)} ${sig(SVIX.secret, SVIX.payload)}`,
      }),
      secret: OLD_SECRET,
      now: NOW,
      reason: null,
    },
    {
      name: "forged with another secret",
      request: svix(SVIX.payload, { signature: sig(OLD_SECRET, SVIX.payload) }),
      secret: SVIX.secret,
      now: NOW,
      reason: "svix-signature does not match",
    },
    {
      name: "body changed",
      request: svix(tamper(SVIX.payload), { signature: sig(SVIX.secret, SVIX.payload) }),
      secret: SVIX.secret,
      now: NOW,
      reason: "svix-signature does not match",
    },
    {
      name: "timestamp moved",
      request: svix(SVIX.payload, { timestamp: String(NOW + 1), signature: sig(SVIX.secret, SVIX.payload) }),
      secret: SVIX.secret,
      now: NOW,
      reason: "svix-signature does not match",
    },
    {
      name: "stale (replayed after 301 s)",
      request: svix(SVIX.payload, { signature: sig(SVIX.secret, SVIX.payload) }),
      secret: SVIX.secret,
      now: NOW + 301,
      reason: "svix-timestamp header is outside the 300 s window",
    },
    {
      name: "from the future",
      request: svix(SVIX.payload, { signature: sig(SVIX.secret, SVIX.payload) }),
      secret: SVIX.secret,
      now: NOW - 301,
      reason: "svix-timestamp header is outside the 300 s window",
    },
    {
      name: "a truncated signature",
      request: svix(SVIX.payload, { signature: sig(SVIX.secret, SVIX.payload).slice(0, 8) }),
      secret: SVIX.secret,
      now: NOW,
      reason: "svix-signature does not match",
    },
    {
      name: "an empty v1 signature",
      request: svix(SVIX.payload, { signature: "v1," }),
      secret: SVIX.secret,
      now: NOW,
      reason: "svix-signature does not match",
    },
    {
      name: "only another scheme's signature",
      request: svix(SVIX.payload, { signature: "v1a,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" }),
      secret: SVIX.secret,
      now: NOW,
      reason: "svix-signature has no v1 signature",
    },
    {
      name: "the unbranded webhook-* headers",
      request: post(EVENTS_URL, SVIX.payload, {
        "webhook-id": SVIX.id,
        "webhook-timestamp": String(NOW),
        "webhook-signature": sig(SVIX.secret, SVIX.payload),
      }),
      secret: SVIX.secret,
      now: NOW,
      reason: null,
    },
    {
      name: "no svix-id",
      request: post(EVENTS_URL, SVIX.payload, { "svix-timestamp": String(NOW), "svix-signature": "v1,x" }),
      secret: SVIX.secret,
      now: NOW,
      reason: "missing svix-id header",
    },
    {
      name: "no svix-signature",
      request: post(EVENTS_URL, SVIX.payload, { "svix-id": SVIX.id, "svix-timestamp": String(NOW) }),
      secret: SVIX.secret,
      now: NOW,
      reason: "missing svix-signature header",
    },
    {
      name: "no svix-timestamp",
      request: post(EVENTS_URL, SVIX.payload, { "svix-id": SVIX.id, "svix-signature": "v1,x" }),
      secret: SVIX.secret,
      now: NOW,
      reason: "missing svix-timestamp header",
    },
    {
      name: "a secret that is not base64",
      request: svix(SVIX.payload, { signature: sig(SVIX.secret, SVIX.payload) }),
      secret: "whsec_not base64!",
      now: NOW,
      reason: 'configured Resend signing secret is not "whsec_" + base64',
    },
  ])("$name", async ({ request, secret, now, reason }) => {
    const r = await verifyEventWebhook({ provider: "resend", request, secret, now });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });
});

// Payloads as in Resend's webhook event pages (`type`, `created_at`, `data`) and the types of
// resend/resend-node `src/webhooks/interfaces/webhook-event.interface.ts`.
const EMAIL_ID = "56761188-7520-42d8-8898-ff6fc54ce618";
const DATA = {
  broadcast_id: "8b146471-e88e-4322-86af-016cd36fd216",
  created_at: "2024-02-22T23:41:11.894719+00:00",
  email_id: EMAIL_ID,
  from: "Acme <onboarding@resend.dev>",
  to: ["delivered@resend.dev"],
  subject: "Sending this example",
  template_id: "43f68331-0622-4e15-8202-246a0388854b",
  tags: { category: "confirm_email" },
};
const DELIVERY_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

function parsed(payload: unknown, headers: Record<string, string> = { "svix-id": DELIVERY_ID }) {
  return parseEvents({
    provider: "resend",
    request: post(EVENTS_URL, JSON.stringify(payload), headers),
    now: NOW,
  });
}

const event = (type: string, occurredAt: string, extra: Record<string, unknown> = {}) => ({
  kind: "message_event",
  event: {
    type,
    messageId: EMAIL_ID,
    address: "delivered@resend.dev",
    sender: "onboarding@resend.dev",
    channel: "email",
    occurredAt,
    campaign: null,
    providerEventId: DELIVERY_ID,
    ...extra,
  },
});

const AT = "2024-02-22T23:41:12.126Z";

describe("resend parseEvents", () => {
  it.each([
    {
      name: "email.sent → sent",
      payload: { type: "email.sent", created_at: "2024-02-22T23:41:12.126Z", data: DATA },
      expected: [event("sent", AT)],
    },
    {
      name: "email.delivered → delivered",
      payload: { type: "email.delivered", created_at: "2024-02-22T23:41:12.126Z", data: DATA },
      expected: [event("delivered", AT)],
    },
    {
      name: "email.opened → opened",
      payload: { type: "email.opened", created_at: "2024-02-22T23:41:12.126Z", data: DATA },
      expected: [event("opened", AT)],
    },
    {
      name: "email.clicked → clicked, at the click's own time",
      payload: {
        type: "email.clicked",
        created_at: "2024-11-22T23:41:12.126Z",
        data: {
          ...DATA,
          click: {
            ipAddress: "122.115.53.11",
            link: "https://resend.com",
            timestamp: "2024-11-24T05:00:57.163Z",
            userAgent: "Mozilla/5.0",
          },
        },
      },
      expected: [event("clicked", "2024-11-24T05:00:57.163Z")],
    },
    {
      name: "email.bounced, Permanent → bounced",
      payload: {
        type: "email.bounced",
        created_at: "2024-11-22T23:41:12.126Z",
        data: {
          ...DATA,
          bounce: {
            message:
              "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.",
            subType: "Suppressed",
            type: "Permanent",
          },
        },
      },
      expected: [event("bounced", "2024-11-22T23:41:12.126Z")],
    },
    {
      name: "email.bounced, Transient → nothing",
      payload: {
        type: "email.bounced",
        created_at: AT,
        data: { ...DATA, bounce: { message: "Mailbox full", subType: "MailboxFull", type: "Transient" } },
      },
      expected: [],
    },
    {
      name: "email.complained → complained",
      payload: { type: "email.complained", created_at: AT, data: DATA },
      expected: [event("complained", AT)],
    },
    {
      name: "email.delivery_delayed → nothing",
      payload: { type: "email.delivery_delayed", created_at: AT, data: DATA },
      expected: [],
    },
    {
      name: "email.failed → nothing",
      payload: {
        type: "email.failed",
        created_at: AT,
        data: { ...DATA, failed: { reason: "reached_daily_quota" } },
      },
      expected: [],
    },
    {
      name: "email.suppressed → nothing (not sent: nothing new)",
      payload: {
        type: "email.suppressed",
        created_at: AT,
        data: { ...DATA, suppressed: { message: "x", type: "bounce" } },
      },
      expected: [],
    },
    {
      name: "contact.updated, unsubscribed → opt-out",
      payload: {
        type: "contact.updated",
        created_at: "2024-10-11T23:47:56.678Z",
        data: {
          id: "e169aa45-1ecf-4183-9955-b1499d5701d3",
          audience_id: "78261eea-8f8b-4381-83c6-79fa7120f1cf",
          segment_ids: [],
          created_at: "2024-10-10T15:11:94.110Z",
          updated_at: "2024-10-11T23:47:56.678Z",
          email: "steve.wozniak@gmail.com",
          first_name: "Steve",
          last_name: "Wozniak",
          unsubscribed: true,
        },
      },
      expected: [
        {
          kind: "opt_out",
          address: "steve.wozniak@gmail.com",
          channel: "email",
          occurredAt: "2024-10-11T23:47:56.678Z",
          providerEventId: DELIVERY_ID,
          reason: "resend contact unsubscribed",
          messageId: null,
        },
      ],
    },
    {
      name: "contact.updated, still subscribed → nothing",
      payload: {
        type: "contact.updated",
        created_at: AT,
        data: { id: "c", email: "a@b.co", unsubscribed: false },
      },
      expected: [],
    },
    {
      name: "suppression.added → opt-out",
      payload: {
        type: "suppression.added",
        created_at: AT,
        data: { id: "s1", email: "gone@example.com", origin: "manual", source_id: null, created_at: AT },
      },
      expected: [
        {
          kind: "opt_out",
          address: "gone@example.com",
          channel: "email",
          occurredAt: AT,
          providerEventId: DELIVERY_ID,
          reason: "resend suppression (manual)",
          messageId: null,
        },
      ],
    },
    {
      name: "suppression.removed → nothing",
      payload: { type: "suppression.removed", created_at: AT, data: { id: "s1", email: "gone@example.com" } },
      expected: [],
    },
    {
      name: "domain.created → nothing",
      payload: { type: "domain.created", created_at: AT, data: { id: "d", name: "example.com" } },
      expected: [],
    },
    {
      name: "tags (object) optout_message_id and optout_campaign win over email_id",
      payload: {
        type: "email.opened",
        created_at: AT,
        data: { ...DATA, tags: { optout_message_id: "msg_42", optout_campaign: "spring" } },
      },
      expected: [event("opened", AT, { messageId: "msg_42", campaign: "spring" })],
    },
    {
      name: "tags as the documented [{ name, value }] list",
      payload: {
        type: "email.opened",
        created_at: AT,
        data: {
          ...DATA,
          tags: [
            { name: "category", value: "x" },
            { name: "optout_message_id", value: "msg_43" },
          ],
        },
      },
      expected: [event("opened", AT, { messageId: "msg_43" })],
    },
  ])("$name", ({ payload, expected }) => {
    expect(parsed(payload)).toEqual(expected);
  });

  it("gives one event per recipient, each with its own id", () => {
    const payload = {
      type: "email.delivered",
      created_at: AT,
      data: { ...DATA, to: ["a@example.com", "Bee <b@example.com>"] },
    };
    expect(parsed(payload)).toEqual([
      event("delivered", AT, { address: "a@example.com" }),
      event("delivered", AT, { address: "b@example.com", providerEventId: `${DELIVERY_ID}:1` }),
    ]);
  });

  it("builds an event id from the payload when there is no svix-id header", () => {
    expect(parsed({ type: "email.sent", created_at: AT, data: DATA }, {})).toEqual([
      event("sent", AT, { providerEventId: `email.sent:${EMAIL_ID}:${AT}` }),
    ]);
  });

  it.each([
    { name: "not JSON", body: "type=email.sent", message: "resend webhook body is not valid JSON" },
    {
      name: "no type",
      body: JSON.stringify({ data: {} }),
      message: "resend webhook body is malformed: type",
    },
    {
      name: "an email event without email_id",
      body: JSON.stringify({ type: "email.sent", data: { to: ["a@b.co"] } }),
      message: "resend email.sent data is malformed: email_id",
    },
    {
      name: "a contact event without email",
      body: JSON.stringify({ type: "contact.updated", data: { unsubscribed: true } }),
      message: "resend contact.updated data is malformed: email",
    },
  ])("throws invalid_input: $name", ({ body, message }) => {
    expect(() => parseEvents({ provider: "resend", request: post(EVENTS_URL, body), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining(message) }),
    );
  });
});
