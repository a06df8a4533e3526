import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  parseEvents,
  SnsMessage,
  snsCertificateUrl,
  snsStringToSign,
  snsSubscribeUrl,
  verifyEventWebhook,
} from "../../src/index.ts";
import { certificate, EVENTS_URL, iso, NOW, post, rsaKeyPair, snsCanonical, snsSigned } from "./support.ts";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events";
const DAY = 86_400_000;
const keys = rsaKeyPair();
const other = rsaKeyPair();
const CERT = certificate({
  publicKey: keys.publicKey,
  signingKey: keys.privateKey,
  notBefore: new Date(NOW * 1000 - DAY),
  notAfter: new Date(NOW * 1000 + 365 * DAY),
});
const OPTIONS = { certificate: CERT, topicArns: [TOPIC] };

function notification(message: unknown, extra: Record<string, string | undefined> = {}) {
  return {
    Type: "Notification",
    MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    TopicArn: TOPIC,
    Message: typeof message === "string" ? message : JSON.stringify(message),
    Timestamp: iso(NOW),
    ...extra,
  };
}

const TOKEN =
  "2336412f37fb687f5d51e6e2425dacbba6354994a2bc07deffa4466da390cf4fb2768da190a7d98be6a202eb7222099c84c536a5d1a3f25aaf7cbe6d5deaf68fedf8a9ae82ada3931497120f5c6368935c918188e4c0fd47108b15ef24125c8833cc3f4f8c8a6f87cc11efef89388d251d665f2083e39abc1bb0690facf38d66";
