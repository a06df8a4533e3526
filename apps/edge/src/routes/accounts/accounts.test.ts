import { env } from "cloudflare:workers";
import { API_KEY_FORMAT, sha256Hex } from "@optout/core";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, bearer, call, callJson, expectError, expectStatus } from "../../../test/helpers.ts";

describe("POST /v1/accounts", () => {
  it("creates an account and shows its key once, storing only the key's hash", async () => {
    const created = await expectStatus(
      await callJson("POST", "/v1/accounts", ADMIN_TOKEN, { name: "Acme", defaultRegion: "GB" }),
      201,
    );
    expect(created).toMatchObject({ name: "Acme", defaultRegion: "GB" });
    expect(created.id).toMatch(/^acc_/);
    // Test environment: test keys by default.
    expect(created.apiKey).toMatch(/^sk_test_/);
    expect(created.apiKey).toMatch(API_KEY_FORMAT);

    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE account_id = ?").bind(created.id).all();
    expect(stored.results).toHaveLength(1);
    expect(JSON.stringify(stored.results)).not.toContain(created.apiKey);
    expect(stored.results[0]).toMatchObject({ key_hash: await sha256Hex(created.apiKey), revoked_at: null });

    // The key works at once.
    await expectStatus(await call("/v1/blocklist", { headers: bearer(created.apiKey) }), 200);
  });

  it("issues live keys when asked", async () => {
    const created = await expectStatus(
      await callJson("POST", "/v1/accounts", ADMIN_TOKEN, { name: "Live", mode: "live" }),
      201,
    );
    expect(created.apiKey).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
    expect(created.defaultRegion).toBeNull();
  });

  it.each([
    { name: "a missing name", body: {}, code: "invalid_input" },
    { name: "an empty name", body: { name: "  " }, code: "invalid_input" },
    { name: "an unknown field", body: { name: "x", plan: "gold" }, code: "invalid_input" },
    { name: "a lower-case region", body: { name: "x", defaultRegion: "us" }, code: "invalid_input" },
    { name: "malformed JSON", body: "{name:", code: "malformed_json" },
  ])("rejects $name with 400 $code and creates nothing", async ({ body, code }) => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first("n");
    await expectError(await callJson("POST", "/v1/accounts", ADMIN_TOKEN, body), 400, code);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first("n")).toBe(before);
  });

  it("rejects a wrong content type with 415", async () => {
    const res = await call("/v1/accounts", {
      method: "POST",
      headers: { ...bearer(ADMIN_TOKEN), "content-type": "text/plain" },
      body: JSON.stringify({ name: "x" }),
    });
    await expectError(res, 415, "unsupported_media_type");
  });
});

describe("admin auth", () => {
  it("accepts the bearer scheme in any case", async () => {
    const res = await call("/v1/accounts", {
      method: "POST",
      headers: { authorization: `bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "case" }),
    });
    await expectStatus(res, 201);
  });
});
