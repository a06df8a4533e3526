/**
 * `POST /events/{provider}/{accountId}` through the real route, D1, KV and writer: each provider
 * configured through the API, a signed delivery of each mapped event type, forged and stale
 * deliveries, redeliveries, Amazon SNS through a local stand-in, and `not_opened` from a
 * provider's own events.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  EMAIL_EVENT_TYPES,
  emailEvent,
  snsSubscriptionConfirmation,
} from "../../../scripts/event-payloads.mjs";
import {
  call,
  callJson,
  check,
  createAccount,
  expectError,
  expectStatus,
  storageSnapshot,
  type TestAccount,
} from "../../../test/helpers.ts";
import {
  CERT_URL,
  configureEventProvider,
  EMAIL_CREDENTIALS,
  forgedEventSecret,
  messageEvents,
  postEmailEvent,
  postSigned,
  postStatusCallback,
  providerOptOuts,
  serveSnsCertificate,
  signEvent,
  snsRequests,
  TOPIC,
} from "../../../test/provider-events.ts";
import { at, createRule, runCron, SECOND, T0 } from "../../../test/triggers.ts";

const EMAIL = ["sendgrid", "ses", "mailgun", "postmark", "resend"] as const;
const SENDER_NUMBER = "+14155550199";
let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${crypto.randomUUID().slice(0, 8)}`;
const nextEmail = () => `reader-${++n}@example.com`;
const nextNumber = () => `+1415555${String(3000 + ++n).padStart(4, "0")}`;

let account: TestAccount;
beforeAll(async () => {
  await serveSnsCertificate();
  account = await createAccount({ defaultRegion: "US" });
  for (const provider of [...EMAIL, "twilio", "telnyx", "vonage"])
    await configureEventProvider(account, provider);
});

/** One email event for this account, recent enough for the event window. */
function emailInput(type: string, over: Partial<Parameters<typeof emailEvent>[1]> = {}) {
  return {
    type,
    id: unique("ev"),
    providerMessageId: unique("pm"),
    to: nextEmail(),
    from: "news@acme.test",
    at: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000),
    ...over,
  };
}

describe("PUT /v1/providers/{provider}: email providers and events URLs", () => {
  it.each(EMAIL)(
    "%s answers an absolute eventsUrl and no webhookUrl, and never returns a secret",
    async (provider) => {
      const own = await createAccount();
      const body = await configureEventProvider(own, provider);
      expect(body).toMatchObject({ provider, eventsUrl: `https://edge.test/events/${provider}/${own.id}` });
      expect(body).not.toHaveProperty("webhookUrl");
      expect(JSON.stringify(body)).not.toMatch(/secret|whsec_|s3cret|mailgun-signing/i);
      const list = await expectStatus(
        await call("/v1/providers", { headers: { authorization: `Bearer ${own.apiKey}` } }),
        200,
      );
      expect(list.items).toEqual([expect.objectContaining({ provider, eventsUrl: body.eventsUrl })]);
    },
  );

  it("gives SMS providers an eventsUrl beside their webhookUrl, and generic none", async () => {
    const own = await createAccount();
    expect(await configureEventProvider(own, "twilio")).toMatchObject({
      webhookUrl: `https://edge.test/mo/twilio/${own.id}`,
      eventsUrl: `https://edge.test/events/twilio/${own.id}`,
    });
    const generic = await configureEventProvider(own, "generic");
    expect(generic).not.toHaveProperty("eventsUrl");
  });

  it.each([
    { name: "ses without topics", provider: "ses", body: {}, field: "options.topicArns" },
    {
      name: "a topic that is not an SNS ARN",
      provider: "ses",
      body: { options: { topicArns: ["arn:aws:sqs:us-east-1:123456789012:q"] } },
      field: "options.topicArns",
    },
    {
      name: "a SendGrid key that is not P-256",
      provider: "sendgrid",
      body: { secret: "bm90IGEga2V5" },
      field: "secret",
    },
    {
      name: "Postmark without user:password",
      provider: "postmark",
      body: { secret: "just-a-password" },
      field: "secret",
    },
    {
      name: "Resend without whsec_ base64",
      provider: "resend",
      body: { secret: "whsec_***" },
      field: "secret",
    },
    { name: "no secret for mailgun", provider: "mailgun", body: {}, field: "secret" },
  ])("refuses $name (400 naming $field), storing nothing", async ({ provider, body, field }) => {
    const own = await createAccount();
    const message = await expectError(
      await callJson("PUT", `/v1/providers/${provider}`, own.apiKey, body),
      400,
      "invalid_input",
    );
    expect(message).toContain(field);
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM provider_credentials WHERE account_id = ?")
        .bind(own.id)
        .first("n"),
    ).toBe(0);
  });
});

