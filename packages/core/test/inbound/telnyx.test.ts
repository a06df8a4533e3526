import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { NOW, post } from "./support.ts";

const URL = "https://optout.example.com/mo/telnyx/acc_123";

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // Mission Control shows the raw 32-byte public key in base64.
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return { publicKeyBase64: raw.toString("base64"), privateKey };
}

const { publicKeyBase64, privateKey } = keyPair();
const other = keyPair();

function signed(body: string, timestamp = String(NOW), key = privateKey) {
  const signature = sign(null, Buffer.from(`${timestamp}|${body}`), key).toString("base64");
  return post(URL, body, {
    "telnyx-signature-ed25519": signature,
    "telnyx-timestamp": timestamp,
    "content-type": "application/json",
  });
}

// A message.received webhook as in Telnyx's "Receiving webhooks" messaging docs.
const RECEIVED = JSON.stringify({
  data: {
    event_type: "message.received",
    id: "b301ed3f-1490-491f-995f-6e64e69674d4",
    occurred_at: "2019-12-09T20:16:07.588+00:00",
    payload: {
      completed_at: null,
      cost: null,
      direction: "inbound",
      encoding: "GSM-7",
      errors: [],
      from: {
        carrier: "T-Mobile USA",
        line_type: "long_code",
        phone_number: "+13125550001",
        status: "webhook_delivered",
      },
      id: "84cca175-9755-4859-b67f-4730d7f58aa3",
      media: [],
      messaging_profile_id: "740572b6-099c-44a1-89b9-6c92163bc68d",
      parts: 1,
      received_at: "2019-12-09T20:16:07.503+00:00",
      record_type: "message",
      sent_at: null,
      tags: [],
      text: "STOP",
      to: [
        {
          carrier: "Telnyx",
          line_type: "Wireless",
          phone_number: "+17735550002",
          status: "webhook_delivered",
        },
      ],
      type: "SMS",
      valid_until: null,
      webhook_failover_url: null,
      webhook_url: "https://optout.example.com/mo/telnyx/acc_123",
    },
    record_type: "event",
  },
  meta: { attempt: 1, delivered_to: "https://optout.example.com/mo/telnyx/acc_123" },
});

describe("telnyx verifyWebhook (Ed25519 via WebCrypto)", () => {
  it("accepts a valid signature", async () => {
    const r = await verifyWebhook({
      provider: "telnyx",
      request: signed(RECEIVED),
      secret: publicKeyBase64,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: true });
  });

  it("refuses a signature from another key (forged)", async () => {
    const r = await verifyWebhook({
      provider: "telnyx",
      request: signed(RECEIVED, String(NOW), other.privateKey),
      secret: publicKeyBase64,
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: false, reason: "telnyx-signature-ed25519 does not match" });
  });

  it("refuses a tampered body and a moved timestamp", async () => {
    const req = signed(RECEIVED);
    const tampered = { ...req, body: RECEIVED.replace('"STOP"', '"HELP"') };
    expect(
      (
        await verifyWebhook({
          provider: "telnyx",
          request: tampered,
          secret: publicKeyBase64,
          options: { now: NOW },
        })
      ).ok,
    ).toBe(false);
    const moved = {
      ...req,
      headers: { ...(req.headers as Record<string, string>), "telnyx-timestamp": String(NOW + 1) },
    };
    expect(
      (
        await verifyWebhook({
          provider: "telnyx",
          request: moved,
          secret: publicKeyBase64,
          options: { now: NOW },
        })
      ).ok,
    ).toBe(false);
  });

  it("refuses a stale timestamp (replay after 300 s)", async () => {
    const r = await verifyWebhook({
      provider: "telnyx",
      request: signed(RECEIVED),
      secret: publicKeyBase64,
      options: { now: NOW + 301 },
    });
    expect(r).toEqual({ ok: false, reason: "telnyx-timestamp header is outside the 300 s window" });
  });

  it("reports malformed signatures and keys instead of throwing", async () => {
    const bad = {
      ...signed(RECEIVED),
      headers: { "telnyx-signature-ed25519": "not base64!", "telnyx-timestamp": String(NOW) },
    };
    expect(
      (
        await verifyWebhook({
          provider: "telnyx",
          request: bad,
          secret: publicKeyBase64,
          options: { now: NOW },
        })
      ).ok,
    ).toBe(false);
    const r = await verifyWebhook({
      provider: "telnyx",
      request: signed(RECEIVED),
      secret: "c2hvcnQ=",
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: false, reason: "configured Telnyx public key is not 32 bytes of base64" });
  });
});

describe("telnyx parseInbound", () => {
  it("reads message.received", () => {
    expect(parseInbound({ provider: "telnyx", request: signed(RECEIVED), now: NOW })).toEqual([
      {
        provider: "telnyx",
        providerMessageId: "84cca175-9755-4859-b67f-4730d7f58aa3",
        from: "+13125550001",
        to: "+17735550002",
        text: "STOP",
        receivedAt: "2019-12-09T20:16:07.503Z",
      },
    ]);
  });

  it("returns no messages for message.sent / message.finalized", () => {
    const finalized = RECEIVED.replace("message.received", "message.finalized");
    expect(parseInbound({ provider: "telnyx", request: post(URL, finalized), now: NOW })).toEqual([]);
  });

  it("throws invalid_input for a payload without a sender", () => {
    const broken = JSON.stringify({
      data: { event_type: "message.received", payload: { id: "x", to: [], text: "STOP" } },
    });
    expect(() => parseInbound({ provider: "telnyx", request: post(URL, broken), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("from") }),
    );
  });
});
