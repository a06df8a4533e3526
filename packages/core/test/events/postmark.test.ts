import { describe, expect, it } from "vitest";
import { parseEvents, verifyEventWebhook } from "../../src/index.ts";
import { basic, EVENTS_URL, NOW, post } from "./support.ts";

const SECRET = "optout:s3cret-Pa55";
const MESSAGE = "883953f4-6105-42a2-a16a-77a8eac79483";

// Payloads as in Postmark's webhook documentation (Delivery, Bounce, Spam complaint, Open, Click,
// Subscription change) and the types of ActiveCampaign/postmark.js.
const DELIVERY = {
  RecordType: "Delivery",
  ServerID: 23,
  MessageStream: "outbound",
  MessageID: MESSAGE,
  Recipient: "john@example.com",
  Tag: "welcome-email",
  DeliveredAt: "2019-11-05T16:33:54.9070259Z",
  Details: "Test delivery webhook details",
  Metadata: { a_key: "a_value", b_key: "b_value" },
};
const BOUNCE = {
  RecordType: "Bounce",
  MessageStream: "outbound",
  ID: 692560173,
  Type: "HardBounce",
  TypeCode: 1,
  Name: "Hard bounce",
  Tag: "Test",
  MessageID: MESSAGE,
  Metadata: { a_key: "a_value" },
  ServerID: 23,
  Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  Details: "Test bounce details",
  Email: "john@example.com",
  From: "sender@example.com",
  BouncedAt: "2019-11-05T16:33:54.9070259Z",
  DumpAvailable: true,
  Inactive: true,
  CanActivate: true,
  Subject: "Test subject",
  Content: "Return-Path:>\r\n",
};
const OPEN = {
  RecordType: "Open",
  MessageStream: "outbound",
  Metadata: { example: "value" },
  FirstOpen: true,
  Recipient: "john@example.com",
  MessageID: MESSAGE,
  ReceivedAt: "2019-11-05T16:33:54.9070259Z",
  Platform: "WebMail",
  ReadSeconds: 5,
  Tag: "welcome-email",
  UserAgent: "Mozilla/5.0",
  OS: { Name: "OS X 10.7 Lion", Family: "OS X 10", Company: "Apple Computer, Inc." },
  Client: { Name: "Chrome 35.0.1916.153", Family: "Chrome", Company: "Google" },
  Geo: { IP: "188.2.95.4", City: "Novi Sad", Country: "Serbia" },
};
const CLICK = {
  RecordType: "Click",
  MessageStream: "outbound",
  Metadata: { example: "value" },
  Recipient: "john@example.com",
  MessageID: MESSAGE,
  ReceivedAt: "2017-10-25T15:21:11.0000000Z",
  Platform: "Desktop",
  ClickLocation: "HTML",
  OriginalLink: "https://example.com",
  Tag: "welcome-email",
  UserAgent: "Mozilla/5.0",
};
const SUBSCRIPTION_CHANGE = {
  RecordType: "SubscriptionChange",
  MessageID: MESSAGE,
  ServerID: 23,
  MessageStream: "outbound",
  ChangedAt: "2020-02-01T10:53:34.416071Z",
  Recipient: "bounced-address@wildbit.com",
  Origin: "Recipient",
  SuppressSending: true,
  SuppressionReason: "ManualSuppression",
  Tag: "my-tag",
  Metadata: { example: "value", example_2: "value" },
};

function request(payload: unknown, authorization: string | null = basic(SECRET)) {
  return post(EVENTS_URL, JSON.stringify(payload), {
    "content-type": "application/json",
    ...(authorization === null ? {} : { authorization }),
  });
}

describe("postmark verifyEventWebhook (HTTP Basic credentials on the webhook URL)", () => {
  it.each([
    { name: "the configured credentials", authorization: basic(SECRET), secret: SECRET, reason: null },
    {
      name: "a wrong password",
      authorization: basic("optout:guess"),
      secret: SECRET,
      reason: "Basic credentials do not match",
    },
    {
      name: "another user",
      authorization: basic("other:s3cret-Pa55"),
      secret: SECRET,
      reason: "Basic credentials do not match",
    },
    {
      name: "no Authorization header",
      authorization: null,
      secret: SECRET,
      reason: "missing Authorization header",
    },
    {
      name: "a Bearer token",
      authorization: "Bearer abc",
      secret: SECRET,
      reason: "Authorization header is not Basic",
    },
    {
      name: "a secret without a colon",
      authorization: basic(SECRET),
      secret: "justapassword",
      reason: 'configured secret must be "user:password" for Basic authentication',
    },
  ])("$name", async ({ authorization, secret, reason }) => {
    const r = await verifyEventWebhook({
      provider: "postmark",
      request: request(DELIVERY, authorization),
      secret,
      now: NOW,
    });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });
});