/** What each email event type lands as: a message event of this type, or an opt-out. */
const MAPPED: Record<string, string> = {
  sent: "sent",
  delivered: "delivered",
  opened: "opened",
  clicked: "clicked",
  bounced: "bounced",
  complained: "complained",
};

const cases = EMAIL.flatMap((provider) =>
  EMAIL_EVENT_TYPES.filter((type) => emailEvent(provider, emailInput(type)) !== null).map((type) => ({
    provider,
    type,
  })),
);

describe("a signed delivery of each mapped event type", () => {
  it.each(cases)("$provider $type", async ({ provider, type }) => {
    const input = emailInput(type, { messageId: unique("mine"), campaign: "spring" });
    const res = await postEmailEvent(account, provider, input);
    const body = await expectStatus(res, 200);
    if (type === "unsubscribed") {
      expect(body).toMatchObject({ received: 1, optedOut: 1, recorded: 0 });
      const [optOut] = await providerOptOuts(account.id, input.to);
      expect(optOut).toMatchObject({
        channel: "email",
        scopeKey: "account",
        action: "opt_out",
        source: "provider",
      });
      expect(optOut!.evidence).toMatchObject({ provider });
      expect(
        await check(account, { address: input.to, sender: "news@acme.test", channel: "email" }),
      ).toMatchObject({
        allowed: false,
        blockedBy: { source: "provider" },
      });
      // Email only: the same address is not blocked on sms.
      expect((await check(account, { address: input.to, sender: "ACME", channel: "sms" })).allowed).toBe(
        true,
      );
      return;
    }
    expect(body).toMatchObject({ received: 1, recorded: 1, optedOut: 0 });
    // The user's own message id and campaign (custom data) key the event.
    expect(await messageEvents(account.id, input.messageId!)).toEqual([
      expect.objectContaining({
        type: MAPPED[type],
        origin: "provider",
        address: input.to,
        channel: "email",
        campaign: "spring",
      }),
    ]);
    expect(
      (await check(account, { address: input.to, sender: "news@acme.test", channel: "email" })).allowed,
    ).toBe(true);
  });

  it("keys events by the provider's message id when the message carried none of ours", async () => {
    const input = emailInput("delivered");
    await expectStatus(await postEmailEvent(account, "sendgrid", input), 200);
    expect(await messageEvents(account.id, input.providerMessageId)).toEqual([
      expect.objectContaining({ type: "delivered" }),
    ]);
  });
});

describe("forged and stale deliveries", () => {
  const STALE = Math.floor(Date.now() / 1000) - 2 * 3600;
  it.each(
    EMAIL.flatMap((provider) => [
      { provider, kind: "forged" },
      ...(provider === "postmark" ? [] : [{ provider, kind: "stale" }]),
    ]),
  )("$provider $kind → 401, nothing written", async ({ provider, kind }) => {
    const input = emailInput("unsubscribed");
    const options = kind === "forged" ? { secret: await forgedEventSecret(provider) } : { timestamp: STALE };
    const before = await storageSnapshot();
    const res = await postEmailEvent(account, provider, input, options);
    await expectError(res, 401, "invalid_signature");
    expect(await storageSnapshot()).toEqual(before);
  });

  it.each([{ name: "a tampered body", tamper: (b: string) => b.replace("reader-", "victim-") }])(
    "refuses $name",
    async ({ tamper }) => {
      const signed = await signEvent(
        account,
        "sendgrid",
        emailEvent("sendgrid", emailInput("unsubscribed"))!,
      );
      await expectError(await postSigned({ ...signed, body: tamper(signed.body) }), 401, "invalid_signature");
    },
  );

  it("refuses a Mailgun token replayed with another body, and accepts its exact redelivery", async () => {
    const token = unique("token").padEnd(50, "x");
    // Signed once and posted twice: the redelivery is the same bytes. (Signing again could land in
    // the next second, and the signature's timestamp is part of the body.)
    const first = await signEvent(account, "mailgun", emailEvent("mailgun", emailInput("unsubscribed"))!, {
      token,
    });
    await expectStatus(await postSigned(first), 200);
    await expectStatus(await postSigned(first), 200);
    const other = emailInput("unsubscribed");
    await expectError(await postEmailEvent(account, "mailgun", other, { token }), 401, "invalid_signature");
    expect(await providerOptOuts(account.id, other.to)).toEqual([]);
  });

  it.each([
    { name: "an unknown provider", path: () => `/events/nobody/${account.id}` },
    { name: "an unknown account", path: () => "/events/sendgrid/acc_nobody" },
    { name: "a provider the account did not configure", path: () => `/events/plivo/${account.id}` },
    { name: "the generic format (no status callbacks)", path: () => `/events/generic/${account.id}` },
  ])("answers 404 for $name", async ({ path }) => {
    await expectError(await call(path(), { method: "POST", body: "[]" }), 404, "not_found");
  });
});

