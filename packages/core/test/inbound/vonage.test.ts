import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { form, get, hmacHex, jwtHs, NOW, post, sha256Hex } from "./support.ts";

const SECRET = "vonageSignatureSecret123";
const URL = "https://optout.example.com/mo/vonage/acc_123";

/** Vonage's SMS signing, re-implemented from its "Signing messages" guide. */
function sign(params: Record<string, string>, method: string, secret = SECRET): string {
  const data = Object.keys(params)
    .filter((k) => k !== "sig")
    .sort()
    .map((k) => `&${k}=${params[k]!.replace(/[&=]/g, "_")}`)
    .join("");
  if (method === "md5hash")
    return createHash("md5")
      .update(data + secret)
      .digest("hex");
  return hmacHex(method, secret, data);
}

// The inbound-SMS webhook fields from Vonage's "Inbound SMS" guide.
const INBOUND = {
  msisdn: "447700900001",
  to: "447700900000",
  messageId: "0A0000000123ABCD1",
  text: "STOP",
  type: "text",
  keyword: "STOP",
  "api-key": "abcd1234",
  "message-timestamp": "2023-11-14 22:13:20",
  timestamp: String(NOW),
  nonce: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
};

describe("vonage SMS API signature (sig parameter)", () => {
  it("matches the vonage-python-sdk md5hash test vector", async () => {
    const url = "https://example.com/hook?a=1&b=2&timestamp=1461605396&sig=6af838ef94998832dbfc29020b564830";
    const r = await verifyWebhook({
      provider: "vonage",
      request: get(url),
      secret: "secret",
      options: { now: 1461605396 },
    });
    expect(r).toEqual({ ok: true });
  });

  it.each(["md5hash", "md5", "sha1", "sha256", "sha512"])("accepts a GET signed with %s", async (method) => {
    const params = { ...INBOUND, sig: sign(INBOUND, method) };
    const req = get(`${URL}?${form(params)}`);
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW, algorithm: method },
    });
    expect(r).toEqual({ ok: true });
  });

  it("accepts the SDKs' spelling of the method (sha256hmac) and upper-case hex", async () => {
    const params = { ...INBOUND, sig: sign(INBOUND, "sha256").toUpperCase() };
    const req = post(URL, form(params), { "content-type": "application/x-www-form-urlencoded" });
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW, algorithm: "sha256hmac" },
    });
    expect(r).toEqual({ ok: true });
  });

  it("accepts a signed POST-JSON inbound", async () => {
    const body = JSON.stringify({ ...INBOUND, sig: sign(INBOUND, "sha512") });
    const req = post(URL, body, { "content-type": "application/json" });
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW, algorithm: "sha512" },
    });
    expect(r).toEqual({ ok: true });
  });

  it("neutralizes & and = in values the way Vonage does", async () => {
    const params = { ...INBOUND, text: "a=b&c" };
    const req = get(`${URL}?${form({ ...params, sig: sign(params, "sha256") })}`);
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW, algorithm: "sha256" },
    });
    expect(r.ok).toBe(true);
  });

  it("refuses a forged signature", async () => {
    const req = get(`${URL}?${form({ ...INBOUND, sig: sign(INBOUND, "md5hash", "guess") })}`);
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: false, reason: "sig does not match" });
  });

  it("refuses a tampered text", async () => {
    const req = get(`${URL}?${form({ ...INBOUND, text: "START", sig: sign(INBOUND, "md5hash") })}`);
    expect(
      (await verifyWebhook({ provider: "vonage", request: req, secret: SECRET, options: { now: NOW } })).ok,
    ).toBe(false);
  });

  it("refuses a signature made with a different method than configured", async () => {
    const req = get(`${URL}?${form({ ...INBOUND, sig: sign(INBOUND, "sha1") })}`);
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW, algorithm: "sha256" },
    });
    expect(r.ok).toBe(false);
  });

  it("refuses a stale timestamp (replay)", async () => {
    const req = get(`${URL}?${form({ ...INBOUND, sig: sign(INBOUND, "md5hash") })}`);
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW + 301 },
    });
    expect(r).toEqual({ ok: false, reason: "timestamp parameter is outside the 300 s window" });
  });

  it("refuses an unsigned request and an unknown method", async () => {
    const unsigned = await verifyWebhook({
      provider: "vonage",
      request: get(`${URL}?${form(INBOUND)}`),
      secret: SECRET,
    });
    expect(unsigned.ok).toBe(false);
    const unknown = await verifyWebhook({
      provider: "vonage",
      request: get(`${URL}?${form({ ...INBOUND, sig: "00" })}`),
      secret: SECRET,
      options: { algorithm: "crc32" },
    });
    expect(unknown).toEqual({ ok: false, reason: 'unknown Vonage signature method "crc32"' });
  });
});

// Messages API inbound SMS (Messages API reference, "Inbound message" webhook).
const MESSAGES_INBOUND = JSON.stringify({
  channel: "sms",
  message_uuid: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
  to: "447700900000",
  from: "447700900001",
  timestamp: "2025-02-03T12:14:25Z",
  text: "Stop texting me",
  sms: { num_messages: "1", keyword: "STOP" },
  message_type: "text",
});