const event = (
  type: string,
  occurredAt: string,
  providerEventId: string,
  extra: Record<string, unknown> = {},
) => [
  {
    kind: "message_event",
    event: {
      type,
      messageId: MESSAGE,
      address: "john@example.com",
      sender: null,
      channel: "email",
      occurredAt,
      campaign: null,
      providerEventId,
      ...extra,
    },
  },
];

describe("postmark parseEvents", () => {
  it.each([
    {
      name: "Delivery → delivered (7-digit fractions truncated to ms)",
      payload: DELIVERY,
      expected: event("delivered", "2019-11-05T16:33:54.907Z", `Delivery:${MESSAGE}:john@example.com`),
    },
    {
      name: "Bounce, HardBounce → bounced",
      payload: BOUNCE,
      expected: event("bounced", "2019-11-05T16:33:54.907Z", "Bounce:692560173", {
        sender: "sender@example.com",
      }),
    },
    ...["SoftBounce", "Transient", "DnsError", "AutoResponder", "Blocked"].map((type) => ({
      name: `Bounce, ${type} → nothing`,
      payload: { ...BOUNCE, Type: type, TypeCode: 4096 },
      expected: [],
    })),
    {
      name: "SpamComplaint → complained",
      payload: { ...BOUNCE, RecordType: "SpamComplaint", ID: 42, Type: "SpamComplaint", TypeCode: 100001 },
      expected: event("complained", "2019-11-05T16:33:54.907Z", "SpamComplaint:42", {
        sender: "sender@example.com",
      }),
    },
    {
      name: "Open → opened",
      payload: OPEN,
      expected: event(
        "opened",
        "2019-11-05T16:33:54.907Z",
        `Open:${MESSAGE}:john@example.com:2019-11-05T16:33:54.9070259Z`,
      ),
    },
    {
      name: "Click → clicked",
      payload: CLICK,
      expected: event(
        "clicked",
        "2017-10-25T15:21:11.000Z",
        `Click:${MESSAGE}:john@example.com:2017-10-25T15:21:11.0000000Z`,
      ),
    },
    {
      name: "SubscriptionChange, SuppressSending → opt-out",
      payload: SUBSCRIPTION_CHANGE,
      expected: [
        {
          kind: "opt_out",
          address: "bounced-address@wildbit.com",
          channel: "email",
          occurredAt: "2020-02-01T10:53:34.416Z",
          providerEventId: `SubscriptionChange:${MESSAGE}:bounced-address@wildbit.com:2020-02-01T10:53:34.416071Z`,
          reason: "postmark suppression (ManualSuppression by Recipient)",
          messageId: MESSAGE,
        },
      ],
    },
    {
      name: "SubscriptionChange of a manual suppression by the customer (no MessageID)",
      payload: { ...SUBSCRIPTION_CHANGE, MessageID: null, Origin: "Customer" },
      expected: [
        {
          kind: "opt_out",
          address: "bounced-address@wildbit.com",
          channel: "email",
          occurredAt: "2020-02-01T10:53:34.416Z",
          providerEventId: "SubscriptionChange:-:bounced-address@wildbit.com:2020-02-01T10:53:34.416071Z",
          reason: "postmark suppression (ManualSuppression by Customer)",
          messageId: null,
        },
      ],
    },
    {
      name: "SubscriptionChange reactivating an address → nothing",
      payload: { ...SUBSCRIPTION_CHANGE, SuppressSending: false },
      expected: [],
    },
    {
      name: "an inbound message (no RecordType) → nothing",
      payload: { From: "a@example.com", Subject: "hi", TextBody: "STOP" },
      expected: [],
    },
    {
      name: "Metadata optout_message_id and optout_campaign win over MessageID",
      payload: { ...OPEN, Metadata: { optout_message_id: "msg_42", optout_campaign: "spring" } },
      expected: event(
        "opened",
        "2019-11-05T16:33:54.907Z",
        `Open:${MESSAGE}:john@example.com:2019-11-05T16:33:54.9070259Z`,
        {
          messageId: "msg_42",
          campaign: "spring",
        },
      ),
    },
  ])("$name", ({ payload, expected }) => {
    expect(parseEvents({ provider: "postmark", request: request(payload), now: NOW })).toEqual(expected);
  });

  it.each([
    { name: "not JSON", body: "RecordType=Delivery", message: "postmark webhook body is not valid JSON" },
    { name: "an array", body: "[]", message: "postmark webhook body is malformed" },
    {
      name: "a Delivery without a Recipient",
      body: JSON.stringify({ RecordType: "Delivery", MessageID: "m" }),
      message: "postmark Delivery webhook is malformed: Recipient",
    },
    {
      name: "a Bounce without a Type",
      body: JSON.stringify({ ...BOUNCE, Type: undefined }),
      message: "postmark Bounce webhook is malformed: Type",
    },
  ])("throws invalid_input: $name", ({ body, message }) => {
    expect(() =>
      parseEvents({ provider: "postmark", request: post(EVENTS_URL, body), now: NOW }),
    ).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining(message) }),
    );
  });
});