describe("redelivery", () => {
  it("applies an unsubscribe once, even after the address was opted back in", async () => {
    const input = emailInput("unsubscribed");
    const payload = emailEvent("sendgrid", input)!;
    const signed = await signEvent(account, "sendgrid", payload);
    await expectStatus(await postSigned(signed), 200);
    await expectStatus(
      await callJson("DELETE", "/v1/blocklist", account.apiKey, { address: input.to, channel: "email" }),
      200,
    );
    // SendGrid retries the same batch (re-signed): nothing happens again.
    const again = await expectStatus(await postSigned(await signEvent(account, "sendgrid", payload)), 200);
    expect(again).toMatchObject({ optedOut: 0 });
    expect(await providerOptOuts(account.id, input.to)).toHaveLength(1);
    expect(
      (await check(account, { address: input.to, sender: "news@acme.test", channel: "email" })).allowed,
    ).toBe(true);
  });

  it("records a message event once", async () => {
    const input = emailInput("opened", { messageId: unique("mine") });
    await expectStatus(await postEmailEvent(account, "resend", input, { id: "msg_same" }), 200);
    expect(
      await expectStatus(await postEmailEvent(account, "resend", input, { id: "msg_same" }), 200),
    ).toMatchObject({ recorded: 0 });
    expect(await messageEvents(account.id, input.messageId!)).toHaveLength(1);
  });
});

describe("SMS status callbacks", () => {
  it.each(["twilio", "telnyx", "vonage"])(
    "%s: a refusal because the recipient opted out blocks the sending number",
    async (provider) => {
      const address = nextNumber();
      const res = await postStatusCallback(account, provider, {
        id: unique("SM"),
        from: SENDER_NUMBER,
        to: address,
        status: "opted_out",
      });
      expect(await expectStatus(res, 200)).toMatchObject({ optedOut: 1 });
      const [optOut] = await providerOptOuts(account.id, address);
      expect(optOut).toMatchObject({
        channel: "sms",
        scopeKey: `sender:${SENDER_NUMBER}`,
        source: "provider",
      });
      expect(optOut!.evidence.reason).toMatch(new RegExp(`^${provider} `));
      expect(await check(account, { address, sender: SENDER_NUMBER, channel: "sms" })).toMatchObject({
        allowed: false,
        blockedBy: { source: "provider" },
      });
      // Another of the account's senders still reaches the recipient.
      expect((await check(account, { address, sender: "+14155550188", channel: "sms" })).allowed).toBe(true);
    },
  );

  it.each(["twilio", "telnyx", "vonage"])("%s: delivered becomes a message event", async (provider) => {
    const id = unique("SM");
    await expectStatus(
      await postStatusCallback(account, provider, {
        id,
        from: SENDER_NUMBER,
        to: nextNumber(),
        status: "delivered",
      }),
      200,
    );
    expect(await messageEvents(account.id, id)).toEqual([
      expect.objectContaining({ type: "delivered", channel: "sms", origin: "provider" }),
    ]);
  });

  it("a Twilio 21610 callback redelivered blocks once", async () => {
    const address = nextNumber();
    const callback = { id: unique("SM"), from: SENDER_NUMBER, to: address, status: "opted_out" as const };
    await expectStatus(await postStatusCallback(account, "twilio", callback), 200);
    await expectStatus(await postStatusCallback(account, "twilio", callback), 200);
    expect(await providerOptOuts(account.id, address)).toHaveLength(1);
  });

  it("a forged Twilio callback is 401", async () => {
    const res = await postStatusCallback(
      account,
      "twilio",
      { id: unique("SM"), from: SENDER_NUMBER, to: nextNumber(), status: "opted_out" },
      { secret: "not-the-real-secret-0000" },
    );
    await expectError(res, 401, "invalid_signature");
  });
});

