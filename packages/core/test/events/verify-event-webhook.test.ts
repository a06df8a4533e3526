import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalInstant,
  DomainError,
  EventProvider,
  ProviderEvent,
  parseEvents,
  verifyEventWebhook,
} from "../../src/index.ts";
import {
  certificate,
  EVENTS_URL,
  ecKeyPair,
  iso,
  NOW,
  post,
  rsaKeyPair,
  sendgridSignature,
  snsSigned,
  svixSignature,
} from "./support.ts";

describe("verifyEventWebhook, every provider", () => {
  it("refuses an unknown provider, a missing secret and a request without a body", async () => {
    expect(
      await verifyEventWebhook({ provider: "twilio", request: post(EVENTS_URL, ""), secret: "s" }),
    ).toEqual({
      ok: false,
      reason: 'unknown provider "twilio"',
    });
    for (const provider of ["sendgrid", "mailgun", "postmark", "resend"]) {
      expect(await verifyEventWebhook({ provider, request: post(EVENTS_URL, "{}"), secret: "" })).toEqual({
        ok: false,
        reason: `no ${provider} secret is configured`,
      });
    }
    const noBody = { method: "POST", url: EVENTS_URL, headers: {} } as unknown as Parameters<
      typeof verifyEventWebhook
    >[0]["request"];
    expect(await verifyEventWebhook({ provider: "mailgun", request: noBody, secret: "k" })).toEqual({
      ok: false,
      reason: "request must have a url and a raw string body",
    });
  });

  it("takes now from the top level over options.now", async () => {
    const keys = ecKeyPair();
    const body = "[]";
    const request = post(EVENTS_URL, body, {
      "x-twilio-email-event-webhook-signature": sendgridSignature(keys.privateKey, String(NOW), body),
      "x-twilio-email-event-webhook-timestamp": String(NOW),
    });
    expect(
      await verifyEventWebhook({
        provider: "sendgrid",
        request,
        secret: keys.spki,
        options: { now: NOW + 9999 },
        now: NOW,
      }),
    ).toEqual({ ok: true });
    expect(
      (
        await verifyEventWebhook({
          provider: "sendgrid",
          request,
          secret: keys.spki,
          options: { now: NOW + 9999 },
        })
      ).ok,
    ).toBe(false);
  });

  it("never throws and never accepts arbitrary requests, and its reasons never echo the secret (property)", async () => {
    const rsa = rsaKeyPair();
    const cert = certificate({
      publicKey: rsa.publicKey,
      signingKey: rsa.privateKey,
      notBefore: new Date((NOW - 86_400) * 1000),
      notAfter: new Date((NOW + 86_400) * 1000),
    });
    const headerName = fc.constantFrom(
      "x-twilio-email-event-webhook-signature",
      "x-twilio-email-event-webhook-timestamp",
      "svix-id",
      "svix-timestamp",
      "svix-signature",
      "authorization",
      "x-amz-sns-message-type",
      "content-type",
    );
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ""),
      fc
        .record({
          signature: fc.record({
            timestamp: fc.constant(String(NOW)),
            token: fc.string(),
            signature: fc.string(),
          }),
        })
        .map((v) => JSON.stringify(v)),
      fc
        .record({
          Type: fc.constantFrom("Notification", "SubscriptionConfirmation"),
          MessageId: fc.string({ minLength: 1 }),
          TopicArn: fc.constant("arn:aws:sns:us-east-1:1:t"),
          Message: fc.string(),
          Timestamp: fc.constant(iso(NOW)),
          SignatureVersion: fc.constantFrom("1", "2"),
          Signature: fc.base64String({ minLength: 4 }),
          SigningCertURL: fc.constant("https://sns.us-east-1.amazonaws.com/c.pem"),
        })
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...EventProvider.options),
        fc.dictionary(headerName, fc.string({ maxLength: 80 })),
        body,
        fc.string({ minLength: 8, maxLength: 40 }).map((s) => `sekrit-${s}`),
        async (provider, headers, body, secret) => {
          const r = await verifyEventWebhook({
            provider,
            request: { method: "POST", url: EVENTS_URL, headers, body },
            secret,
            options: { certificate: cert, topicArns: ["arn:aws:sns:us-east-1:1:t"] },
            now: NOW,
          });
          expect(r.ok).toBe(false);
          if (!r.ok) {
            expect(r.reason.length).toBeGreaterThan(0);
            expect(r.reason).not.toContain(secret);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("any change to what a provider signs breaks its signature (property)", () => {
  const change = (text: string) =>
    fc
      .tuple(fc.nat({ max: text.length }), fc.nat({ max: 3 }), fc.string({ minLength: 0, maxLength: 3 }))
      .map(([at, cut, insert]) => text.slice(0, at) + insert + text.slice(Math.min(text.length, at + cut)))
      .filter((changed) => changed !== text);

  it("sendgrid: the raw body", async () => {
    const keys = ecKeyPair();
    const body = JSON.stringify([
      { email: "a@example.com", event: "open", sg_event_id: "e", sg_message_id: "m", timestamp: NOW },
    ]);
    const signature = sendgridSignature(keys.privateKey, String(NOW), body);
    await fc.assert(
      fc.asyncProperty(change(body), async (changed) => {
        const request = post(EVENTS_URL, changed, {
          "x-twilio-email-event-webhook-signature": signature,
          "x-twilio-email-event-webhook-timestamp": String(NOW),
        });
        expect(
          (await verifyEventWebhook({ provider: "sendgrid", request, secret: keys.spki, now: NOW })).ok,
        ).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it("resend: the raw body", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const body = JSON.stringify({
      type: "email.opened",
      created_at: iso(NOW),
      data: { email_id: "e", to: ["a@example.com"] },
    });
    const signature = `v1,${svixSignature(secret, "msg_1", String(NOW), body)}`;
    await fc.assert(
      fc.asyncProperty(change(body), async (changed) => {
        const request = post(EVENTS_URL, changed, {
          "svix-id": "msg_1",
          "svix-timestamp": String(NOW),
          "svix-signature": signature,
        });
        expect((await verifyEventWebhook({ provider: "resend", request, secret, now: NOW })).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("ses: every signed SNS field", async () => {
    const keys = rsaKeyPair();
    const cert = certificate({
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      notBefore: new Date((NOW - 86_400) * 1000),
      notAfter: new Date((NOW + 86_400) * 1000),
    });
    const topic = "arn:aws:sns:us-east-1:123456789012:ses-events";
    const fields = {
      Type: "Notification",
      MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
      TopicArn: topic,
      Subject: "Amazon SES Email Event Notification",
      Message: JSON.stringify({
        eventType: "Open",
        mail: { messageId: "m", destination: ["a@example.com"] },
        open: { timestamp: iso(NOW) },
      }),
      Timestamp: iso(NOW),
    };
    const signed = snsSigned(fields, keys.privateKey);
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...(Object.keys(fields) as (keyof typeof fields)[]))
          .chain((key) => change(fields[key]).map((value) => ({ key, value }))),
        async ({ key, value }) => {
          const request = post(EVENTS_URL, JSON.stringify({ ...signed, [key]: value }));
          const r = await verifyEventWebhook({
            provider: "ses",
            request,
            options: { certificate: cert, topicArns: [topic] },
            now: NOW,
          });
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("parseEvents, every provider", () => {
  it("refuses an unknown provider", () => {
    expect(() => parseEvents({ provider: "nope", request: post(EVENTS_URL, "{}") })).toThrow(DomainError);
  });

  it("throws only DomainError on arbitrary bodies, and what it returns is well-formed (property)", () => {
    const shaped = (provider: string, value: unknown): unknown => {
      switch (provider) {
        case "sendgrid":
          return [value];
        case "mailgun":
          return { signature: {}, "event-data": value };
        case "ses":
          return {
            Type: "Notification",
            MessageId: "m",
            TopicArn: "t",
            Message: JSON.stringify(value),
            Timestamp: "t",
            SignatureVersion: "2",
            Signature: "s",
            SigningCertURL: "u",
          };
        case "resend":
          return { type: "email.opened", data: value };
        default:
          return value;
      }
    };
    const event = fc.record(
      {
        event: fc.constantFrom(
          "processed",
          "delivered",
          "open",
          "click",
          "bounce",
          "spamreport",
          "unsubscribe",
          "accepted",
          "failed",
          "unsubscribed",
        ),
        eventType: fc.constantFrom("Send", "Delivery", "Open", "Bounce", "Complaint", "Subscription"),
        RecordType: fc.constantFrom("Delivery", "Bounce", "Open", "SubscriptionChange"),
        email: fc.string(),
        email_id: fc.string(),
        to: fc.array(fc.string(), { maxLength: 3 }),
        recipient: fc.string(),
        Recipient: fc.string(),
        id: fc.string(),
        timestamp: fc.oneof(fc.integer(), fc.string(), fc.double()),
        sg_message_id: fc.string(),
        mail: fc.record(
          { messageId: fc.string(), destination: fc.array(fc.string(), { maxLength: 3 }) },
          { requiredKeys: [] },
        ),
        bounce: fc.record({
          bounceType: fc.constantFrom("Permanent", "Transient"),
          bouncedRecipients: fc.array(fc.record({ emailAddress: fc.string() }), { maxLength: 2 }),
        }),
        message: fc.record({ headers: fc.record({ "message-id": fc.string() }) }),
        severity: fc.constantFrom("permanent", "temporary"),
        optout_message_id: fc.string(),
        "user-variables": fc.jsonValue({ maxDepth: 2 }),
        tags: fc.jsonValue({ maxDepth: 2 }),
        Metadata: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...EventProvider.options),
        fc.oneof(fc.string({ maxLength: 200 }), event, fc.jsonValue({ maxDepth: 3 })),
        (provider, value) => {
          const body = typeof value === "string" ? value : JSON.stringify(shaped(provider, value));
          try {
            const events = parseEvents({
              provider,
              request: post(EVENTS_URL, body, { "svix-id": "msg_1" }),
              now: NOW,
            });
            for (const e of ProviderEvent.array().parse(events)) {
              const at = e.kind === "message_event" ? e.event.occurredAt : e.occurredAt;
              expect(canonicalInstant(at)).toBe(at);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
            expect((e as DomainError).code).toBe("invalid_input");
            expect((e as DomainError).message.startsWith(`${provider} `)).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
