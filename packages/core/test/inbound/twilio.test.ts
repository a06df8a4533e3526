import { describe, expect, it } from "vitest";
import { DomainError, parseInbound, verifyWebhook } from "../../src/index.ts";
import { form, get, hmacB64, NOW, NOW_ISO, post, sha256Hex } from "./support.ts";

const TOKEN = "12345abcdefauthtoken0000000000ab";
const URL = "https://optout.example.com/mo/twilio/acc_123";

// Shape and fields of Twilio's incoming-message webhook (Messaging "webhook request" docs).
const INBOUND = {
  ToCountry: "US",
  ToState: "CA",
  SmsMessageSid: "SM5ef8732a3c49700934481addd5ce1659",
  NumMedia: "0",
  ToCity: "SAN FRANCISCO",
  FromZip: "94105",
  SmsSid: "SM5ef8732a3c49700934481addd5ce1659",
  FromState: "CA",
  SmsStatus: "received",
  FromCity: "SAN FRANCISCO",
  Body: "Stop.",
  FromCountry: "US",
  To: "+14155550199",
  ToZip: "94105",
  NumSegments: "1",
  MessageSid: "SM5ef8732a3c49700934481addd5ce1659",
  AccountSid: "AC0123456789abcdef0123456789abcdef",
  From: "+14155550100",
  ApiVersion: "2010-04-01",
};

/** Twilio's scheme, re-implemented: URL + sorted key+value of the POST parameters. */
function twilioSignature(token: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return hmacB64("sha1", token, data);
}

describe("twilio verifyWebhook", () => {
  const body = form(INBOUND);

  it("accepts a correctly signed form post", async () => {
    const req = post(URL, body, { "x-twilio-signature": twilioSignature(TOKEN, URL, INBOUND) });
    expect(await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN })).toEqual({ ok: true });
  });

  it("accepts a signature Twilio computed over the URL with :443", async () => {
    const signed = twilioSignature(TOKEN, "https://optout.example.com:443/mo/twilio/acc_123", INBOUND);
    const req = post(URL, body, { "x-twilio-signature": signed });
    expect(await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN })).toEqual({ ok: true });
  });

  it("accepts a Headers object as well as a record", async () => {
    const headers = new Headers({ "X-Twilio-Signature": twilioSignature(TOKEN, URL, INBOUND) });
    const req = { method: "POST", url: URL, headers, body };
    expect((await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN })).ok).toBe(true);
  });

  it("refuses a signature made with another token (forged)", async () => {
    const req = post(URL, body, { "x-twilio-signature": twilioSignature("not-the-token", URL, INBOUND) });
    const r = await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN });
    expect(r).toEqual({ ok: false, reason: "X-Twilio-Signature does not match" });
  });

  it("refuses a tampered body", async () => {
    const signature = twilioSignature(TOKEN, URL, INBOUND);
    const req = post(URL, form({ ...INBOUND, Body: "START" }), { "x-twilio-signature": signature });
    expect((await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN })).ok).toBe(false);
  });

  it("refuses a request signed for another URL", async () => {
    const signature = twilioSignature(TOKEN, `${URL}?x=1`, INBOUND);
    const req = post(URL, body, { "x-twilio-signature": signature });
    expect((await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN })).ok).toBe(false);
  });

  it("refuses a request without the header", async () => {
    const r = await verifyWebhook({ provider: "twilio", request: post(URL, body), secret: TOKEN });
    expect(r).toEqual({ ok: false, reason: "missing X-Twilio-Signature header" });
  });

  it("checks the bodySHA256 variant for JSON bodies", async () => {
    const json = JSON.stringify({ hello: "world" });
    const url = `${URL}?bodySHA256=${sha256Hex(json)}`;
    const signature = hmacB64("sha1", TOKEN, url);
    const good = post(url, json, { "x-twilio-signature": signature, "content-type": "application/json" });
    expect(await verifyWebhook({ provider: "twilio", request: good, secret: TOKEN })).toEqual({ ok: true });
    const tampered = { ...good, body: JSON.stringify({ hello: "worle" }) };
    expect(await verifyWebhook({ provider: "twilio", request: tampered, secret: TOKEN })).toEqual({
      ok: false,
      reason: "bodySHA256 does not match the body",
    });
  });

  // twilio-node `spec/unit/webhooks/webhooks.spec.js`: token "s3cr3t", signatures made by its
  // getExpectedTwilioSignature over the sender's URL with no parameters, checked against the URL
  // as received. The SDK tries the query both as WHATWG serializes it and re-encoded the legacy
  // `querystring` way, so a quote the sender wrote as `'` or `%27` verifies either way.
  it.each([
    {
      name: "unescaped quote signed, unescaped quote received",
      signedUrl: "https://example.com/path?test=param'WithQuote",
      receivedUrl: "https://example.com/path?test=param'WithQuote",
    },
    {
      name: "unescaped quote signed, escaped quote received",
      signedUrl: "https://example.com/path?test=param'WithQuote",
      receivedUrl: "https://example.com/path?test=param%27WithQuote",
    },
    {
      name: "escaped quote signed, unescaped quote received",
      signedUrl: "https://example.com/path?test=param%27WithQuote",
      receivedUrl: "https://example.com/path?test=param'WithQuote",
    },
    {
      name: "escaped quote signed, escaped quote received",
      signedUrl: "https://example.com/path?test=param%27WithQuote",
      receivedUrl: "https://example.com/path?test=param%27WithQuote",
    },
    {
      name: "port signed, no port received",
      signedUrl: "https://example.com:443/path?test=param",
      receivedUrl: "https://example.com/path?test=param",
    },
    {
      name: "no port signed, port received",
      signedUrl: "https://example.com/path?test=param",
      receivedUrl: "https://example.com:443/path?test=param",
    },
    {
      name: "escaped quote and port signed, unescaped quote received",
      signedUrl: "https://example.com:443/path?test=param%27WithQuote",
      receivedUrl: "https://example.com/path?test=param'WithQuote",
    },
    {
      name: "unescaped quote signed, escaped quote and a non-default port received",
      signedUrl: "https://example.com:8443/path?test=param'WithQuote",
      receivedUrl: "https://example.com:8443/path?test=param%27WithQuote",
    },
    {
      name: "unescaped quote signed with form parameters, escaped quote received",
      signedUrl: "https://example.com/path?test=param'WithQuote",
      receivedUrl: "https://example.com/path?test=param%27WithQuote",
      params: INBOUND,
    },
    {
      name: "unescaped quote signed, escaped quote received with bodySHA256",
      signedUrl: `https://example.com/path?q=it's&bodySHA256=${sha256Hex("{}")}`,
      receivedUrl: `https://example.com/path?q=it%27s&bodySHA256=${sha256Hex("{}")}`,
      body: "{}",
    },
  ])("accepts what twilio-node accepts: $name", async ({ signedUrl, receivedUrl, params, body }) => {
    const signature = twilioSignature("s3cr3t", signedUrl, params ?? {});
    const req = post(receivedUrl, body ?? (params ? form(params) : ""), {
      "x-twilio-signature": signature,
      ...(body ? { "content-type": "application/json" } : {}),
    });
    expect(await verifyWebhook({ provider: "twilio", request: req, secret: "s3cr3t" })).toEqual({ ok: true });
  });

  it.each([
    {
      name: "a different query value (twilio-node spec vector)",
      signedUrl: "https://example.com/path?test=param",
      receivedUrl: "https://example.com/path?test=param2",
    },
    {
      name: "a quote signed where the URL carries another character",
      signedUrl: "https://example.com/path?test=param'WithQuote",
      receivedUrl: "https://example.com/path?test=param%22WithQuote",
    },
    {
      name: "a quote moved from the query into the path",
      signedUrl: "https://example.com/pa'th?test=param",
      receivedUrl: "https://example.com/pa%27th?test=param",
    },
    {
      name: "the quote form signed for another token",
      signedUrl: "https://example.com/path?test=param'WithQuote",
      receivedUrl: "https://example.com/path?test=param%27WithQuote",
      token: "not-the-token",
    },
  ])("refuses what twilio-node refuses: $name", async ({ signedUrl, receivedUrl, token }) => {
    const req = post(receivedUrl, "", {
      "x-twilio-signature": twilioSignature(token ?? "s3cr3t", signedUrl, {}),
    });
    expect(await verifyWebhook({ provider: "twilio", request: req, secret: "s3cr3t" })).toEqual({
      ok: false,
      reason: "X-Twilio-Signature does not match",
    });
  });

  it("signs the URL alone for a GET webhook", async () => {
    const url = `${URL}?${form(INBOUND)}`;
    const req = get(url, { "x-twilio-signature": hmacB64("sha1", TOKEN, url) });
    expect((await verifyWebhook({ provider: "twilio", request: req, secret: TOKEN })).ok).toBe(true);
  });
});

