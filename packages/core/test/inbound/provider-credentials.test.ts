import { describe, expect, it } from "vitest";
import {
  type InboundProvider,
  ProviderCredentialsInput,
  providerCredentialsProblem,
} from "../../src/index.ts";

const TELNYX_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

describe("providerCredentialsProblem", () => {
  it.each<{ name: string; provider: InboundProvider; body: unknown; problem: RegExp | null }>([
    { name: "a Twilio auth token", provider: "twilio", body: { secret: "token" }, problem: null },
    {
      name: "Vonage sha256",
      provider: "vonage",
      body: { secret: "s", options: { algorithm: "sha256" } },
      problem: null,
    },
    { name: "Vonage default md5hash", provider: "vonage", body: { secret: "s" }, problem: null },
    {
      name: "Vonage with an unknown method",
      provider: "vonage",
      body: { secret: "s", options: { algorithm: "crc32" } },
      problem: /options\.algorithm/,
    },
    { name: "Infobip Basic", provider: "infobip", body: { secret: "user:pass" }, problem: null },
    {
      name: "Infobip Basic without a colon",
      provider: "infobip",
      body: { secret: "userpass" },
      problem: /^secret: .*username:password/,
    },
    {
      name: "Infobip HMAC",
      provider: "infobip",
      body: { secret: "k", options: { algorithm: "hmac-sha256" } },
      problem: null,
    },
    {
      name: "Bandwidth without a colon",
      provider: "bandwidth",
      body: { secret: "userpass" },
      problem: /^secret/,
    },
    { name: "a Telnyx public key", provider: "telnyx", body: { secret: TELNYX_KEY }, problem: null },
    {
      name: "a Telnyx API key instead of the public key",
      provider: "telnyx",
      body: { secret: "KEY0123456789" },
      problem: /^secret: .*32 bytes/,
    },
    {
      name: "an algorithm for Twilio",
      provider: "twilio",
      body: { secret: "t", options: { algorithm: "sha1" } },
      problem: /options\.algorithm/,
    },
  ])("$name", ({ provider, body, problem }) => {
    const result = providerCredentialsProblem(provider, ProviderCredentialsInput.parse(body));
    if (problem === null) expect(result).toBeNull();
    else expect(result).toMatch(problem);
  });

  it("never echoes the secret", () => {
    const secret = "very-secret-value-without-colon";
    expect(providerCredentialsProblem("bandwidth", ProviderCredentialsInput.parse({ secret }))).not.toContain(
      secret,
    );
  });

  it("refuses unknown fields and an empty secret", () => {
    expect(ProviderCredentialsInput.safeParse({ secret: "" }).success).toBe(false);
    expect(ProviderCredentialsInput.safeParse({ secret: "x", extra: 1 }).success).toBe(false);
    expect(ProviderCredentialsInput.safeParse({ secret: "x", options: { now: 1 } }).success).toBe(false);
  });
});
