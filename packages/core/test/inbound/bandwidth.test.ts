import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { basic, NOW, post } from "./support.ts";

const URL = "https://optout.example.com/mo/bandwidth/acc_123";
const CREDENTIALS = "bw-callback:0nly-Bandwidth-knows";

// Bandwidth Messaging v2 "Message received" callback.
const RECEIVED = JSON.stringify([
  {
    type: "message-received",
    time: "2016-09-14T18:20:16Z",
    description: "Incoming message received",
    to: "+12345678902",
    message: {
      id: "14762070468292kw2fuqty55yp2b2",
      time: "2016-09-14T18:20:16Z",
      to: ["+12345678902"],
      from: "+12345678901",
      text: "Unsubscribe",
      applicationId: "93de2206-9669-4e07-948d-329f4b722ee2",
      media: [],
      owner: "+12345678902",
      direction: "in",
      segmentCount: 1,
    },
  },
]);

describe("bandwidth verifyWebhook (Basic)", () => {
  it("accepts the application's callback credentials", async () => {
    const req = post(URL, RECEIVED, { authorization: basic(CREDENTIALS) });
    expect(await verifyWebhook({ provider: "bandwidth", request: req, secret: CREDENTIALS })).toEqual({
      ok: true,
    });
  });

  it("refuses other credentials, missing ones and malformed ones", async () => {
    for (const authorization of [
      basic("bw-callback:guess"),
      basic(`${CREDENTIALS}x`),
      "Basic ###",
      "Digest abc",
    ]) {
      const r = await verifyWebhook({
        provider: "bandwidth",
        request: post(URL, RECEIVED, { authorization }),
        secret: CREDENTIALS,
      });
      expect(r.ok).toBe(false);
    }
    const missing = await verifyWebhook({
      provider: "bandwidth",
      request: post(URL, RECEIVED),
      secret: CREDENTIALS,
    });
    expect(missing).toEqual({ ok: false, reason: "missing Authorization header" });
  });
});

describe("bandwidth parseInbound", () => {
  it("reads message-received events", () => {
    expect(parseInbound({ provider: "bandwidth", request: post(URL, RECEIVED), now: NOW })).toEqual([
      {
        provider: "bandwidth",
        providerMessageId: "14762070468292kw2fuqty55yp2b2",
        from: "+12345678901",
        to: "+12345678902",
        text: "Unsubscribe",
        receivedAt: "2016-09-14T18:20:16.000Z",
      },
    ]);
  });

  it("skips delivery callbacks in the same batch", () => {
    const batch = JSON.stringify([
      {
        type: "message-delivered",
        time: "2016-09-14T18:20:17Z",
        description: "ok",
        to: "+12345678901",
        message: { id: "1476", from: "+12345678902", to: ["+12345678901"], text: "", direction: "out" },
      },
      ...JSON.parse(RECEIVED),
    ]);
    expect(parseInbound({ provider: "bandwidth", request: post(URL, batch), now: NOW })).toHaveLength(1);
  });

  it("throws invalid_input for a truncated body and an event without a message id", () => {
    expect(() =>
      parseInbound({ provider: "bandwidth", request: post(URL, RECEIVED.slice(0, -3)), now: NOW }),
    ).toThrowError(expect.objectContaining({ code: "invalid_input" }));
    const broken = JSON.stringify([
      { type: "message-received", to: "+1234", message: { from: "+1", text: "STOP" } },
    ]);
    expect(() => parseInbound({ provider: "bandwidth", request: post(URL, broken), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("event[0]") }),
    );
  });
});