describe("twilio parseInbound", () => {
  it("reads an incoming message", () => {
    const messages = parseInbound({ provider: "twilio", request: post(URL, form(INBOUND)), now: NOW });
    expect(messages).toEqual([
      {
        provider: "twilio",
        providerMessageId: "SM5ef8732a3c49700934481addd5ce1659",
        from: "+14155550100",
        to: "+14155550199",
        text: "Stop.",
        receivedAt: NOW_ISO,
      },
    ]);
  });

  it("reads a GET webhook from the query string", () => {
    const [m] = parseInbound({ provider: "twilio", request: get(`${URL}?${form(INBOUND)}`), now: NOW });
    expect(m?.text).toBe("Stop.");
  });

  it("returns no messages for a status callback", () => {
    const status = form({
      MessageSid: "SM1",
      MessageStatus: "delivered",
      SmsStatus: "delivered",
      To: "+14155550100",
      From: "+14155550199",
      AccountSid: "AC1",
    });
    expect(parseInbound({ provider: "twilio", request: post(URL, status), now: NOW })).toEqual([]);
  });

  it("throws invalid_input for a truncated body", () => {
    const truncated = "ToCountry=US&SmsStatus=received&MessageSid=SM1&From=%2B1415555";
    expect(() => parseInbound({ provider: "twilio", request: post(URL, truncated), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringMatching(/twilio .*To/) }),
    );
  });

  it("throws invalid_input for an empty body", () => {
    expect(() => parseInbound({ provider: "twilio", request: post(URL, ""), now: NOW })).toThrow(DomainError);
  });

  it("reads Event Streams inbound-message CloudEvents", () => {
    const event = [
      {
        specversion: "1.0",
        type: "com.twilio.messaging.inbound-message.received",
        source: "AB00000000000000000000000001",
        id: "NO00000000000000000000000001",
        data: {
          messageSid: "SM0000000000000000000000000000001",
          timestamp: "2025-01-01T00:00:00.000Z",
          from: "+11234567890",
          to: "+12345678901",
          body: "STOP",
        },
      },
      { specversion: "1.0", type: "com.twilio.messaging.message.delivered", id: "NO2", data: {} },
    ];
    const req = post(URL, JSON.stringify(event), { "content-type": "application/json" });
    expect(parseInbound({ provider: "twilio", request: req, now: NOW })).toEqual([
      {
        provider: "twilio",
        providerMessageId: "SM0000000000000000000000000000001",
        from: "+11234567890",
        to: "+12345678901",
        text: "STOP",
        receivedAt: "2025-01-01T00:00:00.000Z",
      },
    ]);
  });
});
