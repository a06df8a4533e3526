import { describe, expect, it } from "vitest";
import { OptoutClient } from "../src/index.ts";

/** Records the request and answers like the edge would; only the client's URL and headers are under test. */
function recording() {
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(input), init });
    return new Response(JSON.stringify({ address: "+14155550100", allowed: true }), { status: 200 });
  };
  return { requests, fetch: fetch as typeof globalThis.fetch };
}

describe("OptoutClient options", () => {
  it.each([
    {
      name: "an origin",
      baseUrl: "https://optout.example.com",
      expected: "https://optout.example.com/v1/check",
    },
    {
      name: "a trailing slash",
      baseUrl: "https://optout.example.com/",
      expected: "https://optout.example.com/v1/check",
    },
    {
      name: "a path prefix",
      baseUrl: "https://api.example.com/optout",
      expected: "https://api.example.com/optout/v1/check",
    },
    {
      name: "a URL",
      baseUrl: new URL("https://api.example.com/optout/"),
      expected: "https://api.example.com/optout/v1/check",
    },
  ])("resolves paths against $name", async ({ baseUrl, expected }) => {
    const { requests, fetch } = recording();
    await new OptoutClient({ baseUrl, apiKey: "sk_test_1", fetch }).check({
      address: "+14155550100",
      sender: "ACME",
      channel: "sms",
    });
    expect(requests[0]!.url).toBe(`${expected}?address=%2B14155550100&sender=ACME&channel=sms`);
    expect(requests[0]!.init?.headers).toMatchObject({ authorization: "Bearer sk_test_1" });
  });

  it.each([
    { name: "no apiKey", options: { apiKey: "" } },
    { name: "negative retries", options: { retries: -1 } },
    { name: "fractional retries", options: { retries: 1.5 } },
    { name: "a zero timeout", options: { timeoutMs: 0 } },
  ])("refuses $name", ({ options }) => {
    expect(
      () => new OptoutClient({ baseUrl: "https://optout.example.com", apiKey: "sk_test_1", ...options }),
    ).toThrow(TypeError);
  });
});