describe("Amazon SES through SNS (a local stand-in for Amazon)", () => {
  it("fetches the signing certificate from the SNS URL only, once", async () => {
    const before = (await snsRequests()).filter((r) => r.endsWith(".pem")).length;
    for (let i = 0; i < 2; i++)
      await expectStatus(await postEmailEvent(account, "ses", emailInput("delivered")), 200);
    const fetched = (await snsRequests()).filter((r) => r.endsWith(".pem"));
    // The first delivery of this file already fetched it; isolate and KV caches serve the rest.
    expect(fetched.length - before).toBe(0);
    expect(fetched).toContain(`/sns.us-east-1.amazonaws.com${new URL(CERT_URL).pathname}`);
    expect(fetched.length).toBe(1);
  });

  it.each([
    "https://evil.example.com/cert.pem",
    "http://sns.us-east-1.amazonaws.com/cert.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
    "https://sns.us-east-1.amazonaws.com/cert.pem?x=1",
  ])("refuses SigningCertURL %s without fetching it", async (certUrl) => {
    const before = await snsRequests();
    const payload = emailEvent("ses", emailInput("unsubscribed"))!;
    const signed = await signEvent(account, "ses", payload);
    const body = { ...JSON.parse(signed.body), SigningCertURL: certUrl };
    await expectError(await postSigned({ ...signed, body: JSON.stringify(body) }), 401, "invalid_signature");
    expect(await snsRequests()).toEqual(before);
  });

  it("refuses a message from a topic the account did not configure", async () => {
    const payload = emailEvent("ses", emailInput("unsubscribed"))!;
    const secret = {
      ...(EMAIL_CREDENTIALS.ses!.signingSecret as object),
      topicArn: "arn:aws:sns:us-east-1:123456789012:someone-else",
    };
    await expectError(
      await postSigned(await signEvent(account, "ses", payload, { secret })),
      401,
      "invalid_signature",
    );
  });

  it("confirms a subscription to a configured topic, and only to one", async () => {
    const ours = snsSubscriptionConfirmation(TOPIC);
    await expectStatus(
      await postSigned(
        await signEvent(account, "ses", { body: JSON.stringify(ours), contentType: "text/plain" }),
      ),
      200,
    );
    const requests = await snsRequests();
    expect(
      requests.filter(
        (r) =>
          r.includes("Action=ConfirmSubscription") &&
          r.includes(encodeURIComponent(ours.Token!).slice(0, 20)),
      ),
    ).toHaveLength(1);
    expect(requests.at(-1)).toMatch(
      /^\/sns\.us-east-1\.amazonaws\.com\/\?Action=ConfirmSubscription&TopicArn=/,
    );

    const theirs = snsSubscriptionConfirmation("arn:aws:sns:us-east-1:123456789012:someone-else");
    const before = await snsRequests();
    await expectError(
      await postSigned(
        await signEvent(account, "ses", { body: JSON.stringify(theirs), contentType: "text/plain" }),
      ),
      401,
      "invalid_signature",
    );
    expect(await snsRequests()).toEqual(before);
  });
});

describe("not_opened from a provider's own events alone", () => {
  it("processed starts the clock, open cancels it, the unopened one is blocked", async () => {
    const own = await createAccount();
    await configureEventProvider(own, "sendgrid");
    await createRule(own, {
      name: "ghosted",
      on: { type: "not_opened", withinSeconds: 60, after: "sent" },
      channel: "email",
    });
    const [opened, ignored] = [nextEmail(), nextEmail()];
    const sent = (to: string) => emailInput("sent", { to, messageId: `nl-${to}`, at: new Date(T0) });
    for (const to of [opened, ignored])
      await expectStatus(await postEmailEvent(own, "sendgrid", sent(to)), 200);
    await expectStatus(
      await postEmailEvent(
        own,
        "sendgrid",
        emailInput("opened", { to: opened, messageId: `nl-${opened}`, at: new Date(T0 + 30 * SECOND) }),
      ),
      200,
    );
    await runCron(T0 + 60 * SECOND);
    expect(await check(own, { address: ignored, sender: "news@acme.test", channel: "email" })).toMatchObject({
      allowed: false,
      blockedBy: { source: "trigger" },
    });
    expect((await check(own, { address: opened, sender: "news@acme.test", channel: "email" })).allowed).toBe(
      true,
    );
    expect(at(0)).toBe(new Date(T0).toISOString());
  });
});
