import { describe, expect, it } from "vitest";
import { parseInbound, signGenericWebhook, verifyWebhook } from "../../src/index.ts";
import { hmacHex, NOW, NOW_ISO, post } from "./support.ts";

const URL = "https://optout.example.com/mo/generic/acc_123";
const SECRET = "whsec_optout_generic_test";
const BODY = JSON.stringify({
  messages: [
    { id: "m-1", from: "+14155550100", to: "+14155550199", text: "STOP", receivedAt: "2025-01-01T12:00:00Z" },
    { id: "m-2", from: "+14155550101", to: "+14155550199", text: "hello" },
  ],
});

function header(secret: string, body: string, t = NOW) {
  return `t=${t},v1=${hmacHex("sha256", secret, `${t}.${body}`)}`;
}

describe("generic verifyWebhook", () => {
  it("accepts our documented signature, and signGenericWebhook produces it", async () => {
    const value = header(SECRET, BODY);
    expect(await signGenericWebhook(SECRET, BODY, NOW)).toBe(value);
    const r = await verifyWebhook({
      provider: "generic",
      request: post(URL, BODY, { "x-optout-signature": value }),
      secret: SECRET,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: true });
  });

  it("accepts any v1 during secret rotation", async () => {
    const value = `${header("old", BODY)},v1=${hmacHex("sha256", SECRET, `${NOW}.${BODY}`)}`;
    const r = await verifyWebhook({
      provider: "generic",
      request: post(URL, BODY, { "x-optout-signature": value }),
      secret: SECRET,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: true });
  });

  it.each([
    { name: "forged", value: header("guess", BODY), body: BODY, now: NOW },
    { name: "tampered body", value: header(SECRET, BODY), body: BODY.replace("STOP", "STAR"), now: NOW },
    { name: "stale timestamp", value: header(SECRET, BODY), body: BODY, now: NOW + 301 },
    { name: "future timestamp", value: header(SECRET, BODY), body: BODY, now: NOW - 301 },
    {
      name: "timestamp swapped",
      value: header(SECRET, BODY).replace(`t=${NOW}`, `t=${NOW + 1}`),
      body: BODY,
      now: NOW,
    },
    { name: "no v1", value: `t=${NOW}`, body: BODY, now: NOW },
    { name: "garbage", value: "hello", body: BODY, now: NOW },
  ])("refuses $name", async ({ value, body, now }) => {
    const r = await verifyWebhook({
      provider: "generic",
      request: post(URL, body, { "x-optout-signature": value }),
      secret: SECRET,
      options: { now },
    });
    expect(r.ok).toBe(false);
  });
});

describe("generic parseInbound", () => {
  it("reads the documented format", () => {
    expect(parseInbound({ provider: "generic", request: post(URL, BODY), now: NOW })).toEqual([
      {
        provider: "generic",
        providerMessageId: "m-1",
        from: "+14155550100",
        to: "+14155550199",
        text: "STOP",
        receivedAt: "2025-01-01T12:00:00.000Z",
      },
      {
        provider: "generic",
        providerMessageId: "m-2",
        from: "+14155550101",
        to: "+14155550199",
        text: "hello",
        receivedAt: NOW_ISO,
      },
    ]);
  });

  it("cleans NUL and unpaired surrogates out of every field instead of refusing the message", () => {
    const body = JSON.stringify({
      messages: [
        { id: "m\u0000-3", from: "+1415555\u00000102", to: "+14155550199\udc00", text: "STOP\ud800" },
      ],
    });
    expect(parseInbound({ provider: "generic", request: post(URL, body), now: NOW })).toMatchObject([
      { providerMessageId: "m-3", from: "+14155550102", to: "+14155550199", text: "STOP" },
    ]);
  });

  it.each([
    {
      name: "missing from",
      body: JSON.stringify({ messages: [{ id: "1", to: "+1", text: "STOP" }] }),
      hint: "messages.0.from",
    },
    {
      name: "bad receivedAt",
      body: JSON.stringify({
        messages: [{ id: "1", from: "+1", to: "+2", text: "x", receivedAt: "yesterday" }],
      }),
      hint: "receivedAt",
    },
    { name: "not an object", body: "[]", hint: "expected object" },
    { name: "truncated", body: BODY.slice(0, 30), hint: "not valid JSON" },
    { name: "empty", body: "", hint: "empty" },
  ])("throws invalid_input for $name", ({ body, hint }) => {
    expect(() => parseInbound({ provider: "generic", request: post(URL, body), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining(hint) }),
    );
  });
});
