import { describe, expect, it } from "vitest";
import { parseEvents, verifyEventWebhook } from "../../src/index.ts";
import { EVENTS_URL, ecKeyPair, NOW, post, sendgridSignature, tamper, withHeaders } from "./support.ts";

const SIGNATURE = "x-twilio-email-event-webhook-signature";
const TIMESTAMP = "x-twilio-email-event-webhook-timestamp";

function signed(body: string, timestamp: string, signature: string) {
  return post(EVENTS_URL, body, {
    [SIGNATURE]: signature,
    [TIMESTAMP]: timestamp,
    "content-type": "application/json",
  });
}

/**
 * SendGrid's own vectors, from sendgrid/sendgrid-nodejs `packages/eventwebhook/src/eventwebhook.spec.js`:
 * bodies rebuilt exactly as the spec builds them (JSON.stringify, then CRLFs).
 */
const SDK = {
  publicKey:
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
  signature:
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=",
  timestamp: "1600112502",
  payload: `${JSON.stringify([
    {
      email: "hello@world.com",
      event: "dropped",
      reason: "Bounced Address",
      sg_event_id: "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
      sg_message_id: "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
      "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
      timestamp: 1600112492,
    },
  ])}\r\n`,
  multipleKey:
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==",
  multipleSignature:
    "MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5",
  multipleTimestamp: "1619651159",
  multiplePayload: `${JSON.stringify([
    {
      email: "invalid@gmail.com",
      event: "processed",
      send_at: 0,
      sg_event_id: "cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA",
      sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
      "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
      timestamp: 1619651146,
    },
    {
      email: "invalid@gmail.com",
      event: "bounce",
      ip: "167.89.101.76",
      reason:
        "552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp",
      sg_event_id: "Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w",
      sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
      "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
      status: "5.2.2",
      timestamp: 1619651147,
      tls: 1,
      type: "blocked",
    },
  ])
    .split("},{")
    .join("},\r\n{")}\r\n`,
  otherKey:
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==",
  badSignature:
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=",
};

