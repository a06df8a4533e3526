import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bearer, call, callJson, createAccount, expectError, expectStatus } from "../../../test/helpers.ts";

const SECRET = "twilio-auth-token-never-shown-0001";

describe("PUT /v1/providers/{provider}", () => {
  it("stores the credential, answers with the webhook URL, never with the secret", async () => {
    const account = await createAccount();
    const res = await callJson("PUT", "/v1/providers/twilio", account.apiKey, { secret: SECRET });
    const body = await expectStatus(res, 200);
    expect(body).toEqual({
      provider: "twilio",
      options: {},
      webhookUrl: `https://edge.test/mo/twilio/${account.id}`,
      eventsUrl: `https://edge.test/events/twilio/${account.id}`,
      sendConfigured: false,
      createdAt: expect.any(String),
      updatedAt: body.createdAt,
    });
    expect(JSON.stringify(body)).not.toContain(SECRET);

    const listing = await call("/v1/providers", { headers: bearer(account.apiKey) });
    const text = await listing.text();
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text).items).toEqual([body]);
  });

  it("replaces an earlier credential and keeps options", async () => {
    const account = await createAccount();
    await expectStatus(
      await callJson("PUT", "/v1/providers/vonage", account.apiKey, {
        secret: "first",
        options: { algorithm: "sha256" },
      }),
      200,
    );
    const second = await expectStatus(
      await callJson("PUT", "/v1/providers/vonage", account.apiKey, {
        secret: "second",
        options: { algorithm: "sha512" },
      }),
      200,
    );
    expect(second.options).toEqual({ algorithm: "sha512" });
    const row = await env.DB.prepare("SELECT secret FROM provider_credentials WHERE account_id = ?")
      .bind(account.id)
      .first<{ secret: string }>();
    expect(row?.secret).toBe("second");
  });

  it.each([
    { name: "an unknown provider", path: "/v1/providers/nexmo", body: { secret: "x" } },
    { name: "an empty secret", path: "/v1/providers/twilio", body: { secret: "" } },
    { name: "an unknown field", path: "/v1/providers/twilio", body: { secret: "x", region: "us" } },
    {
      name: "a Basic provider without user:password",
      path: "/v1/providers/bandwidth",
      body: { secret: "nocolon" },
    },
    {
      name: "a Telnyx API key instead of the public key",
      path: "/v1/providers/telnyx",
      body: { secret: "KEY01ABC" },
    },
    {
      name: "an unknown Vonage method",
      path: "/v1/providers/vonage",
      body: { secret: "x", options: { algorithm: "crc" } },
    },
  ])("refuses $name with 400 and stores nothing", async ({ path, body }) => {
    const account = await createAccount();
    const message = await expectError(
      await callJson("PUT", path, account.apiKey, body),
      400,
      "invalid_input",
    );
    expect(message).not.toContain("nocolon");
    const listing = await expectStatus(await call("/v1/providers", { headers: bearer(account.apiKey) }), 200);
    expect(listing.items).toEqual([]);
  });
});

describe("DELETE /v1/providers/{provider}", () => {
  it("removes the credential: the webhook answers 404 afterwards", async () => {
    const account = await createAccount();
    await expectStatus(
      await callJson("PUT", "/v1/providers/generic", account.apiKey, { secret: "whsec" }),
      200,
    );
    await expectStatus(
      await call("/v1/providers/generic", { method: "DELETE", headers: bearer(account.apiKey) }),
      200,
    );
    await expectError(
      await call("/v1/providers/generic", { method: "DELETE", headers: bearer(account.apiKey) }),
      404,
      "not_found",
    );
    await expectError(
      await call(`/mo/generic/${account.id}`, { method: "POST", body: "{}" }),
      404,
      "not_found",
    );
  });
});
