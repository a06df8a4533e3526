import { describe, expect, it } from "vitest";
import { parseInbound, verifyWebhook } from "../../src/index.ts";
import { basic, hmacHex, NOW, post } from "./support.ts";

const URL = "https://optout.example.com/mo/infobip/acc_123";
const CREDENTIALS = "infobip-hook:s3cret-Pa55";

// Infobip "Receive inbound SMS messages" webhook (MO_JSON_2), keyword recognised by Infobip.
const INBOUND = JSON.stringify({
  results: [
    {
      messageId: "817790313235066447",
      from: "385916242493",
      to: "385921004026",
      text: "STOP",
      cleanText: "",
      keyword: "STOP",
      receivedAt: "2016-10-06T09:28:39.220+0000",
      smsCount: 1,
      price: { pricePerMessage: 0, currency: "EUR" },
      callbackData: "callbackData",
    },
    {
      messageId: "817790313235066448",
      from: "385916242494",
      to: "385921004026",
      text: "QUIZ Correct answer is Paris",
      cleanText: "Correct answer is Paris",
      keyword: "QUIZ",
      receivedAt: "2016-10-06T09:28:40.220+0000",
      smsCount: 1,
      price: { pricePerMessage: 0, currency: "EUR" },
    },
  ],
  messageCount: 2,
  pendingMessageCount: 0,
});

describe("infobip verifyWebhook", () => {
  it("accepts matching Basic credentials", async () => {
    const req = post(URL, INBOUND, { authorization: basic(CREDENTIALS) });
    expect(await verifyWebhook({ provider: "infobip", request: req, secret: CREDENTIALS })).toEqual({
      ok: true,
    });
  });

  it("refuses wrong, missing and non-Basic credentials", async () => {
    const wrong = post(URL, INBOUND, { authorization: basic("infobip-hook:guess") });
    expect(await verifyWebhook({ provider: "infobip", request: wrong, secret: CREDENTIALS })).toEqual({
      ok: false,
      reason: "Basic credentials do not match",
    });
    expect(
      (await verifyWebhook({ provider: "infobip", request: post(URL, INBOUND), secret: CREDENTIALS })).ok,
    ).toBe(false);
    const bearer = post(URL, INBOUND, { authorization: "Bearer abc" });
    expect((await verifyWebhook({ provider: "infobip", request: bearer, secret: CREDENTIALS })).ok).toBe(
      false,
    );
  });

  it("refuses a secret that is not user:password", async () => {
    const req = post(URL, INBOUND, { authorization: basic("a:b") });
    const r = await verifyWebhook({ provider: "infobip", request: req, secret: "nocolon" });
    expect(r.ok).toBe(false);
  });

  it("checks an HMAC-SHA256 body signature when configured (hmac-sha256)", async () => {
    const secret = "hmac-key";
    const good = post(URL, INBOUND, { "x-hub-signature": `sha256=${hmacHex("sha256", secret, INBOUND)}` });
    const options = { algorithm: "hmac-sha256" };
    expect(await verifyWebhook({ provider: "infobip", request: good, secret, options })).toEqual({
      ok: true,
    });
    const tampered = { ...good, body: INBOUND.replace("STOP", "STAR") };
    expect((await verifyWebhook({ provider: "infobip", request: tampered, secret, options })).ok).toBe(false);
    const forged = post(URL, INBOUND, { "x-infobip-signature": hmacHex("sha256", "guess", INBOUND) });
    expect((await verifyWebhook({ provider: "infobip", request: forged, secret, options })).ok).toBe(false);
  });
});

describe("infobip parseInbound", () => {
  it("reads every result, classifying the full text rather than cleanText", () => {
    const messages = parseInbound({ provider: "infobip", request: post(URL, INBOUND), now: NOW });
    expect(messages).toEqual([
      {
        provider: "infobip",
        providerMessageId: "817790313235066447",
        from: "+385916242493",
        to: "+385921004026",
        text: "STOP",
        receivedAt: "2016-10-06T09:28:39.220Z",
      },
      {
        provider: "infobip",
        providerMessageId: "817790313235066448",
        from: "+385916242494",
        to: "+385921004026",
        text: "QUIZ Correct answer is Paris",
        receivedAt: "2016-10-06T09:28:40.220Z",
      },
    ]);
  });

  it("returns no messages for a delivery report", () => {
    const report = JSON.stringify({
      results: [
        {
          bulkId: "BULK-ID-123-xyz",
          messageId: "MESSAGE-ID-123-xyz",
          to: "41793026727",
          sentAt: "2019-11-09T16:00:00.000+0000",
          doneAt: "2019-11-09T16:00:00.000+0000",
          smsCount: 1,
          status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" },
          error: { groupId: 0, groupName: "Ok", id: 0, name: "NO_ERROR", permanent: false },
        },
      ],
    });
    expect(parseInbound({ provider: "infobip", request: post(URL, report), now: NOW })).toEqual([]);
  });

  it("throws invalid_input for a truncated body and for a result without a sender", () => {
    expect(() =>
      parseInbound({ provider: "infobip", request: post(URL, INBOUND.slice(0, 120)), now: NOW }),
    ).toThrowError(expect.objectContaining({ code: "invalid_input" }));
    const noFrom = JSON.stringify({ results: [{ messageId: "1", to: "385921004026", text: "STOP" }] });
    expect(() => parseInbound({ provider: "infobip", request: post(URL, noFrom), now: NOW })).toThrowError(
      expect.objectContaining({ code: "invalid_input", message: expect.stringContaining("results[0]") }),
    );
  });
});