describe("vonage Messages API signature (JWT)", () => {
  const claims = (body: string) => ({
    iat: NOW,
    jti: "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5",
    iss: "Vonage",
    payload_hash: sha256Hex(body),
    api_key: "abcd1234",
    application_id: "aaaaaaaa-0000-1111-2222-333333333333",
  });

  it("accepts an HS256 bearer token over the body", async () => {
    const req = post(URL, MESSAGES_INBOUND, {
      authorization: `Bearer ${jwtHs("HS256", SECRET, claims(MESSAGES_INBOUND))}`,
      "content-type": "application/json",
    });
    expect(
      await verifyWebhook({ provider: "vonage", request: req, secret: SECRET, options: { now: NOW } }),
    ).toEqual({ ok: true });
  });

  it("refuses a token signed with another secret", async () => {
    const req = post(URL, MESSAGES_INBOUND, {
      authorization: `Bearer ${jwtHs("HS256", "other", claims(MESSAGES_INBOUND))}`,
    });
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: false, reason: "JWT signature does not match" });
  });

  it("refuses a tampered body (payload_hash)", async () => {
    const token = jwtHs("HS256", SECRET, claims(MESSAGES_INBOUND));
    const req = post(URL, MESSAGES_INBOUND.replace("Stop texting me", "Keep texting me"), {
      authorization: `Bearer ${token}`,
    });
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: false, reason: "JWT payload_hash does not match the body" });
  });

  it("refuses a stale iat", async () => {
    const req = post(URL, MESSAGES_INBOUND, {
      authorization: `Bearer ${jwtHs("HS256", SECRET, claims(MESSAGES_INBOUND))}`,
    });
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW + 3600 },
    });
    expect(r.ok).toBe(false);
  });

  it("refuses alg=none and unsigned tokens", async () => {
    const head = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const body = Buffer.from(JSON.stringify(claims(MESSAGES_INBOUND))).toString("base64url");
    const req = post(URL, MESSAGES_INBOUND, { authorization: `Bearer ${head}.${body}.` });
    const r = await verifyWebhook({
      provider: "vonage",
      request: req,
      secret: SECRET,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: false, reason: "JWT algorithm none is not accepted" });
  });
});

describe("vonage parseInbound", () => {
  it("reads an SMS API GET inbound, adding + to international numbers", () => {
    const [m] = parseInbound({ provider: "vonage", request: get(`${URL}?${form(INBOUND)}`), now: 0 });
    expect(m).toEqual({
      provider: "vonage",
      providerMessageId: "0A0000000123ABCD1",
      from: "+447700900001",
      to: "+447700900000",
      text: "STOP",
      receivedAt: "2023-11-14T22:13:20.000Z",
    });
  });

  it("reads an SMS API POST-JSON inbound", () => {
    const req = post(URL, JSON.stringify(INBOUND), { "content-type": "application/json" });
    expect(parseInbound({ provider: "vonage", request: req, now: NOW })[0]?.providerMessageId).toBe(
      "0A0000000123ABCD1",
    );
  });

  it("returns no messages for a delivery receipt", () => {
    const dlr = form({
      msisdn: "447700900001",
      to: "AcmeInc",
      "network-code": "12345",
      messageId: "0A0000001234567B",
      price: "0.03330000",
      status: "delivered",
      scts: "2001011400",
      "err-code": "0",
      "message-timestamp": "2020-01-01 12:00:00",
    });
    expect(parseInbound({ provider: "vonage", request: get(`${URL}?${dlr}`), now: NOW })).toEqual([]);
  });

  it("reads a Messages API inbound SMS", () => {
    const req = post(URL, MESSAGES_INBOUND, { "content-type": "application/json" });
    expect(parseInbound({ provider: "vonage", request: req, now: NOW })).toEqual([
      {
        provider: "vonage",
        providerMessageId: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        from: "+447700900001",
        to: "+447700900000",
        text: "Stop texting me",
        receivedAt: "2025-02-03T12:14:25.000Z",
      },
    ]);
  });

  it("returns no messages for a Messages API status webhook", () => {
    const status = JSON.stringify({
      message_uuid: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
      to: "447700900001",
      from: "447700900000",
      timestamp: "2025-02-03T12:14:25Z",
      status: "delivered",
      channel: "sms",
    });
    expect(parseInbound({ provider: "vonage", request: post(URL, status), now: NOW })).toEqual([]);
  });

  it("throws invalid_input for truncated JSON and for a message without msisdn", () => {
    const truncated = post(URL, MESSAGES_INBOUND.slice(0, 40), { "content-type": "application/json" });
    expect(() => parseInbound({ provider: "vonage", request: truncated, now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("not valid JSON") }),
    );
    const { msisdn: _, ...noSender } = INBOUND;
    expect(() =>
      parseInbound({ provider: "vonage", request: get(`${URL}?${form(noSender)}`), now: NOW }),
    ).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("msisdn") }),
    );
  });
});
