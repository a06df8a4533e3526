import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { form, hmacB64, NOW, NOW_ISO, post } from "./support.ts";

const TOKEN = "MjM0NjRmNGYyZDFiZTk0YjQ0OGY1ZDk3ZjQ3";
const URL = "https://optout.example.com/mo/plivo/acc_123";
const NONCE = "05429567804466091622";

// Plivo's incoming-SMS callback fields ("Receive an SMS" guide): numbers without "+".
const INBOUND = {
  From: "14155550100",
  To: "14155550199",
  Text: "Arrêt",
  Type: "sms",
  MessageUUID: "e4e5ac12-0f6d-11ee-9c0e-0242ac110004",
  TotalRate: "0",
  TotalAmount: "0",
  Units: "1",
  MessageIntent: "optout",
  PowerpackUUID: "",
};

/** Plivo V3, re-implemented from its docs: base URL, sorted query, ".", sorted key+value, ".", nonce. */
function v3(token: string, url: string, params: Record<string, string>, nonce = NONCE): string {
  const u = new globalThis.URL(url);
  const query = [...u.searchParams]
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const sortedParams = Object.keys(params)
    .sort()
    .map((k) => k + params[k])
    .join("");
  const base = `${u.origin}${u.pathname}?${query}${query ? "." : ""}${sortedParams}`;
  return hmacB64("sha256", token, `${base}.${nonce}`);
}

describe("plivo verifyWebhook", () => {
  const body = form(INBOUND);

  it("accepts a V3 signature", async () => {
    const req = post(URL, body, {
      "x-plivo-signature-v3": v3(TOKEN, URL, INBOUND),
      "x-plivo-signature-v3-nonce": NONCE,
    });
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: TOKEN })).toEqual({ ok: true });
  });

  it("accepts a V3 signature over a URL with a query string", async () => {
    const url = `${URL}?b=2&a=1`;
    const req = post(url, body, {
      "x-plivo-signature-v3": v3(TOKEN, url, INBOUND),
      "x-plivo-signature-v3-nonce": NONCE,
    });
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: TOKEN })).toEqual({ ok: true });
  });

  it("accepts any of several comma-separated V3 signatures (token rotation)", async () => {
    const both = `${v3("old-token", URL, INBOUND)}, ${v3(TOKEN, URL, INBOUND)}`;
    const req = post(URL, body, { "x-plivo-signature-v3": both, "x-plivo-signature-v3-nonce": NONCE });
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: TOKEN })).toEqual({ ok: true });
  });

  it("accepts the main-account signature header", async () => {
    const req = post(URL, body, {
      "x-plivo-signature-v3": v3("subaccount-token", URL, INBOUND),
      "x-plivo-signature-ma-v3": v3(TOKEN, URL, INBOUND),
      "x-plivo-signature-v3-nonce": NONCE,
    });
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: TOKEN })).toEqual({ ok: true });
  });

  it("refuses a forged signature, a tampered body and a swapped nonce", async () => {
    const forged = post(URL, body, {
      "x-plivo-signature-v3": v3("guess", URL, INBOUND),
      "x-plivo-signature-v3-nonce": NONCE,
    });
    expect(await verifyWebhook({ provider: "plivo", request: forged, secret: TOKEN })).toEqual({
      ok: false,
      reason: "X-Plivo-Signature-V3 does not match",
    });
    const tampered = post(URL, form({ ...INBOUND, Text: "Hello" }), {
      "x-plivo-signature-v3": v3(TOKEN, URL, INBOUND),
      "x-plivo-signature-v3-nonce": NONCE,
    });
    expect((await verifyWebhook({ provider: "plivo", request: tampered, secret: TOKEN })).ok).toBe(false);
    const nonce = post(URL, body, {
      "x-plivo-signature-v3": v3(TOKEN, URL, INBOUND),
      "x-plivo-signature-v3-nonce": "1",
    });
    expect((await verifyWebhook({ provider: "plivo", request: nonce, secret: TOKEN })).ok).toBe(false);
  });

  it("falls back to V2 (URL + nonce)", async () => {
    const signature = hmacB64("sha256", TOKEN, URL + NONCE);
    const req = post(URL, body, { "x-plivo-signature-v2": signature, "x-plivo-signature-v2-nonce": NONCE });
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: TOKEN })).toEqual({ ok: true });
    const forged = post(URL, body, {
      "x-plivo-signature-v2": hmacB64("sha256", "x", URL + NONCE),
      "x-plivo-signature-v2-nonce": NONCE,
    });
    expect((await verifyWebhook({ provider: "plivo", request: forged, secret: TOKEN })).ok).toBe(false);
  });

  it("refuses a request without signature headers or without a nonce", async () => {
    expect((await verifyWebhook({ provider: "plivo", request: post(URL, body), secret: TOKEN })).ok).toBe(
      false,
    );
    const noNonce = post(URL, body, { "x-plivo-signature-v3": v3(TOKEN, URL, INBOUND) });
    expect(await verifyWebhook({ provider: "plivo", request: noNonce, secret: TOKEN })).toEqual({
      ok: false,
      reason: "missing X-Plivo-Signature-V3-Nonce header",
    });
  });
});

describe("plivo parseInbound", () => {
  it("reads an incoming SMS", () => {
    expect(parseInbound({ provider: "plivo", request: post(URL, form(INBOUND)), now: NOW })).toEqual([
      {
        provider: "plivo",
        providerMessageId: "e4e5ac12-0f6d-11ee-9c0e-0242ac110004",
        from: "+14155550100",
        to: "+14155550199",
        text: "Arrêt",
        receivedAt: NOW_ISO,
      },
    ]);
  });

  it("returns no messages for a delivery report", () => {
    const report = form({
      MessageUUID: "e4e5",
      Status: "delivered",
      To: "14155550100",
      From: "14155550199",
      Units: "1",
    });
    expect(parseInbound({ provider: "plivo", request: post(URL, report), now: NOW })).toEqual([]);
  });

  it("throws invalid_input for a body without MessageUUID", () => {
    const { MessageUUID: _, ...rest } = INBOUND;
    expect(() => parseInbound({ provider: "plivo", request: post(URL, form(rest)), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("MessageUUID") }),
    );
  });
});
