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

// Plivo's published V3 vector (plivo-go `utils_test.go`, plivo-ruby `spec/signature_spec.rb`):
// a voice callback's parameters, signed by Plivo's servers.
const SDK_V3_URL = "https://plivobin.non-prod.plivops.com/api/v1/validate_signature03.xml";
const SDK_V3_NONCE = "31627761595286130198";
const SDK_V3_TOKEN = "Y2Q2ZDgxZmY5YWRiOTI5YmQ1Njg0MTAxZWIyOTc4";
const SDK_V3_PARAMS = {
  Direction: "outbound",
  From: "19792014278",
  ALegUUID: "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36",
  CallStatus: "in-progress",
  BillRate: "0.002",
  ParentAuthID: "MANWVLYTK4ZWU1YTY4QA",
  To: "sip:PlivoSignature382029104058171078704104@phone-qa.voice.plivodev.com",
  ALegRequestUUID: "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36",
  CallUUID: "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36",
  RequestUUID: "3e82ae9d-2c78-4d85-b1a4-6eae7dbafb36",
  "SIP-H-To": "<sip:PlivoSignature382029104058171078704104@52.9.11.55;transport=udp>;tag=1",
  SessionStart: "2020-04-08 11:34:33.238707",
  Event: "StartApp",
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

  // V2 signs scheme://host[:port]/path exactly as written (plivo-node `lib/utils/security.js`
  // validateSignature, plivo-python `plivo/utils/__init__.py` validate_signature): a URL without a
  // path gets no "/", a default port stays, nothing is normalized. The first row is the SDKs'
  // published vector (plivo-node `test/utils.js`, plivo-python `tests/resources/test_signature.py`).
  it.each([
    {
      name: "the SDK vector: a URL without a path",
      url: "https://answer.url",
      token: "my_auth_token",
      nonce: "12345",
      signature: "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=",
    },
    {
      name: "a URL without a path but with a query",
      url: "https://answer.url?x=1",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url${NONCE}`),
    },
    {
      name: "a URL whose path is only a slash",
      url: "https://answer.url/",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url/${NONCE}`),
    },
    {
      name: "a URL with the default port written out",
      url: "https://answer.url:443/mo/plivo",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url:443/mo/plivo${NONCE}`),
    },
    {
      name: "a URL with an upper-case host",
      url: "https://Answer.URL/mo/plivo#frag",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://Answer.URL/mo/plivo${NONCE}`),
    },
  ])("accepts a V2 signature over the URL as written: $name", async ({ url, token, nonce, signature }) => {
    const req = post(url, body, { "x-plivo-signature-v2": signature, "x-plivo-signature-v2-nonce": nonce });
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: token })).toEqual({ ok: true });
  });

  it.each([
    {
      name: "the SDK vector with another token and nonce",
      url: "https://answer.url",
      token: "my_auth_tokens",
      nonce: "123456",
      signature: "ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=",
    },
    {
      name: "a slash added to a URL without a path",
      url: "https://answer.url",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url/${NONCE}`),
    },
    {
      name: "the slash dropped from a URL whose path is a slash",
      url: "https://answer.url/",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url${NONCE}`),
    },
    {
      name: "the default port dropped",
      url: "https://answer.url:443/mo/plivo",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url/mo/plivo${NONCE}`),
    },
    {
      name: "the query signed too",
      url: "https://answer.url/mo/plivo?x=1",
      token: TOKEN,
      nonce: NONCE,
      signature: hmacB64("sha256", TOKEN, `https://answer.url/mo/plivo?x=1${NONCE}`),
    },
  ])(
    "refuses a V2 signature over another form of the URL: $name",
    async ({ url, token, nonce, signature }) => {
      const req = post(url, body, { "x-plivo-signature-v2": signature, "x-plivo-signature-v2-nonce": nonce });
      expect(await verifyWebhook({ provider: "plivo", request: req, secret: token })).toEqual({
        ok: false,
        reason: "X-Plivo-Signature-V2 does not match",
      });
    },
  );

  // V3 signs the URL as written, too: plivo-node `lib/utils/v3Security.js` construct_get_url and
  // plivo-python `plivo/utils/signature_v3.py` construct_get_url rebuild scheme://host[:port] +
  // path from the written URL (no "/" added, a written default port and the host's case stay),
  // then add "?" + the query sorted by key and value (for a GET that is all), and for a POST with
  // a body "." (when there is a query) + Σ sorted key+value of the form. Node and Python carry no
  // V3 vector; the first four rows are Plivo's published ones (plivo-go `utils_test.go`
  // TestValidateSignatureV3Pass1–4, plivo-ruby `spec/signature_spec.rb`), a GET's parameters
  // moved into its query. Every other row spells out the exact string signed.
  it.each([
    {
      name: "the SDK vector: a POST to a URL with a query",
      method: "POST",
      url: `${SDK_V3_URL}/?a=b&c=d`,
      body: form(SDK_V3_PARAMS),
      token: SDK_V3_TOKEN,
      nonce: SDK_V3_NONCE,
      signature: "k7Pusd4OxCIjR5IfA9iedDNu/h/gbdYqdzG/MiYtd1c=",
    },
    {
      name: "the SDK vector: a GET to a URL with a query",
      method: "GET",
      url: `${SDK_V3_URL}/?a=b&c=d&${form(SDK_V3_PARAMS)}`,
      body: "",
      token: SDK_V3_TOKEN,
      nonce: SDK_V3_NONCE,
      signature: "UBq8jAtd32wR8EK9VgxbBn4n5rpI/l1H9iN4WfSEHFQ=",
    },
    {
      name: "the SDK vector: a POST to a URL without a query",
      method: "POST",
      url: SDK_V3_URL,
      body: form(SDK_V3_PARAMS),
      token: SDK_V3_TOKEN,
      nonce: SDK_V3_NONCE,
      signature: "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0=",
    },
    {
      name: "the SDK vector: a GET whose parameters are the whole query",
      method: "GET",
      url: `${SDK_V3_URL}?${form(SDK_V3_PARAMS)}`,
      body: "",
      token: SDK_V3_TOKEN,
      nonce: SDK_V3_NONCE,
      signature: "i/MQsaQSAd6fiKhOh2qeeeLHZ9faldADSb3/7+Akfbc=",
    },
    {
      name: "a POST to a URL without a path",
      method: "POST",
      url: "https://answer.url",
      body: "To=1&From=2",
      signed: "https://answer.url?From2To1",
    },
    {
      name: "a POST to a URL whose path is only a slash",
      method: "POST",
      url: "https://answer.url/",
      body: "To=1&From=2",
      signed: "https://answer.url/?From2To1",
    },
    {
      name: "a POST to a URL with the default port written out",
      method: "POST",
      url: "https://answer.url:443/mo/plivo",
      body: "To=1&From=2",
      signed: "https://answer.url:443/mo/plivo?From2To1",
    },
    {
      name: "a POST to a URL with an upper-case host",
      method: "POST",
      url: "https://Answer.URL/mo/plivo#frag",
      body: "To=1&From=2",
      signed: "https://Answer.URL/mo/plivo?From2To1",
    },
    {
      name: "a POST to a URL without a path but with a query",
      method: "POST",
      url: "https://answer.url?b=2&a=1",
      body: "To=1&From=2",
      signed: "https://answer.url?a=1&b=2.From2To1",
    },
    {
      name: "a POST whose query and form repeat keys (sorted by key, then value)",
      method: "POST",
      url: "https://answer.url/mo?z=2&a=y&a=x",
      body: "b=2&A=y&A=x",
      signed: "https://answer.url/mo?a=x&a=y&z=2.AxAyb2",
    },
    {
      name: "a POST whose query is percent- and plus-encoded (signed decoded)",
      method: "POST",
      url: "https://answer.url/mo?q=a+b%26c&e=%C3%A9",
      body: "Text=Arr%C3%AAt+now",
      signed: "https://answer.url/mo?e=é&q=a b&c.TextArrêt now",
    },
    {
      name: "a POST without a body to a URL without a path but with a query",
      method: "POST",
      url: "https://answer.url?x=1",
      body: "",
      signed: "https://answer.url?x=1",
    },
    {
      name: "a POST without a body to a URL without a path",
      method: "POST",
      url: "https://answer.url",
      body: "",
      signed: "https://answer.url",
    },
    {
      name: "a GET to a URL without a path",
      method: "GET",
      url: "https://answer.url?To=1&From=2",
      body: "",
      signed: "https://answer.url?From=2&To=1",
    },
    {
      name: "a GET without a query to a URL without a path",
      method: "GET",
      url: "https://answer.url",
      body: "",
      signed: "https://answer.url",
    },
    {
      name: "a GET to an upper-case host with the default port and a fragment",
      method: "GET",
      url: "https://Answer.URL:443?b=1&a=2#x=3",
      body: "",
      signed: "https://Answer.URL:443?a=2&b=1",
    },
  ])("accepts a V3 signature over the URL as written: $name", async (row) => {
    const token = row.token ?? TOKEN;
    const nonce = row.nonce ?? NONCE;
    const signature = row.signature ?? hmacB64("sha256", token, `${row.signed}.${nonce}`);
    const req = {
      method: row.method,
      url: row.url,
      body: row.body,
      headers: { "x-plivo-signature-v3": signature, "x-plivo-signature-v3-nonce": nonce },
    };
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: token })).toEqual({ ok: true });
  });

  it.each([
    {
      name: "the SDK vector under another nonce",
      method: "POST",
      url: SDK_V3_URL,
      body: form(SDK_V3_PARAMS),
      nonce: "31627761595286130199",
      signature: "iAjE5QqI37mbkYe4w3jTMudqEzbDufdqi7sYwTu64e0=",
    },
    {
      name: "a slash added to a URL without a path",
      method: "POST",
      url: "https://answer.url",
      body: "To=1",
      signature: hmacB64("sha256", SDK_V3_TOKEN, `https://answer.url/?To1.${SDK_V3_NONCE}`),
    },
    {
      name: "the slash dropped from a URL whose path is a slash",
      method: "POST",
      url: "https://answer.url/",
      body: "To=1",
      signature: hmacB64("sha256", SDK_V3_TOKEN, `https://answer.url?To1.${SDK_V3_NONCE}`),
    },
    {
      name: "the default port dropped",
      method: "POST",
      url: "https://answer.url:443/mo/plivo",
      body: "To=1",
      signature: hmacB64("sha256", SDK_V3_TOKEN, `https://answer.url/mo/plivo?To1.${SDK_V3_NONCE}`),
    },
    {
      name: "the host lower-cased",
      method: "POST",
      url: "https://Answer.URL/mo/plivo",
      body: "To=1",
      signature: hmacB64("sha256", SDK_V3_TOKEN, `https://answer.url/mo/plivo?To1.${SDK_V3_NONCE}`),
    },
    {
      name: "the query left unsorted",
      method: "GET",
      url: "https://answer.url/mo?b=2&a=1",
      body: "",
      signature: hmacB64("sha256", SDK_V3_TOKEN, `https://answer.url/mo?b=2&a=1.${SDK_V3_NONCE}`),
    },
    {
      name: 'a "?" added to a GET without a query',
      method: "GET",
      url: "https://answer.url",
      body: "",
      signature: hmacB64("sha256", SDK_V3_TOKEN, `https://answer.url?.${SDK_V3_NONCE}`),
    },
  ])("refuses a V3 signature over another form of the URL: $name", async (row) => {
    const nonce = row.nonce ?? SDK_V3_NONCE;
    const req = {
      method: row.method,
      url: row.url,
      body: row.body,
      headers: { "x-plivo-signature-v3": row.signature, "x-plivo-signature-v3-nonce": nonce },
    };
    expect(await verifyWebhook({ provider: "plivo", request: req, secret: SDK_V3_TOKEN })).toEqual({
      ok: false,
      reason: "X-Plivo-Signature-V3 does not match",
    });
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
