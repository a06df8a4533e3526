import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { MB_NOW, MB_SECRET, MESSAGEBIRD_VECTORS } from "./messagebird-vectors.ts";
import { form, get, hmacB64, NOW, post } from "./support.ts";

describe("messagebird MessageBird-Signature-JWT (SDK reference vectors)", () => {
  it.each(MESSAGEBIRD_VECTORS)("$name", async ({ url, payload, token, reason }) => {
    const r = await verifyWebhook({
      provider: "messagebird",
      request: post(url, payload, { "messagebird-signature-jwt": token }),
      secret: MB_SECRET,
      options: { now: MB_NOW },
    });
    expect(r).toEqual(reason === null ? { ok: true } : { ok: false, reason });
  });

  it("tolerates 5 s of clock skew past exp, not more", async () => {
    const v = MESSAGEBIRD_VECTORS[0]!;
    const request = post(v.url, v.payload, { "messagebird-signature-jwt": v.token });
    // exp is nbf + 60.
    expect(
      (
        await verifyWebhook({
          provider: "messagebird",
          request,
          secret: MB_SECRET,
          options: { now: MB_NOW + 64 },
        })
      ).ok,
    ).toBe(true);
    expect(
      (
        await verifyWebhook({
          provider: "messagebird",
          request,
          secret: MB_SECRET,
          options: { now: MB_NOW + 65 },
        })
      ).ok,
    ).toBe(false);
  });
});

// Bird Channels API: an inbound SMS (Bird "Receiving messages" sample) as the webhook delivers it.
const BIRD_URL = "https://optout.example.com/mo/messagebird/acc_123";
const BIRD_INBOUND = JSON.stringify({
  service: "channels",
  event: "sms.inbound",
  payload: {
    id: "96a0b5fa-a986-453d-be5c-3117f989f025",
    channelId: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
    sender: {
      contact: {
        id: "32cf5eee-f940-422c-ab8c-5f753aad5efd",
        identifierKey: "phonenumber",
        identifierValue: "+31612345678",
      },
    },
    receiver: { connector: { id: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f" } },
    body: { type: "text", text: { text: "Stop" } },
    parts: [{ platformReference: "e8077d803532c0b5937c639b60216938" }],
    status: "delivered",
    direction: "incoming",
    lastStatusAt: "2022-12-22T08:32:50.736Z",
    createdAt: "2022-12-22T08:32:50.736Z",
    updatedAt: "2022-12-22T08:32:50.736Z",
  },
});

function birdSigned(body: string, key: string, timestamp = String(NOW), url = BIRD_URL) {
  const bodyHash = createHash("sha256").update(body).digest();
  const data = Buffer.concat([Buffer.from(`${timestamp}\n${url}\n`), bodyHash]);
  return post(url, body, {
    "messagebird-signature": hmacB64("sha256", key, data),
    "messagebird-request-timestamp": timestamp,
    "content-type": "application/json",
  });
}

describe("messagebird Bird messagebird-signature", () => {
  it("accepts a valid signature", async () => {
    const r = await verifyWebhook({
      provider: "messagebird",
      request: birdSigned(BIRD_INBOUND, "key"),
      secret: "key",
      options: { now: NOW },
    });
    expect(r).toEqual({ ok: true });
  });

  it("refuses a forged signature, a tampered body, another URL and a stale timestamp", async () => {
    const opts = { now: NOW };
    const forged = birdSigned(BIRD_INBOUND, "guess");
    expect(
      (await verifyWebhook({ provider: "messagebird", request: forged, secret: "key", options: opts })).ok,
    ).toBe(false);
    const tampered = { ...birdSigned(BIRD_INBOUND, "key"), body: BIRD_INBOUND.replace('"Stop"', '"Stay"') };
    expect(
      (await verifyWebhook({ provider: "messagebird", request: tampered, secret: "key", options: opts })).ok,
    ).toBe(false);
    const moved = { ...birdSigned(BIRD_INBOUND, "key"), url: `${BIRD_URL}x` };
    expect(
      (await verifyWebhook({ provider: "messagebird", request: moved, secret: "key", options: opts })).ok,
    ).toBe(false);
    const stale = await verifyWebhook({
      provider: "messagebird",
      request: birdSigned(BIRD_INBOUND, "key"),
      secret: "key",
      options: { now: NOW + 600 },
    });
    expect(stale).toEqual({
      ok: false,
      reason: "messagebird-request-timestamp header is outside the 300 s window",
    });
  });

  it("refuses a request with neither signature header", async () => {
    const r = await verifyWebhook({
      provider: "messagebird",
      request: post(BIRD_URL, BIRD_INBOUND),
      secret: "key",
    });
    expect(r.ok).toBe(false);
  });
});

describe("messagebird parseInbound", () => {
  it("reads a Bird sms.inbound event", () => {
    expect(
      parseInbound({ provider: "messagebird", request: birdSigned(BIRD_INBOUND, "k"), now: NOW }),
    ).toEqual([
      {
        provider: "messagebird",
        providerMessageId: "96a0b5fa-a986-453d-be5c-3117f989f025",
        from: "+31612345678",
        to: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
        text: "Stop",
        receivedAt: "2022-12-22T08:32:50.736Z",
      },
    ]);
  });

  it("reads the legacy MessageBird SMS forward (GET query)", () => {
    const query = form({
      id: "e8077d803532c0b5937c639b60216938",
      recipient: "31642500190",
      originator: "31612345678",
      body: "This is an incoming message",
      createdDatetime: "2016-05-03T14:26:57+00:00",
    });
    expect(parseInbound({ provider: "messagebird", request: get(`${BIRD_URL}?${query}`), now: NOW })).toEqual(
      [
        {
          provider: "messagebird",
          providerMessageId: "e8077d803532c0b5937c639b60216938",
          from: "+31612345678",
          to: "+31642500190",
          text: "This is an incoming message",
          receivedAt: "2016-05-03T14:26:57.000Z",
        },
      ],
    );
  });

  it("reads a Conversations message.created for a received SMS, and skips sent ones", () => {
    const created = (direction: string) =>
      JSON.stringify({
        type: "message.created",
        contact: { id: "9354647c5a144d2b8e5b3b4c6a1b2d11", msisdn: 31612345678 },
        message: {
          id: "e60ca497-0cf3-4c52-9ff2-1f1c2c7e4a5c",
          conversationId: "2e15efafec384e1c82e9842075e87beb",
          platform: "sms",
          to: "31642500190",
          from: "31612345678",
          channelId: "619747f69cf940a98fb443140ce9aed2",
          direction,
          status: "received",
          content: { text: "unsubscribe" },
          createdDatetime: "2020-01-02T10:11:12Z",
        },
      });
    expect(
      parseInbound({ provider: "messagebird", request: post(BIRD_URL, created("received")), now: NOW })[0],
    ).toMatchObject({
      from: "+31612345678",
      text: "unsubscribe",
    });
    expect(
      parseInbound({ provider: "messagebird", request: post(BIRD_URL, created("sent")), now: NOW }),
    ).toEqual([]);
  });

  it("returns no messages for other Bird events and throws for malformed ones", () => {
    const outbound = BIRD_INBOUND.replace("sms.inbound", "sms.outbound");
    expect(parseInbound({ provider: "messagebird", request: post(BIRD_URL, outbound), now: NOW })).toEqual(
      [],
    );
    const broken = JSON.stringify({ service: "channels", event: "sms.inbound", payload: { id: "1" } });
    expect(() =>
      parseInbound({ provider: "messagebird", request: post(BIRD_URL, broken), now: NOW }),
    ).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("sender") }),
    );
  });
});
