import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DomainError,
  InboundProvider,
  parseInbound,
  signedWebhookUrl,
  verifyWebhook,
} from "../../src/index.ts";
import { NOW, post } from "./support.ts";

const URL = "https://optout.example.com/mo/x/acc_123";

describe("verifyWebhook, every provider", () => {
  it("refuses an unknown provider and an empty secret", async () => {
    expect(await verifyWebhook({ provider: "carrier-pigeon", request: post(URL, ""), secret: "s" })).toEqual({
      ok: false,
      reason: 'unknown provider "carrier-pigeon"',
    });
    expect(await verifyWebhook({ provider: "twilio", request: post(URL, ""), secret: "" })).toEqual({
      ok: false,
      reason: "no twilio secret is configured",
    });
  });

  it("never throws and never accepts arbitrary requests (property)", async () => {
    const headerName = fc.constantFrom(
      "x-twilio-signature",
      "authorization",
      "x-plivo-signature-v3",
      "x-plivo-signature-v3-nonce",
      "x-plivo-signature-v2",
      "telnyx-signature-ed25519",
      "telnyx-timestamp",
      "x-sinch-webhook-signature",
      "x-sinch-webhook-signature-nonce",
      "x-sinch-webhook-signature-timestamp",
      "messagebird-signature-jwt",
      "messagebird-signature",
      "messagebird-request-timestamp",
      "x-optout-signature",
      "x-hub-signature",
      "content-type",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...InboundProvider.options),
        fc.dictionary(headerName, fc.string({ maxLength: 60 })),
        fc.string({ maxLength: 200 }),
        fc.constantFrom(URL, `${URL}?bodySHA256=abc&sig=1&timestamp=${NOW}`, "not a url", ""),
        fc.constantFrom("GET", "POST"),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.constantFrom(undefined, "md5hash", "sha256", "hmac-sha256", "bogus"),
        async (provider, headers, body, url, method, secret, algorithm) => {
          const r = await verifyWebhook({
            provider,
            request: { method, url, headers, body },
            secret,
            options: { now: NOW, algorithm },
          });
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("parseInbound throws only DomainError on arbitrary bodies (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...InboundProvider.options),
        fc.string({ maxLength: 200 }),
        (provider, body) => {
          try {
            const messages = parseInbound({ provider, request: post(URL, body), now: NOW });
            expect(Array.isArray(messages)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("parseInbound refuses an unknown provider", () => {
    expect(() => parseInbound({ provider: "nope", request: post(URL, "{}") })).toThrow(DomainError);
  });
});

describe("signedWebhookUrl", () => {
  it.each([
    {
      name: "no public base URL",
      request: "http://127.0.0.1:8787/mo/twilio/acc_1?x=1",
      base: undefined,
      url: "http://127.0.0.1:8787/mo/twilio/acc_1?x=1",
    },
    {
      name: "custom domain",
      request: "http://worker.internal/mo/twilio/acc_1?x=1",
      base: "https://optout.example.com",
      url: "https://optout.example.com/mo/twilio/acc_1?x=1",
    },
    {
      name: "trailing slash and path prefix",
      request: "http://w/mo/plivo/acc_1",
      base: "https://example.com/optout/",
      url: "https://example.com/optout/mo/plivo/acc_1",
    },
  ])("$name", ({ request, base, url }) => {
    expect(signedWebhookUrl(request, base)).toBe(url);
  });
});
