import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildProviderReply,
  DomainError,
  ProviderCredentialsInput,
  parseInbound,
  providerCredentialsProblem,
  verifyWebhook,
  WHATSAPP_DEFAULT_STOP_PAYLOADS,
  whatsappHandshake,
} from "../../src/index.ts";
import { hmacHex, NOW, post, tamper } from "./support.ts";

const URL = "https://optout.example.com/mo/whatsapp/acc_123";
const APP_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/**
 * A real Meta delivery and its signature, published by david-lev/pywa `tests/test_server.py`
 * (`test_webhook_updates_validator`; the app secret has since been reset). Byte for byte.
 */
const PYWA = {
  secret: "1222e786b144d0e85b9f365372d93676",
  body: '{"object":"whatsapp_business_account","entry":[{"id":"264937493375603","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550953877","phone_number_id":"277321005464405"},"contacts":[{"profile":{"name":"PyWa Tests"},"wa_id":"972544401243"}],"messages":[{"from":"972544401243","id":"wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA","timestamp":"1730231903","text":{"body":"Hey there! I am using PyWa."},"type":"text"}]},"field":"messages"}]}]}',
  signature: "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441",
};

/** The `messages` webhook envelope of Meta's webhook references, around one message. */
function envelope(message: unknown, displayPhoneNumber = "15550783881") {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: displayPhoneNumber, phone_number_id: "106540352242922" },
              contacts: [{ profile: { name: "Sheena Nelson" }, wa_id: "16505551234" }],
              messages: [message],
            },
            field: "messages",
          },
        ],
      },
    ],
  });
}

// Meta's "Text messages webhook reference" example.
const TEXT = {
  from: "16505551234",
  id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
  timestamp: "1749416383",
  type: "text",
  text: { body: "Does it come in another color?" },
};

// Meta's "Button messages webhook reference": a quick-reply button of a template.
function button(payload: string | null, text: string | null) {
  return {
    context: { from: "15550783881", id: "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1QjJGRjI1RDY0RkE4Nzg4QzcA" },
    from: "16505551234",
    id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
    timestamp: "1750091045",
    type: "button",
    button: { payload, text },
  };
}

// Meta's "Interactive reply buttons messages" webhook: a reply button tapped.
function buttonReply(id: string, title: string) {
  return {
    context: { from: "15550783881", id: "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA" },
    from: "16505551234",
    id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUZCMTY0MDc2MUYwNzBDNTY5MAA=",
    timestamp: "1750025136",
    type: "interactive",
    interactive: { type: "button_reply", button_reply: { id, title } },
  };
}

function signed(body: string, secret = APP_SECRET, headers: Record<string, string> = {}) {
  return post(URL, body, {
    "x-hub-signature-256": `sha256=${hmacHex("sha256", secret, body)}`,
    "content-type": "application/json",
    ...headers,
  });
}