describe("sendgrid verifyEventWebhook: SendGrid's SDK vectors", () => {
  it.each([
    {
      name: "single event",
      key: SDK.publicKey,
      body: SDK.payload,
      signature: SDK.signature,
      timestamp: SDK.timestamp,
      reason: null,
    },
    {
      name: "several events, CRLF-separated",
      key: SDK.multipleKey,
      body: SDK.multiplePayload,
      signature: SDK.multipleSignature,
      timestamp: SDK.multipleTimestamp,
      reason: null,
    },
    {
      name: "another account's key",
      key: SDK.otherKey,
      body: SDK.payload,
      signature: SDK.signature,
      timestamp: SDK.timestamp,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
    {
      name: "another payload",
      key: SDK.publicKey,
      body: "payload",
      signature: SDK.signature,
      timestamp: SDK.timestamp,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
    {
      name: "another signature",
      key: SDK.publicKey,
      body: SDK.payload,
      signature: SDK.badSignature,
      timestamp: SDK.timestamp,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
    {
      name: "the payload without its trailing CRLF",
      key: SDK.publicKey,
      body: SDK.payload.trimEnd(),
      signature: SDK.signature,
      timestamp: SDK.timestamp,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
  ])("$name", async ({ key, body, signature, timestamp, reason }) => {
    const r = await verifyEventWebhook({
      provider: "sendgrid",
      request: signed(body, timestamp, signature),
      secret: key,
      now: Number(timestamp),
    });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });

  it("refuses the SDK's non-numeric timestamp before checking anything else", async () => {
    const r = await verifyEventWebhook({
      provider: "sendgrid",
      request: signed(SDK.payload, "timestamp", SDK.signature),
      secret: SDK.publicKey,
      now: Number(SDK.timestamp),
    });
    expect(r).toEqual({
      ok: false,
      reason: "X-Twilio-Email-Event-Webhook-Timestamp header is not a unix timestamp",
    });
  });
});

describe("sendgrid verifyEventWebhook: our own key pair", () => {
  const keys = ecKeyPair();
  const other = ecKeyPair();
  const body = `[{"email":"a@example.com","event":"open","sg_event_id":"e1","sg_message_id":"m1","timestamp":${NOW}}]\r\n`;
  const ts = String(NOW);

  it.each([
    {
      name: "valid, key as base64 SPKI",
      secret: keys.spki,
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW,
      reason: null,
    },
    {
      name: "valid, key as PEM",
      secret: keys.pem,
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW,
      reason: null,
    },
    {
      name: "valid, 300 s later",
      secret: keys.spki,
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW + 300,
      reason: null,
    },
    {
      name: "forged with another key",
      secret: keys.spki,
      request: signed(body, ts, sendgridSignature(other.privateKey, ts, body)),
      now: NOW,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
    {
      name: "body changed",
      secret: keys.spki,
      request: signed(tamper(body), ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
    {
      name: "timestamp moved",
      secret: keys.spki,
      request: signed(body, String(NOW + 1), sendgridSignature(keys.privateKey, ts, body)),
      now: NOW,
      reason: "X-Twilio-Email-Event-Webhook-Signature does not match",
    },
    {
      name: "stale (replayed after 301 s)",
      secret: keys.spki,
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW + 301,
      reason: "X-Twilio-Email-Event-Webhook-Timestamp header is outside the 300 s window",
    },
    {
      name: "from the future",
      secret: keys.spki,
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW - 301,
      reason: "X-Twilio-Email-Event-Webhook-Timestamp header is outside the 300 s window",
    },
    {
      name: "no signature header",
      secret: keys.spki,
      request: post(EVENTS_URL, body, { [TIMESTAMP]: ts }),
      now: NOW,
      reason: "missing X-Twilio-Email-Event-Webhook-Signature header",
    },
    {
      name: "no timestamp header",
      secret: keys.spki,
      request: post(EVENTS_URL, body, { [SIGNATURE]: sendgridSignature(keys.privateKey, ts, body) }),
      now: NOW,
      reason: "missing X-Twilio-Email-Event-Webhook-Timestamp header",
    },
    {
      name: "signature that is not DER",
      secret: keys.spki,
      request: signed(body, ts, Buffer.alloc(64, 1).toString("base64")),
      now: NOW,
      reason: "X-Twilio-Email-Event-Webhook-Signature is not a base64 DER ECDSA signature",
    },
    {
      name: "key that is not base64",
      secret: "not a key!",
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW,
      reason: "configured SendGrid verification key is not base64 or PEM",
    },
    {
      name: "key that is not P-256",
      secret: Buffer.from("not a key").toString("base64"),
      request: signed(body, ts, sendgridSignature(keys.privateKey, ts, body)),
      now: NOW,
      reason: "configured SendGrid verification key is not a P-256 public key",
    },
  ])("$name", async ({ secret, request, now, reason }) => {
    const r = await verifyEventWebhook({ provider: "sendgrid", request, secret, now });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });

  it("accepts DER signatures whose r or s carries a leading zero byte, and ones that do not", async () => {
    // Sign until both encodings have been seen: ~half of all signatures have a high bit in r or s,
    // ~1/128 a short one; the loop keeps the test deterministic in what it proves.
    let seenPadded = false;
    for (let i = 0; i < 200 && !seenPadded; i++) {
      const t = String(NOW + i);
      const sig = sendgridSignature(keys.privateKey, t, body);
      const der = Buffer.from(sig, "base64");
      seenPadded = der[3] === 33 || der[5 + der[3]!] === 33;
      const r = await verifyEventWebhook({
        provider: "sendgrid",
        request: signed(body, t, sig),
        secret: keys.spki,
        now: NOW + i,
      });
      expect(r).toEqual({ ok: true });
    }
    expect(seenPadded).toBe(true);
  });
});

// The examples of SendGrid's "Event Webhook Reference" (sendgrid/docs
// content/docs/for-developers/tracking-events/event.md), one per event type.
const MESSAGE = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0";
const DOC_EVENT = {
  email: "example@test.com",
  timestamp: 1513299569,
  "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
  category: "cat facts",
  sg_message_id: MESSAGE,
};
const AT = "2017-12-15T00:59:29.000Z";

function one(event: Record<string, unknown>) {
  return parseEvents({ provider: "sendgrid", request: post(EVENTS_URL, JSON.stringify([event])), now: NOW });
}

const messageEvent = (type: string, providerEventId: string, extra: Record<string, unknown> = {}) => [
  {
    kind: "message_event",
    event: {
      type,
      messageId: MESSAGE,
      address: "example@test.com",
      sender: null,
      channel: "email",
      occurredAt: AT,
      campaign: null,
      providerEventId,
      ...extra,
    },
  },
];

describe("sendgrid parseEvents: each documented event type", () => {
  it.each([
    {
      name: "processed → sent",
      event: {
        ...DOC_EVENT,
        pool: { name: "new_MY_test", id: 210 },
        event: "processed",
        sg_event_id: "rbtnWrG1DVDGGGFHFyun0A==",
      },
      expected: messageEvent("sent", "rbtnWrG1DVDGGGFHFyun0A=="),
    },
    {
      name: "delivered → delivered",
      event: {
        ...DOC_EVENT,
        event: "delivered",
        sg_event_id: "rWVYmVk90MjZJ9iohOBa3w==",
        response: "250 OK",
      },
      expected: messageEvent("delivered", "rWVYmVk90MjZJ9iohOBa3w=="),
    },
    {
      name: "open → opened",
      event: {
        ...DOC_EVENT,
        event: "open",
        sg_event_id: "FOTFFO0ecsBE-zxFXfs6WA==",
        useragent: "Mozilla/4.0",
        ip: "255.255.255.255",
      },
      expected: messageEvent("opened", "FOTFFO0ecsBE-zxFXfs6WA=="),
    },
    {
      name: "machine open (Apple Mail Privacy Protection) → nothing",
      event: { ...DOC_EVENT, event: "open", sg_event_id: "m", sg_machine_open: true },
      expected: [],
    },
    {
      name: "click → clicked",
      event: {
        ...DOC_EVENT,
        event: "click",
        sg_event_id: "kCAi1KttyQdEKHhdC-nuEA==",
        url: "http://www.sendgrid.com/",
      },
      expected: messageEvent("clicked", "kCAi1KttyQdEKHhdC-nuEA=="),
    },
    {
      name: "bounce (type bounce: permanent) → bounced",
      event: {
        ...DOC_EVENT,
        event: "bounce",
        sg_event_id: "6g4ZI7SA-xmRDv57GoPIPw==",
        reason: "500 unknown recipient",
        status: "5.0.0",
        type: "bounce",
      },
      expected: messageEvent("bounced", "6g4ZI7SA-xmRDv57GoPIPw=="),
    },
    {
      name: "bounce without a type (older payloads) → bounced",
      event: {
        ...DOC_EVENT,
        event: "bounce",
        sg_event_id: "b2",
        reason: "500 unknown recipient",
        status: "5.0.0",
      },
      expected: messageEvent("bounced", "b2"),
    },
    {
      name: "blocked (temporary) → nothing",
      event: {
        ...DOC_EVENT,
        event: "bounce",
        sg_event_id: "6g4ZI7SA",
        reason: "500 unknown recipient",
        status: "5.0.0",
        type: "blocked",
      },
      expected: [],
    },
    {
      name: "asynchronous bounce without sg_message_id → nothing to tie it to",
      event: {
        email: "example@test.com",
        timestamp: 1513299569,
        event: "bounce",
        sg_event_id: "b3",
        type: "bounce",
      },
      expected: [],
    },
    {
      name: "deferred → nothing",
      event: {
        ...DOC_EVENT,
        event: "deferred",
        sg_event_id: "t7LEShmowp86DTdUW8M-GQ==",
        response: "400 try again later",
        attempt: "5",
      },
      expected: [],
    },
    {
      name: "dropped → nothing",
      event: {
        ...DOC_EVENT,
        event: "dropped",
        sg_event_id: "zmzJhfJgAfUSOW80yEbPyw==",
        reason: "Bounced Address",
        status: "5.0.0",
      },
      expected: [],
    },
    {
      name: "spamreport → complained",
      event: { ...DOC_EVENT, event: "spamreport", sg_event_id: "37nvH5QBz858KGVYCM4uOA==" },
      expected: messageEvent("complained", "37nvH5QBz858KGVYCM4uOA=="),
    },
    {
      name: "unsubscribe → opt-out",
      event: { ...DOC_EVENT, event: "unsubscribe", sg_event_id: "zz_BjPgU_5pS-J8vlfB1sg==" },
      expected: [
        {
          kind: "opt_out",
          address: "example@test.com",
          channel: "email",
          occurredAt: AT,
          providerEventId: "zz_BjPgU_5pS-J8vlfB1sg==",
          reason: "sendgrid unsubscribe",
          messageId: MESSAGE,
        },
      ],
    },
    {
      name: "group_unsubscribe → opt-out naming the group",
      event: {
        ...DOC_EVENT,
        event: "group_unsubscribe",
        sg_event_id: "ahSCB7xYcXFb-hEaawsPRw==",
        url: "http://www.sendgrid.com/",
        asm_group_id: 10,
      },
      expected: [
        {
          kind: "opt_out",
          address: "example@test.com",
          channel: "email",
          occurredAt: AT,
          providerEventId: "ahSCB7xYcXFb-hEaawsPRw==",
          reason: "sendgrid group unsubscribe (group 10)",
          messageId: MESSAGE,
        },
      ],
    },
    {
      name: "group_resubscribe → nothing (consent is never read from a provider)",
      event: {
        ...DOC_EVENT,
        event: "group_resubscribe",
        sg_event_id: "w_u0vJhLT-OFfprar5N93g==",
        asm_group_id: 10,
      },
      expected: [],
    },
    {
      name: "an event type SendGrid adds later → nothing",
      event: { ...DOC_EVENT, event: "account_status_change", sg_event_id: "x" },
      expected: [],
    },
  ])("$name", ({ event, expected }) => {
    expect(one(event)).toEqual(expected);
  });
});

describe("sendgrid parseEvents: ids, batches, malformed bodies", () => {
  it.each([
    {
      name: "custom arguments optout_message_id and optout_campaign win over sg_message_id",
      event: {
        ...DOC_EVENT,
        event: "open",
        sg_event_id: "o1",
        optout_message_id: "msg_42",
        optout_campaign: "spring",
      },
      expected: messageEvent("opened", "o1", { messageId: "msg_42", campaign: "spring" }),
    },
    {
      name: "legacy unique_args are read too",
      event: { ...DOC_EVENT, event: "open", sg_event_id: "o2", unique_args: { optout_message_id: "msg_43" } },
      expected: messageEvent("opened", "o2", { messageId: "msg_43" }),
    },
    {
      name: "a blank optout_message_id falls back to sg_message_id",
      event: { ...DOC_EVENT, event: "open", sg_event_id: "o3", optout_message_id: "  " },
      expected: messageEvent("opened", "o3"),
    },
    {
      name: "NUL and lone surrogates are cleaned from every string",
      event: {
        ...DOC_EVENT,
        email: "exa\u0000mple@test.com",
        event: "open",
        sg_event_id: "o4\uD800",
        optout_message_id: "m\u0000sg",
      },
      expected: messageEvent("opened", "o4", { messageId: "msg" }),
    },
    {
      name: "an address that is blank once cleaned names no one: dropped, the batch still read",
      event: { ...DOC_EVENT, email: "\u0000 ", event: "open", sg_event_id: "o5" },
      expected: [],
    },
  ])("$name", ({ event, expected }) => {
    expect(one(event)).toEqual(expected);
  });

  it("reads the SDK's batch: processed then a blocked bounce gives one event", () => {
    expect(
      parseEvents({ provider: "sendgrid", request: post(EVENTS_URL, SDK.multiplePayload), now: NOW }),
    ).toEqual([
      {
        kind: "message_event",
        event: {
          type: "sent",
          messageId: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
          address: "invalid@gmail.com",
          sender: null,
          channel: "email",
          occurredAt: "2021-04-28T23:05:46.000Z",
          campaign: null,
          providerEventId: "cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA",
        },
      },
    ]);
  });

  it("reads every event of a batch in order", () => {
    const batch = ["processed", "delivered", "open", "click"].map((event, i) => ({
      ...DOC_EVENT,
      event,
      sg_event_id: `e${i}`,
    }));
    const events = parseEvents({
      provider: "sendgrid",
      request: post(EVENTS_URL, JSON.stringify(batch)),
      now: NOW,
    });
    expect(events.map((e) => (e.kind === "message_event" ? e.event.type : e.kind))).toEqual([
      "sent",
      "delivered",
      "opened",
      "clicked",
    ]);
  });

  it.each([
    { name: "empty body", body: "", message: "sendgrid webhook body is empty" },
    { name: "not JSON", body: "[{", message: "sendgrid webhook body is not valid JSON" },
    {
      name: "an event that is not an object",
      body: '[{"event":"open","email":"a@b.c"}, 7]',
      message: "sendgrid event 1 is malformed",
    },
    {
      name: "an open without email",
      body: '[{"event":"open","sg_message_id":"m"}]',
      message: "sendgrid open event 0 is malformed: email",
    },
  ])("throws invalid_input: $name", ({ body, message }) => {
    expect(() =>
      parseEvents({ provider: "sendgrid", request: post(EVENTS_URL, body), now: NOW }),
    ).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining(message) }),
    );
  });
});

describe("sendgrid: verified bytes are parsed bytes", () => {
  it("a signed delivery parses into what it says", async () => {
    const keys = ecKeyPair();
    const body = JSON.stringify([{ ...DOC_EVENT, event: "processed", sg_event_id: "p1" }]);
    const request = signed(body, String(NOW), sendgridSignature(keys.privateKey, String(NOW), body));
    expect(await verifyEventWebhook({ provider: "sendgrid", request, secret: keys.spki, now: NOW })).toEqual({
      ok: true,
    });
    expect(parseEvents({ provider: "sendgrid", request: withHeaders(request, {}), now: NOW })).toEqual(
      messageEvent("sent", "p1"),
    );
  });
});
