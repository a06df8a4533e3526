import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { basic, hmacB64, NOW, post } from "./support.ts";

const URL = "https://optout.example.com/mo/sinch/acc_123";

// Test vector from the Sinch .NET SDK (Conversation webhooks ValidateRequest test).
const VECTOR_BODY =
  '{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":"48123456789","app_id":""}],"display_name":"New Test Contact","email":"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},"message_metadata":""}';
const VECTOR_HEADERS = {
  "x-sinch-webhook-signature-nonce": "01FJA8B4A7BM43YGWSG9GBV067",
  "x-sinch-webhook-signature-timestamp": "1634579353",
  "x-sinch-webhook-signature": "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=",
};

// SMS REST API MO callback (Sinch SMS API "Inbounds" webhook, type mo_text).
const MO_TEXT = JSON.stringify({
  type: "mo_text",
  id: "01FC66621XXXXX119Z8PMV1QPQ",
  from: "12015555555",
  to: "12017777777",
  body: "Baja",
  operator_id: "310260",
  received_at: "2022-08-24T14:15:22Z",
  sent_at: "2022-08-24T14:15:21Z",
});

function signed(body: string, secret: string, timestamp = String(NOW), nonce = "01HNONCE0000000000000000") {
  return post(URL, body, {
    "content-type": "application/json",
    "x-sinch-webhook-signature": hmacB64("sha256", secret, `${body}.${nonce}.${timestamp}`),
    "x-sinch-webhook-signature-nonce": nonce,
    "x-sinch-webhook-signature-timestamp": timestamp,
    "x-sinch-webhook-signature-algorithm": "HmacSHA256",
  });
}

describe("sinch verifyWebhook", () => {
  it("accepts the Sinch SDK's signed-callback test vector", async () => {
    const r = await verifyWebhook({
      provider: "sinch",
      request: post(URL, VECTOR_BODY, VECTOR_HEADERS),
      secret: "foo_secret1234",
      options: { now: 1634579353 },
    });
    expect(r).toEqual({ ok: true });
  });

  it("refuses the vector with a tampered body, another secret, or too late", async () => {
    const tampered = post(URL, VECTOR_BODY.replace("New Test Contact", "New Test Contacu"), VECTOR_HEADERS);
    expect(
      (
        await verifyWebhook({
          provider: "sinch",
          request: tampered,
          secret: "foo_secret1234",
          options: { now: 1634579353 },
        })
      ).ok,
    ).toBe(false);
    const forged = post(URL, VECTOR_BODY, VECTOR_HEADERS);
    expect(
      (
        await verifyWebhook({
          provider: "sinch",
          request: forged,
          secret: "guess",
          options: { now: 1634579353 },
        })
      ).ok,
    ).toBe(false);
    const stale = await verifyWebhook({
      provider: "sinch",
      request: post(URL, VECTOR_BODY, VECTOR_HEADERS),
      secret: "foo_secret1234",
      options: { now: 1634579353 + 301 },
    });
    expect(stale).toEqual({
      ok: false,
      reason: "x-sinch-webhook-signature-timestamp header is outside the 300 s window",
    });
  });

  it("accepts HmacSHA512 when the algorithm header says so", async () => {
    const nonce = "n1";
    const body = MO_TEXT;
    const req = post(URL, body, {
      "x-sinch-webhook-signature": hmacB64("sha512", "s", `${body}.${nonce}.${NOW}`),
      "x-sinch-webhook-signature-nonce": nonce,
      "x-sinch-webhook-signature-timestamp": String(NOW),
      "x-sinch-webhook-signature-algorithm": "HmacSHA512",
    });
    expect(
      await verifyWebhook({ provider: "sinch", request: req, secret: "s", options: { now: NOW } }),
    ).toEqual({ ok: true });
  });

  it("accepts Basic credentials for SMS API callbacks without signature headers", async () => {
    const req = post(URL, MO_TEXT, { authorization: basic("sinch:pw") });
    expect(await verifyWebhook({ provider: "sinch", request: req, secret: "sinch:pw" })).toEqual({
      ok: true,
    });
    const wrong = post(URL, MO_TEXT, { authorization: basic("sinch:nope") });
    expect((await verifyWebhook({ provider: "sinch", request: wrong, secret: "sinch:pw" })).ok).toBe(false);
    expect(
      (await verifyWebhook({ provider: "sinch", request: post(URL, MO_TEXT), secret: "sinch:pw" })).ok,
    ).toBe(false);
  });

  it("checks a freshly signed MO", async () => {
    expect(
      await verifyWebhook({
        provider: "sinch",
        request: signed(MO_TEXT, "k"),
        secret: "k",
        options: { now: NOW },
      }),
    ).toEqual({ ok: true });
  });
});

describe("sinch parseInbound", () => {
  it("reads an SMS API mo_text callback", () => {
    expect(parseInbound({ provider: "sinch", request: post(URL, MO_TEXT), now: NOW })).toEqual([
      {
        provider: "sinch",
        providerMessageId: "01FC66621XXXXX119Z8PMV1QPQ",
        from: "+12015555555",
        to: "+12017777777",
        text: "Baja",
        receivedAt: "2022-08-24T14:15:22.000Z",
      },
    ]);
  });

  it("reads a Conversation API inbound SMS and ignores other triggers", () => {
    const inbound = JSON.stringify({
      app_id: "01EB37HMH1M6SV18ASNS3G135H",
      accepted_time: "2020-11-17T15:09:11.659Z",
      event_time: "2020-11-17T15:09:11.659Z",
      project_id: "c36f3d3d-1523-4edd-ae42-11995557ff61",
      message: {
        id: "01EQBC1A3BEK731GY4YXEN0C2R",
        direction: "TO_APP",
        contact_message: { text_message: { text: "Stop please" } },
        channel_identity: { channel: "SMS", identity: "46732000000", app_id: "01EB37HMH1M6SV18ASNS3G135H" },
        conversation_id: "01EQBC1A3BEK731GY4YXEN0C2R",
        contact_id: "01EQ4174TXFQ0T7A8D7A5V4QE5",
        metadata: "",
        accept_time: "2020-11-17T15:09:11.659Z",
      },
      message_metadata: "",
    });
    const [m] = parseInbound({ provider: "sinch", request: post(URL, inbound), now: NOW });
    expect(m).toMatchObject({
      providerMessageId: "01EQBC1A3BEK731GY4YXEN0C2R",
      from: "+46732000000",
      text: "Stop please",
    });
    expect(parseInbound({ provider: "sinch", request: post(URL, VECTOR_BODY), now: NOW })).toEqual([]);
  });

  it("returns no messages for delivery reports", () => {
    const report = JSON.stringify({
      type: "delivery_report_sms",
      batch_id: "01FC66621XXXXX119Z8PMV1QPQ",
      statuses: [{ code: 0, count: 1, status: "Delivered" }],
      total_message_count: 1,
    });
    expect(parseInbound({ provider: "sinch", request: post(URL, report), now: NOW })).toEqual([]);
  });

  it("throws invalid_input for a mo_text without from, and for an unknown shape", () => {
    const broken = JSON.stringify({ type: "mo_text", id: "1", to: "12017777777", body: "STOP" });
    expect(() => parseInbound({ provider: "sinch", request: post(URL, broken), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("from") }),
    );
    expect(() => parseInbound({ provider: "sinch", request: post(URL, "{}"), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input" }),
    );
  });
});