describe("whatsapp verifyWebhook (X-Hub-Signature-256)", () => {
  it.each([
    {
      name: "Meta's own delivery, as published by pywa",
      request: post(URL, PYWA.body, { "x-hub-signature-256": PYWA.signature }),
      secret: PYWA.secret,
      reason: null,
    },
    {
      name: "the published delivery with the header in capitals and upper-case hex",
      request: post(URL, PYWA.body, {
        "X-Hub-Signature-256": PYWA.signature.toUpperCase().replace("SHA256", "sha256"),
      }),
      secret: PYWA.secret,
      reason: null,
    },
    { name: "our own signature", request: signed(envelope(TEXT)), secret: APP_SECRET, reason: null },
    {
      name: "a Headers object",
      request: {
        method: "POST",
        url: URL,
        headers: new Headers({ "X-Hub-Signature-256": `sha256=${hmacHex("sha256", APP_SECRET, "{}")}` }),
        body: "{}",
      },
      secret: APP_SECRET,
      reason: null,
    },
    {
      name: "an old delivery replayed (Meta signs no timestamp: redeliveries are recognised by wamid)",
      request: post(URL, PYWA.body, { "x-hub-signature-256": PYWA.signature }),
      secret: PYWA.secret,
      reason: null,
    },
    {
      name: "forged with another secret",
      request: signed(envelope(TEXT), "not-the-app-secret"),
      secret: APP_SECRET,
      reason: "X-Hub-Signature-256 does not match",
    },
    {
      name: "the published signature over a tampered body",
      request: post(URL, PYWA.body.replace("Hey there!", "STOP"), { "x-hub-signature-256": PYWA.signature }),
      secret: PYWA.secret,
      reason: "X-Hub-Signature-256 does not match",
    },
    {
      name: "a flipped signature digit",
      request: post(URL, PYWA.body, { "x-hub-signature-256": tamper(PYWA.signature) }),
      secret: PYWA.secret,
      reason: "X-Hub-Signature-256 does not match",
    },
    {
      name: "no header",
      request: post(URL, PYWA.body),
      secret: PYWA.secret,
      reason: "missing X-Hub-Signature-256 header",
    },
    {
      name: "only the legacy SHA-1 header",
      request: post(URL, PYWA.body, { "x-hub-signature": `sha1=${hmacHex("sha1", PYWA.secret, PYWA.body)}` }),
      secret: PYWA.secret,
      reason: "missing X-Hub-Signature-256 header",
    },
    {
      name: "a SHA-1 value in the SHA-256 header",
      request: post(URL, PYWA.body, {
        "x-hub-signature-256": `sha1=${hmacHex("sha1", PYWA.secret, PYWA.body)}`,
      }),
      secret: PYWA.secret,
      reason: "X-Hub-Signature-256 is not sha256=<hex>",
    },
    {
      name: "a bare hex digest without its sha256= prefix",
      request: post(URL, PYWA.body, { "x-hub-signature-256": PYWA.signature.slice("sha256=".length) }),
      secret: PYWA.secret,
      reason: "X-Hub-Signature-256 is not sha256=<hex>",
    },
  ])("$name", async ({ request, secret, reason }) => {
    const r = await verifyWebhook({ provider: "whatsapp", request, secret });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });

  it("any change to the body breaks the signature (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(fc.nat({ max: PYWA.body.length }), fc.nat({ max: 3 }), fc.string({ maxLength: 3 }))
          .map(([at, cut, s]) => PYWA.body.slice(0, at) + s + PYWA.body.slice(at + cut))
          .filter((b) => b !== PYWA.body),
        async (body) => {
          const request = post(URL, body, { "x-hub-signature-256": PYWA.signature });
          expect((await verifyWebhook({ provider: "whatsapp", request, secret: PYWA.secret })).ok).toBe(
            false,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

const MESSAGE_DEFAULTS = { provider: "whatsapp", from: "+16505551234", to: "+15550783881" };

describe("whatsapp parseInbound", () => {
  it.each([
    {
      name: "the published delivery: a text message",
      body: PYWA.body,
      options: undefined,
      expected: [
        {
          provider: "whatsapp",
          providerMessageId: "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA",
          from: "+972544401243",
          to: "+15550953877",
          text: "Hey there! I am using PyWa.",
          receivedAt: "2024-10-29T19:58:23.000Z",
        },
      ],
    },
    {
      name: "Meta's text message example",
      body: envelope(TEXT),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: TEXT.id,
          text: "Does it come in another color?",
          receivedAt: "2025-06-08T20:59:43.000Z",
        },
      ],
    },
    {
      name: "a text STOP",
      body: envelope({ ...TEXT, text: { body: "STOP" } }),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: TEXT.id,
          text: "STOP",
          receivedAt: "2025-06-08T20:59:43.000Z",
        },
      ],
    },
    {
      name: "Meta's marketing opt-out button (payload and label 'Stop promotions') reads as STOP",
      body: envelope(button("Stop promotions", "Stop promotions")),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: button(null, null).id,
          text: "STOP",
          receivedAt: "2025-06-16T16:24:05.000Z",
        },
      ],
    },
    {
      name: "the opt-out button with a business payload: its label still matches",
      body: envelope(button("optout-42", "STOP PROMOTIONS ")),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: button(null, null).id,
          text: "STOP",
          receivedAt: "2025-06-16T16:24:05.000Z",
        },
      ],
    },
    {
      name: "a configured stop payload (options.stopPayloads)",
      body: envelope(button("UNSUB_MARKETING", "No more offers")),
      options: { stopPayloads: ["unsub_marketing"] },
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: button(null, null).id,
          text: "STOP",
          receivedAt: "2025-06-16T16:24:05.000Z",
        },
      ],
    },
    {
      name: "configured stop payloads replace the default",
      body: envelope(button("Stop promotions", "Stop promotions")),
      options: { stopPayloads: ["UNSUB_MARKETING"] },
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: button(null, null).id,
          text: "Stop promotions",
          receivedAt: "2025-06-16T16:24:05.000Z",
        },
      ],
    },
    {
      name: "any other quick reply reads as its label",
      body: envelope(button("TRACK_ORDER", "Track my order")),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: button(null, null).id,
          text: "Track my order",
          receivedAt: "2025-06-16T16:24:05.000Z",
        },
      ],
    },
    {
      name: "a quick reply without a label reads as its payload",
      body: envelope(button("Unsubscribe", null)),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: button(null, null).id,
          text: "Unsubscribe",
          receivedAt: "2025-06-16T16:24:05.000Z",
        },
      ],
    },
    {
      name: "an interactive reply button reads as its title",
      body: envelope(buttonReply("change-button", "Change")),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: buttonReply("", "").id,
          text: "Change",
          receivedAt: "2025-06-15T22:05:36.000Z",
        },
      ],
    },
    {
      name: "an interactive reply button whose id is a stop payload",
      body: envelope(buttonReply("Stop promotions", "Stop")),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: buttonReply("", "").id,
          text: "STOP",
          receivedAt: "2025-06-15T22:05:36.000Z",
        },
      ],
    },
    {
      name: "a formatted display number is normalized",
      body: envelope(TEXT, "+1 555-078-3881"),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: TEXT.id,
          text: TEXT.text.body,
          receivedAt: "2025-06-08T20:59:43.000Z",
        },
      ],
    },
    {
      name: "a message without from, from its only contact",
      body: envelope({ ...TEXT, from: undefined }),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: TEXT.id,
          text: TEXT.text.body,
          receivedAt: "2025-06-08T20:59:43.000Z",
        },
      ],
    },
    {
      name: "text the ledger cannot store is cleaned (NUL, unpaired surrogate)",
      body: envelope({ ...TEXT, id: "wamid.\u0000X", text: { body: "ST\u0000OP\uD800" } }),
      options: undefined,
      expected: [
        {
          ...MESSAGE_DEFAULTS,
          providerMessageId: "wamid.X",
          text: "STOP",
          receivedAt: "2025-06-08T20:59:43.000Z",
        },
      ],
    },
    {
      name: "a list reply is not a keyword candidate",
      body: envelope({
        ...buttonReply("", ""),
        interactive: { type: "list_reply", list_reply: { id: "row-1", title: "Stop" } },
      }),
      options: undefined,
      expected: [],
    },
    {
      name: "an image has no text",
      body: envelope({
        ...TEXT,
        type: "image",
        text: undefined,
        image: { id: "1", mime_type: "image/jpeg" },
      }),
      options: undefined,
      expected: [],
    },
    {
      name: "a statuses-only delivery carries no message",
      body: JSON.stringify({
        object: "whatsapp_business_account",
        entry: [
          {
            id: "1",
            changes: [
              {
                field: "messages",
                value: {
                  metadata: { display_phone_number: "15550783881" },
                  statuses: [{ id: "wamid.x", status: "read", timestamp: "1", recipient_id: "16505551234" }],
                },
              },
            ],
          },
        ],
      }),
      options: undefined,
      expected: [],
    },
    {
      name: "another field (user_preferences) carries no message",
      body: JSON.stringify({
        object: "whatsapp_business_account",
        entry: [{ id: "1", changes: [{ field: "user_preferences", value: {} }] }],
      }),
      options: undefined,
      expected: [],
    },
    {
      name: "another object's webhook is not WhatsApp's",
      body: JSON.stringify({ object: "page", entry: [{ id: "1", changes: [] }] }),
      options: undefined,
      expected: [],
    },
  ])("$name", ({ body, options, expected }) => {
    expect(parseInbound({ provider: "whatsapp", request: signed(body), now: NOW, options })).toEqual(
      expected,
    );
  });

  it("defaults to Meta's marketing opt-out label", () => {
    expect(WHATSAPP_DEFAULT_STOP_PAYLOADS).toEqual(["Stop promotions"]);
  });

  it.each([
    { name: "a body that is not JSON", body: "<xml/>", part: /whatsapp webhook body is not valid JSON/ },
    { name: "an empty body", body: "", part: /whatsapp webhook body is empty/ },
    {
      name: "no entry list",
      body: JSON.stringify({ object: "whatsapp_business_account" }),
      part: /whatsapp webhook body is malformed: entry/,
    },
    {
      name: "a messages change without metadata",
      body: JSON.stringify({
        object: "whatsapp_business_account",
        entry: [{ id: "1", changes: [{ field: "messages", value: { messages: [TEXT] } }] }],
      }),
      part: /whatsapp entry\[0\]\.changes\[0\]\.value is malformed: metadata/,
    },
    {
      name: "a text message without an id",
      body: envelope({ ...TEXT, id: undefined }),
      part: /whatsapp entry\[0\]\.changes\[0\]\.value\.messages\[0\] is malformed: id/,
    },
    {
      name: "a text message without its text",
      body: envelope({ ...TEXT, text: undefined }),
      part: /whatsapp entry\[0\]\.changes\[0\]\.value\.messages\[0\] is malformed: text/,
    },
    {
      name: "a message that names no sender",
      body: JSON.stringify({
        object: "whatsapp_business_account",
        entry: [
          {
            id: "1",
            changes: [
              {
                field: "messages",
                value: {
                  metadata: { display_phone_number: "15550783881" },
                  messages: [{ ...TEXT, from: undefined }],
                },
              },
            ],
          },
        ],
      }),
      part: /whatsapp entry\[0\]\.changes\[0\]\.value\.messages\[0\] names no sender/,
    },
  ])("throws invalid_input naming provider and part: $name", ({ body, part }) => {
    let error: unknown;
    try {
      parseInbound({ provider: "whatsapp", request: post(URL, body), now: NOW });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: "invalid_input", message: expect.stringMatching(part) });
  });

  it("throws only DomainError on arbitrary JSON (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 6 }),
          fc.record({
            object: fc.constant("whatsapp_business_account"),
            entry: fc.array(
              fc.record({
                id: fc.string(),
                changes: fc.array(
                  fc.record({
                    field: fc.constantFrom("messages", "user_preferences", "x"),
                    value: fc.jsonValue({ maxDepth: 4 }),
                  }),
                ),
              }),
            ),
          }),
        ),
        (value) => {
          try {
            const messages = parseInbound({
              provider: "whatsapp",
              request: post(URL, JSON.stringify(value)),
              now: NOW,
            });
            expect(Array.isArray(messages)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("answers Meta's webhook with an empty 200 (no inline replies)", () => {
    expect(buildProviderReply("whatsapp", [{ message: { from: "+1", to: "+2" }, text: "x" }])).toEqual({
      status: 200,
      contentType: null,
      body: "",
      inline: false,
    });
  });
});

describe("whatsappHandshake (GET subscription check)", () => {
  const TOKEN = "meatyhamhock";
  it.each([
    {
      name: "Meta's documented check, as a query string with '?'",
      query: `?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${TOKEN}`,
      verifyToken: TOKEN,
      challenge: "1158201444",
    },
    {
      name: "as URLSearchParams",
      query: new URLSearchParams({
        "hub.mode": "subscribe",
        "hub.challenge": "42",
        "hub.verify_token": TOKEN,
      }),
      verifyToken: TOKEN,
      challenge: "42",
    },
    {
      name: "as a record",
      query: { "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": TOKEN },
      verifyToken: TOKEN,
      challenge: "42",
    },
    {
      name: "a wrong token",
      query: { "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "meatyhamhocK" },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "a token that is a prefix of the stored one",
      query: { "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "meaty" },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "another mode",
      query: { "hub.mode": "unsubscribe", "hub.challenge": "42", "hub.verify_token": TOKEN },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "no mode",
      query: { "hub.challenge": "42", "hub.verify_token": TOKEN },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "no token sent",
      query: { "hub.mode": "subscribe", "hub.challenge": "42" },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "no challenge",
      query: { "hub.mode": "subscribe", "hub.verify_token": TOKEN },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "a challenge that would be markup if echoed",
      query: { "hub.mode": "subscribe", "hub.challenge": "<script>1</script>", "hub.verify_token": TOKEN },
      verifyToken: TOKEN,
      challenge: null,
    },
    {
      name: "no token stored for the account",
      query: { "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "" },
      verifyToken: undefined,
      challenge: null,
    },
    {
      name: "an empty stored token never matches an empty one sent",
      query: { "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "" },
      verifyToken: "",
      challenge: null,
    },
  ])("$name", ({ query, verifyToken, challenge }) => {
    expect(whatsappHandshake({ query, verifyToken })).toBe(challenge);
  });
});

describe("providerCredentialsProblem for whatsapp", () => {
  it.each([
    {
      name: "app secret and verify token",
      provider: "whatsapp" as const,
      body: { secret: APP_SECRET, options: { verifyToken: "t" } },
      problem: null,
    },
    {
      name: "with stop payloads",
      provider: "whatsapp" as const,
      body: { secret: APP_SECRET, options: { verifyToken: "t", stopPayloads: ["UNSUB"] } },
      problem: null,
    },
    {
      name: "without a verify token",
      provider: "whatsapp" as const,
      body: { secret: APP_SECRET },
      problem: /^options\.verifyToken/,
    },
    {
      name: "an access token instead of the app secret",
      provider: "whatsapp" as const,
      body: { secret: "EAAJB0123456789abcdef", options: { verifyToken: "t" } },
      problem: /^secret: .*app secret/,
    },
    {
      name: "an algorithm",
      provider: "whatsapp" as const,
      body: { secret: APP_SECRET, options: { verifyToken: "t", algorithm: "sha256" } },
      problem: /^options\.algorithm/,
    },
    {
      name: "a verify token for Twilio",
      provider: "twilio" as const,
      body: { secret: "t", options: { verifyToken: "t" } },
      problem: /^options\.verifyToken/,
    },
    {
      name: "stop payloads for Vonage",
      provider: "vonage" as const,
      body: { secret: "t", options: { stopPayloads: ["x"] } },
      problem: /^options\.stopPayloads/,
    },
  ])("$name", ({ provider, body, problem }) => {
    const result = providerCredentialsProblem(provider, ProviderCredentialsInput.parse(body));
    if (problem === null) expect(result).toBeNull();
    else expect(result).toMatch(problem);
  });
});