const SUBSCRIBE_URL = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${TOKEN}`;

// The SubscriptionConfirmation of AWS's "Parsing message formats" page, on our topic.
function confirmation(type = "SubscriptionConfirmation", extra: Record<string, string | undefined> = {}) {
  return {
    Type: type,
    MessageId: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
    Token: TOKEN,
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: SUBSCRIBE_URL,
    Timestamp: iso(NOW),
    ...extra,
  };
}

const SEND = {
  eventType: "Send",
  mail: {
    timestamp: "2016-10-14T05:02:16.645Z",
    source: "sender@example.com",
    sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
    sendingAccountId: "123456789012",
    messageId: "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
    destination: ["recipient@example.com"],
    headersTruncated: false,
    tags: { "ses:configuration-set": ["ConfigSet"], myCustomTag1: ["myCustomTagValue1"] },
  },
  send: {},
};

function request(fields: Record<string, string | undefined>, headers: Record<string, string> = {}) {
  return post(EVENTS_URL, JSON.stringify(fields), {
    "content-type": "text/plain; charset=UTF-8",
    ...headers,
  });
}

async function verify(body: Record<string, string | undefined>, options: object = OPTIONS, now = NOW) {
  return verifyEventWebhook({ provider: "ses", request: request(body), options, now });
}

describe("the SNS canonical string", () => {
  it("is built from the documented fields in the documented order (a second, independent reading)", () => {
    for (const fields of [
      notification(SEND),
      notification(SEND, { Subject: "Amazon SES Email Event Notification" }),
      confirmation(),
      confirmation("UnsubscribeConfirmation"),
    ]) {
      const message = SnsMessage.parse(snsSigned(fields, keys.privateKey));
      expect(snsStringToSign(message)).toBe(snsCanonical(fields));
    }
  });

  it("omits a null Subject (Lambda's form) and refuses a confirmation without its Token", () => {
    const withNull = SnsMessage.parse({ ...snsSigned(notification(SEND), keys.privateKey), Subject: null });
    expect(snsStringToSign(withNull)).toBe(snsCanonical(notification(SEND)));
    const { Token: _, ...noToken } = snsSigned(confirmation(), keys.privateKey);
    expect(snsStringToSign(SnsMessage.parse(noToken))).toBeNull();
  });
});

describe("ses verifyEventWebhook (SNS signatures)", () => {
  const ecKeys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const future = new Date(NOW * 1000 + DAY);
  it.each([
    {
      name: "SignatureVersion 2 (SHA256withRSA)",
      body: snsSigned(notification(SEND), keys.privateKey, "2"),
      reason: null,
    },
    {
      name: "SignatureVersion 1 (SHA1withRSA)",
      body: snsSigned(notification(SEND), keys.privateKey, "1"),
      reason: null,
    },
    {
      name: "with a Subject",
      body: snsSigned(
        notification(SEND, { Subject: "Amazon SES Email Event Notification" }),
        keys.privateKey,
      ),
      reason: null,
    },
    { name: "SubscriptionConfirmation", body: snsSigned(confirmation(), keys.privateKey), reason: null },
    {
      name: "UnsubscribeConfirmation",
      body: snsSigned(confirmation("UnsubscribeConfirmation"), keys.privateKey),
      reason: null,
    },
    {
      name: "an hour old (SNS's last retry)",
      body: snsSigned(notification(SEND, { Timestamp: iso(NOW - 3600) }), keys.privateKey),
      reason: null,
    },
    {
      name: "forged: signed by another key",
      body: snsSigned(notification(SEND), other.privateKey),
      reason: "Signature does not match",
    },
    {
      name: "Message changed after signing",
      body: {
        ...snsSigned(notification(SEND), keys.privateKey),
        Message: JSON.stringify({ ...SEND, eventType: "Open" }),
      },
      reason: "Signature does not match",
    },
    {
      name: "Subject added after signing",
      body: { ...snsSigned(notification(SEND), keys.privateKey), Subject: "hi" },
      reason: "Signature does not match",
    },
    {
      name: "Type changed after signing",
      body: { ...snsSigned(confirmation(), keys.privateKey), Type: "UnsubscribeConfirmation" },
      reason: "Signature does not match",
    },
    {
      name: "SignatureVersion changed after signing",
      body: { ...snsSigned(notification(SEND), keys.privateKey, "2"), SignatureVersion: "1" },
      reason: "Signature does not match",
    },
    {
      name: "another account's topic",
      body: snsSigned(
        notification(SEND, { TopicArn: "arn:aws:sns:us-east-1:999999999999:ses-events" }),
        keys.privateKey,
      ),
      reason: "TopicArn is not one of the configured topics",
    },
    {
      name: "a certificate URL off Amazon SNS",
      body: snsSigned(
        notification(SEND),
        keys.privateKey,
        "2",
        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
      ),
      reason: "SigningCertURL is not an https://sns.<region>.amazonaws.com/….pem URL",
    },
    {
      name: "stale: older than an hour plus 300 s",
      body: snsSigned(notification(SEND, { Timestamp: iso(NOW - 3901) }), keys.privateKey),
      reason: "Timestamp is older than SNS's 3600 s retry period (plus 300 s)",
    },
    {
      name: "from the future",
      body: snsSigned(notification(SEND, { Timestamp: iso(NOW + 301) }), keys.privateKey),
      reason: "Timestamp is more than 300 s in the future",
    },
    {
      name: "a Timestamp that is not ISO-8601 UTC",
      body: snsSigned(notification(SEND, { Timestamp: String(NOW) }), keys.privateKey),
      reason: "Timestamp is not an ISO-8601 UTC instant",
    },
    {
      name: "SignatureVersion 3",
      body: { ...snsSigned(notification(SEND), keys.privateKey), SignatureVersion: "3" },
      reason: "SignatureVersion is not 1 or 2",
    },
    {
      name: "a Signature that is not base64",
      body: { ...snsSigned(notification(SEND), keys.privateKey), Signature: "not base64!" },
      reason: "Signature is not base64",
    },
    {
      name: "a confirmation without its Token",
      body: { ...snsSigned(confirmation(), keys.privateKey), Token: undefined },
      reason: "confirmation lacks SubscribeURL or Token",
    },
    {
      name: "missing fields",
      body: { Type: "Notification", Message: "{}" },
      reason:
        "body is not an SNS message (MessageId, TopicArn, Timestamp, SignatureVersion, Signature, SigningCertURL missing or invalid)",
    },
    {
      name: "an unknown Type",
      body: { ...snsSigned(notification(SEND), keys.privateKey), Type: "Other" },
      reason: "body is not an SNS message (Type missing or invalid)",
    },
  ])("$name", async ({ body, reason }) => {
    expect(await verify(body)).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });

  it.each([
    {
      name: "no allowed topics configured",
      options: { certificate: CERT },
      reason: "no allowed SNS topic ARNs are configured (options.topicArns)",
    },
    {
      name: "an empty topic list",
      options: { certificate: CERT, topicArns: [] },
      reason: "no allowed SNS topic ARNs are configured (options.topicArns)",
    },
    {
      name: "no certificate supplied",
      options: { topicArns: [TOPIC] },
      reason: "no SNS signing certificate was supplied (options.certificate)",
    },
    {
      name: "a certificate that is not PEM",
      options: { topicArns: [TOPIC], certificate: "hello" },
      reason: "options.certificate is not a PEM certificate",
    },
    {
      name: "a PEM block that is not a certificate",
      options: {
        topicArns: [TOPIC],
        certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
      },
      reason: "options.certificate is not an X.509 certificate",
    },
    {
      name: "an expired certificate",
      options: {
        topicArns: [TOPIC],
        certificate: certificate({
          publicKey: keys.publicKey,
          signingKey: keys.privateKey,
          notBefore: new Date(NOW * 1000 - 2 * DAY),
          notAfter: new Date(NOW * 1000 - DAY),
        }),
      },
      reason: "SNS signing certificate is expired or not yet valid",
    },
    {
      name: "a certificate not yet valid",
      options: {
        topicArns: [TOPIC],
        certificate: certificate({
          publicKey: keys.publicKey,
          signingKey: keys.privateKey,
          notBefore: future,
          notAfter: new Date(NOW * 1000 + 2 * DAY),
        }),
      },
      reason: "SNS signing certificate is expired or not yet valid",
    },
    {
      name: "a certificate valid past 2049 (GeneralizedTime)",
      options: {
        topicArns: [TOPIC],
        certificate: certificate({
          publicKey: keys.publicKey,
          signingKey: keys.privateKey,
          notBefore: new Date(NOW * 1000 - DAY),
          notAfter: new Date("2051-01-01T00:00:00Z"),
        }),
      },
      reason: null,
    },
    {
      name: "a certificate of an EC key",
      options: {
        topicArns: [TOPIC],
        certificate: certificate({
          publicKey: ecKeys.publicKey,
          signingKey: ecKeys.privateKey,
          notBefore: new Date(NOW * 1000 - DAY),
          notAfter: future,
        }),
      },
      reason: "SNS signing certificate does not hold an RSA public key",
    },
  ])("$name", async ({ options, reason }) => {
    expect(await verify(snsSigned(notification(SEND), keys.privateKey), options)).toEqual(
      reason === null ? { ok: true } : { ok: false, reason },
    );
  });

  it("accepts the body however its JSON is laid out (SNS signs field values, not bytes)", async () => {
    const body = snsSigned(notification(SEND), keys.privateKey);
    const pretty = post(EVENTS_URL, JSON.stringify(body, null, 2));
    expect(
      await verifyEventWebhook({ provider: "ses", request: pretty, options: OPTIONS, now: NOW }),
    ).toEqual({ ok: true });
  });

  it("refuses a message whose x-amz-sns-message-type header contradicts its Type", async () => {
    const r = await verifyEventWebhook({
      provider: "ses",
      request: request(snsSigned(notification(SEND), keys.privateKey), {
        "x-amz-sns-message-type": "SubscriptionConfirmation",
      }),
      options: OPTIONS,
      now: NOW,
    });
    expect(r).toEqual({ ok: false, reason: "x-amz-sns-message-type header does not match the message Type" });
  });

  it("refuses a body that is not JSON, and needs no secret", async () => {
    expect(
      await verifyEventWebhook({
        provider: "ses",
        request: post(EVENTS_URL, "Type=Notification"),
        options: OPTIONS,
        now: NOW,
      }),
    ).toEqual({
      ok: false,
      reason: "body is not an SNS message (not JSON)",
    });
  });
});

describe("snsCertificateUrl", () => {
  const body = (url: unknown) =>
    JSON.stringify({ ...snsSigned(notification(SEND), keys.privateKey), SigningCertURL: url });
  it.each([
    {
      name: "AWS's documented form",
      url: "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
      expected:
        "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
    },
    {
      name: "GovCloud",
      url: "https://sns.us-gov-west-1.amazonaws.com/x.pem",
      expected: "https://sns.us-gov-west-1.amazonaws.com/x.pem",
    },
    {
      name: "China (.com.cn)",
      url: "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
      expected: "https://sns.cn-north-1.amazonaws.com.cn/x.pem",
    },
    {
      name: "upper-case host, normalized",
      url: "https://SNS.EU-WEST-1.AMAZONAWS.COM/x.pem",
      expected: "https://sns.eu-west-1.amazonaws.com/x.pem",
    },
    { name: "plain http", url: "http://sns.us-east-1.amazonaws.com/x.pem", expected: null },
    { name: "another host", url: "https://evil.example/SimpleNotificationService-x.pem", expected: null },
    {
      name: "a look-alike suffix",
      url: "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
      expected: null,
    },
    { name: "a look-alike prefix", url: "https://evilsns.us-east-1.amazonaws.com/x.pem", expected: null },
    { name: "no region", url: "https://sns.amazonaws.com/x.pem", expected: null },
    { name: "another AWS service", url: "https://s3.us-east-1.amazonaws.com/x.pem", expected: null },
    { name: "credentials in the URL", url: "https://a:b@sns.us-east-1.amazonaws.com/x.pem", expected: null },
    { name: "an explicit port", url: "https://sns.us-east-1.amazonaws.com:8443/x.pem", expected: null },
    { name: "a query", url: "https://sns.us-east-1.amazonaws.com/x.pem?redirect=evil", expected: null },
    { name: "not a .pem", url: "https://sns.us-east-1.amazonaws.com/x.txt", expected: null },
    { name: "a nested path", url: "https://sns.us-east-1.amazonaws.com/a/b.pem", expected: null },
    { name: "not a URL", url: "sns.us-east-1.amazonaws.com/x.pem", expected: null },
    { name: "not a string", url: 42, expected: null },
  ])("$name", ({ url, expected }) => {
    expect(snsCertificateUrl(body(url))).toBe(expected);
  });

  it("is null for a body that is not JSON", () => {
    expect(snsCertificateUrl("nope")).toBeNull();
    expect(snsCertificateUrl("[1]")).toBeNull();
  });
});

describe("snsSubscribeUrl", () => {
  it.each([
    { name: "a SubscriptionConfirmation's SubscribeURL", body: confirmation(), expected: SUBSCRIBE_URL },
    { name: "a Notification", body: notification(SEND), expected: null },
    { name: "an UnsubscribeConfirmation", body: confirmation("UnsubscribeConfirmation"), expected: null },
    {
      name: "a URL off SNS",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace("amazonaws.com", "evil.example"),
      }),
      expected: null,
    },
    {
      name: "plain http",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace("https:", "http:"),
      }),
      expected: null,
    },
    {
      name: "another action",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace("ConfirmSubscription", "Unsubscribe"),
      }),
      expected: null,
    },
    {
      name: "another topic in the URL",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace("ses-events", "other"),
      }),
      expected: null,
    },
    {
      name: "another token in the URL",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace("Token=2336", "Token=9999"),
      }),
      expected: null,
    },
    {
      name: "a region other than the topic's",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace("sns.us-east-1", "sns.eu-west-1"),
      }),
      expected: null,
    },
    {
      name: "a path",
      body: confirmation("SubscriptionConfirmation", {
        SubscribeURL: SUBSCRIBE_URL.replace(".com/?", ".com/x?"),
      }),
      expected: null,
    },
  ])("$name", ({ body, expected }) => {
    expect(snsSubscribeUrl(JSON.stringify(body))).toBe(expected);
  });
});

// Records from AWS's "Examples of event data that Amazon SES publishes to Amazon SNS"
// (event publishing) and "Amazon SNS notification examples for Amazon SES" (feedback notifications).
const MAIL = {
  timestamp: "2017-08-05T00:40:02.012Z",
  source: "Sender Name <sender@example.com>",
  sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
  sendingAccountId: "123456789012",
  messageId: "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
  destination: ["recipient@example.com"],
  headersTruncated: false,
  tags: { "ses:configuration-set": ["ConfigSet"], "ses:source-ip": ["192.0.2.0"] },
};
const SNS_ID = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324";

function parsed(record: unknown, extra: Record<string, string | undefined> = {}) {
  return parseEvents({
    provider: "ses",
    request: request(snsSigned(notification(record, extra), keys.privateKey)),
    now: NOW,
  });
}

const event = (type: string, occurredAt: string, extra: Record<string, unknown> = {}) => ({
  kind: "message_event",
  event: {
    type,
    messageId: MAIL.messageId,
    address: "recipient@example.com",
    sender: "sender@example.com",
    channel: "email",
    occurredAt,
    campaign: null,
    providerEventId: SNS_ID,
    ...extra,
  },
});

describe("ses parseEvents: event publishing records", () => {
  it.each([
    {
      name: "Send → sent",
      record: { eventType: "Send", mail: { ...SEND.mail, source: MAIL.source }, send: {} },
      expected: [event("sent", "2016-10-14T05:02:16.645Z")],
    },
    {
      name: "Delivery → delivered",
      record: {
        eventType: "Delivery",
        mail: MAIL,
        delivery: {
          timestamp: "2016-10-19T23:21:04.133Z",
          processingTimeMillis: 11893,
          recipients: ["recipient@example.com"],
          smtpResponse: "250 2.6.0 Message received",
          reportingMTA: "mta.example.com",
        },
      },
      expected: [event("delivered", "2016-10-19T23:21:04.133Z")],
    },
    {
      name: "Open → opened",
      record: {
        eventType: "Open",
        mail: MAIL,
        open: {
          ipAddress: "192.0.2.1",
          timestamp: "2017-08-09T22:00:19.652Z",
          userAgent: "Mozilla/5.0 (iPhone)",
        },
      },
      expected: [event("opened", "2017-08-09T22:00:19.652Z")],
    },
    {
      name: "Click → clicked",
      record: {
        eventType: "Click",
        click: {
          ipAddress: "192.0.2.1",
          link: "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
          linkTags: { samplekey0: ["samplevalue0"] },
          timestamp: "2017-08-09T23:51:25.570Z",
          userAgent: "Mozilla/5.0",
        },
        mail: MAIL,
      },
      expected: [event("clicked", "2017-08-09T23:51:25.570Z")],
    },
    {
      name: "Bounce, Permanent → bounced",
      record: {
        eventType: "Bounce",
        bounce: {
          bounceType: "Permanent",
          bounceSubType: "General",
          bouncedRecipients: [
            {
              emailAddress: "recipient@example.com",
              action: "failed",
              status: "5.1.1",
              diagnosticCode: "smtp; 550 5.1.1 user unknown",
            },
          ],
          timestamp: "2017-08-05T00:41:02.669Z",
          feedbackId: "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
          reportingMTA: "dsn; mta.example.com",
        },
        mail: MAIL,
      },
      expected: [event("bounced", "2017-08-05T00:41:02.669Z")],
    },
    {
      name: "Bounce, Transient → nothing (soft)",
      record: {
        eventType: "Bounce",
        bounce: {
          bounceType: "Transient",
          bounceSubType: "MailboxFull",
          bouncedRecipients: [{ emailAddress: "recipient@example.com" }],
          timestamp: "2017-08-05T00:41:02.669Z",
        },
        mail: MAIL,
      },
      expected: [],
    },
    {
      name: "Bounce, Undetermined → nothing",
      record: {
        eventType: "Bounce",
        bounce: {
          bounceType: "Undetermined",
          bouncedRecipients: [{ emailAddress: "recipient@example.com" }],
        },
        mail: MAIL,
      },
      expected: [],
    },
    {
      name: "Complaint (abuse) → complained",
      record: {
        eventType: "Complaint",
        complaint: {
          complainedRecipients: [{ emailAddress: "recipient@example.com" }],
          timestamp: "2017-08-05T00:41:02.669Z",
          feedbackId: "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
          userAgent: "Mozilla/5.0",
          complaintFeedbackType: "abuse",
          arrivalDate: "2017-08-05T00:41:02.669Z",
        },
        mail: MAIL,
      },
      expected: [event("complained", "2017-08-05T00:41:02.669Z")],
    },
    {
      name: "Complaint with feedback type not-spam → nothing",
      record: {
        eventType: "Complaint",
        complaint: {
          complainedRecipients: [{ emailAddress: "recipient@example.com" }],
          complaintFeedbackType: "not-spam",
        },
        mail: MAIL,
      },
      expected: [],
    },
    {
      name: "Complaint about an address on the account suppression list → nothing",
      record: {
        eventType: "Complaint",
        complaint: {
          complainedRecipients: [{ emailAddress: "recipient@example.com" }],
          complaintSubType: "OnAccountSuppressionList",
        },
        mail: MAIL,
      },
      expected: [],
    },
    {
      name: "Subscription: unsubscribeAll → opt-out",
      record: {
        eventType: "Subscription",
        mail: { ...MAIL, messageId: "EXAMPLEe4bccb684-777bc8de-afa7-4970-92b0-f515137b1497-000000" },
        subscription: {
          contactList: "ContactListName",
          timestamp: "2022-01-12T01:00:17.910Z",
          source: "UnsubscribeHeader",
          newTopicPreferences: {
            unsubscribeAll: true,
            topicSubscriptionStatus: [{ topicName: "ExampleTopicName", subscriptionStatus: "OptOut" }],
          },
          oldTopicPreferences: {
            unsubscribeAll: false,
            topicSubscriptionStatus: [{ topicName: "ExampleTopicName", subscriptionStatus: "OptOut" }],
          },
        },
      },
      expected: [
        {
          kind: "opt_out",
          address: "recipient@example.com",
          channel: "email",
          occurredAt: "2022-01-12T01:00:17.910Z",
          providerEventId: SNS_ID,
          reason: "ses list unsubscribe (all topics)",
          messageId: "EXAMPLEe4bccb684-777bc8de-afa7-4970-92b0-f515137b1497-000000",
        },
      ],
    },
    {
      name: "Subscription: one topic newly opted out → opt-out naming it",
      record: {
        eventType: "Subscription",
        mail: MAIL,
        subscription: {
          timestamp: "2022-01-12T01:00:17.910Z",
          newTopicPreferences: {
            unsubscribeAll: false,
            topicSubscriptionStatus: [
              { topicName: "News", subscriptionStatus: "OptOut" },
              { topicName: "Deals", subscriptionStatus: "OptIn" },
            ],
          },
          oldTopicPreferences: {
            unsubscribeAll: false,
            topicSubscriptionStatus: [
              { topicName: "News", subscriptionStatus: "OptIn" },
              { topicName: "Deals", subscriptionStatus: "OptIn" },
            ],
          },
        },
      },
      expected: [
        {
          kind: "opt_out",
          address: "recipient@example.com",
          channel: "email",
          occurredAt: "2022-01-12T01:00:17.910Z",
          providerEventId: SNS_ID,
          reason: "ses list unsubscribe (topic News)",
          messageId: MAIL.messageId,
        },
      ],
    },
    {
      name: "Subscription: a re-subscription → nothing",
      record: {
        eventType: "Subscription",
        mail: MAIL,
        subscription: {
          newTopicPreferences: { unsubscribeAll: false },
          oldTopicPreferences: { unsubscribeAll: true },
        },
      },
      expected: [],
    },
    {
      name: "Reject → nothing",
      record: { eventType: "Reject", mail: MAIL, reject: { reason: "Bad content" } },
      expected: [],
    },
    {
      name: "DeliveryDelay → nothing",
      record: {
        eventType: "DeliveryDelay",
        mail: MAIL,
        deliveryDelay: {
          timestamp: "2020-06-16T00:25:40.095Z",
          delayType: "TransientCommunicationFailure",
          delayedRecipients: [{ emailAddress: "recipient@example.com" }],
        },
      },
      expected: [],
    },
    {
      name: "Rendering Failure → nothing",
      record: {
        eventType: "Rendering Failure",
        mail: MAIL,
        failure: { errorMessage: "x", templateName: "MyTemplate" },
      },
      expected: [],
    },
  ])("$name", ({ record, expected }) => {
    expect(parsed(record)).toEqual(expected);
  });
});

describe("ses parseEvents: feedback notifications, tags, several recipients", () => {
  it("reads AWS's bounce notification with two recipients as two events (offset time made UTC)", () => {
    const record = {
      notificationType: "Bounce",
      bounce: {
        bounceType: "Permanent",
        bounceSubType: "General",
        bouncedRecipients: [
          { emailAddress: "recipient1@example.com" },
          { emailAddress: "recipient2@example.com" },
        ],
        timestamp: "2012-05-25T14:59:38.237-07:00",
        feedbackId: "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000",
      },
      mail: {
        timestamp: "2012-05-25T14:59:38.237-07:00",
        messageId: "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000",
        source: "email_1337983178237@amazon.com",
        sourceArn: "arn:aws:ses:us-west-2:888888888888:identity/example.com",
        sendingAccountId: "123456789012",
        destination: [
          "recipient1@example.com",
          "recipient2@example.com",
          "recipient3@example.com",
          "recipient4@example.com",
        ],
      },
    };
    const common = {
      type: "bounced",
      messageId: "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000",
      sender: "email_1337983178237@amazon.com",
      channel: "email",
      occurredAt: "2012-05-25T21:59:38.237Z",
      campaign: null,
    };
    expect(parsed(record)).toEqual([
      {
        kind: "message_event",
        event: { ...common, address: "recipient1@example.com", providerEventId: SNS_ID },
      },
      {
        kind: "message_event",
        event: { ...common, address: "recipient2@example.com", providerEventId: `${SNS_ID}:1` },
      },
    ]);
  });

  it("reads a Delivery notification's own recipients", () => {
    const record = {
      notificationType: "Delivery",
      mail: MAIL,
      delivery: { timestamp: "2014-05-28T22:41:01.184Z", recipients: ["success@simulator.amazonses.com"] },
    };
    expect(parsed(record)).toEqual([
      event("delivered", "2014-05-28T22:41:01.184Z", { address: "success@simulator.amazonses.com" }),
    ]);
  });

  it("takes the user's message id and campaign from message tags", () => {
    const record = {
      eventType: "Open",
      mail: { ...MAIL, tags: { ...MAIL.tags, optout_message_id: ["msg_42"], optout_campaign: ["spring"] } },
      open: { timestamp: "2017-08-09T22:00:19.652Z" },
    };
    expect(parsed(record)).toEqual([
      event("opened", "2017-08-09T22:00:19.652Z", { messageId: "msg_42", campaign: "spring" }),
    ]);
  });

  it.each([
    { name: "a SubscriptionConfirmation", body: snsSigned(confirmation(), keys.privateKey) },
    {
      name: "an UnsubscribeConfirmation",
      body: snsSigned(confirmation("UnsubscribeConfirmation"), keys.privateKey),
    },
    {
      name: "SES's subscription-succeeded notice",
      body: snsSigned(
        notification({
          notificationType: "AmazonSnsSubscriptionSucceeded",
          message: "You have successfully subscribed",
        }),
        keys.privateKey,
      ),
    },
    { name: "a record without a type", body: snsSigned(notification({ hello: "world" }), keys.privateKey) },
  ])("gives no events for $name", ({ body }) => {
    expect(parseEvents({ provider: "ses", request: request(body), now: NOW })).toEqual([]);
  });

  it.each([
    { name: "a body that is not JSON", body: "nope", message: "ses webhook body is not valid JSON" },
    { name: "a body that is not an SNS message", body: "{}", message: "ses SNS message is malformed: Type" },
    {
      name: "a Message that is not JSON",
      body: JSON.stringify(snsSigned(notification("plain text"), keys.privateKey)),
      message: "ses SNS Message is not valid JSON",
    },
    {
      name: "a Bounce without its bounce object",
      body: JSON.stringify(snsSigned(notification({ eventType: "Bounce", mail: MAIL }), keys.privateKey)),
      message: "ses Bounce record's bounce object is missing",
    },
    {
      name: "a Send without a mail object",
      body: JSON.stringify(snsSigned(notification({ eventType: "Send" }), keys.privateKey)),
      message: "ses Send record mail is malformed",
    },
  ])("throws invalid_input for $name", ({ body, message }) => {
    expect(() => parseEvents({ provider: "ses", request: post(EVENTS_URL, body), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining(message) }),
    );
  });
});
