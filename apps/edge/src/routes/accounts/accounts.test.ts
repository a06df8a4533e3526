import { env } from "cloudflare:workers";
import { API_KEY_FORMAT, sha256Hex } from "@optout/core";
import { describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  bearer,
  block,
  call,
  callJson,
  check,
  createAccount,
  expectError,
  expectStatus,
} from "../../../test/helpers.ts";
import { configureProvider, expectReply, mo, postMo, repliesOf } from "../../../test/mo.ts";

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
    { name: "an unknown region", body: { name: "x", defaultRegion: "ZZ" }, code: "invalid_input" },
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

describe("POST /v1/accounts: the default region", () => {
  it.each([
    { name: "an unassigned code", region: "ZZ" },
    { name: "a reserved code", region: "EU" },
    { name: "the UK's informal code", region: "UK" },
    { name: "an alpha-3 code", region: "USA" },
  ])("refuses $name with 400 invalid_input naming the field, and creates nothing", async ({ region }) => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first("n");
    const message = await expectError(
      await callJson("POST", "/v1/accounts", ADMIN_TOKEN, { name: "x", defaultRegion: region }),
      400,
      "invalid_input",
    );
    expect(message).toMatch(/^defaultRegion: /);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first("n")).toBe(before);
  });

  it("accepts a region libphonenumber-js supports that is not a country (Kosovo's XK)", async () => {
    const created = await createAccount({ defaultRegion: "XK" });
    await expectStatus(await block(created, { address: "+14155550801" }), 201);
  });
});

describe("PATCH /v1/accounts/{id}", () => {
  const patch = (id: string, body: unknown, token: string | null = ADMIN_TOKEN) =>
    callJson("PATCH", `/v1/accounts/${id}`, token, body);
  const profile = (id: string) =>
    env.DB.prepare("SELECT name, default_region AS defaultRegion FROM accounts WHERE id = ?")
      .bind(id)
      .first();

  it("renames an account and answers { id, name, defaultRegion }, never a key", async () => {
    const account = await createAccount({ name: "Old name", defaultRegion: "US" });
    const res = await patch(account.id, { name: "  New name  " });
    const body = await expectStatus(res, 200);
    expect(body).toEqual({ id: account.id, name: "New name", defaultRegion: "US" });
    expect(await res.clone().text()).not.toContain(account.apiKey.slice(8));
    expect(await profile(account.id)).toEqual({ name: "New name", defaultRegion: "US" });
  });

  it("changes the region, and this isolate reads the account's numbers with it at once", async () => {
    const account = await createAccount({ defaultRegion: "US" });
    // The key is now verified and cached in this isolate, with region US.
    await expectStatus(await block(account, { address: "(415) 555-0802" }), 201);
    expect(await expectStatus(await patch(account.id, { defaultRegion: "GB" }), 200)).toEqual({
      id: account.id,
      name: expect.any(String),
      defaultRegion: "GB",
    });
    const entry = await expectStatus(await block(account, { address: "07400 123802" }), 201);
    expect(entry.address).toBe("+447400123802");
    // Entries are stored in E.164: the one read with US is still found.
    expect(await check(account, { address: "+14155550802", sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: false,
    });
  });

  it("clears the region with null: national numbers are refused again, E.164 still reads", async () => {
    const account = await createAccount({ defaultRegion: "FR" });
    await expectStatus(await block(account, { address: "06 12 34 08 03" }), 201);
    expect(await expectStatus(await patch(account.id, { defaultRegion: null }), 200)).toMatchObject({
      defaultRegion: null,
    });
    expect(await profile(account.id)).toMatchObject({ defaultRegion: null });
    const message = await expectError(
      await block(account, { address: "06 12 34 08 04" }),
      400,
      "invalid_address",
    );
    expect(message).toMatch(/no country code/);
    await expectStatus(await block(account, { address: "+33612340804" }), 201);
  });

  it("leaves out what the body leaves out", async () => {
    const account = await createAccount({ name: "Keep me", defaultRegion: "DE" });
    expect(await expectStatus(await patch(account.id, { defaultRegion: "AT" }), 200)).toEqual({
      id: account.id,
      name: "Keep me",
      defaultRegion: "AT",
    });
    expect(await expectStatus(await patch(account.id, { name: "Renamed" }), 200)).toEqual({
      id: account.id,
      name: "Renamed",
      defaultRegion: "AT",
    });
  });

  it("a webhook reads the sender's number with the new region and confirms with the new name", async () => {
    const account = await createAccount({ name: "Before", defaultRegion: "US" });
    await configureProvider(account, "twilio");
    await expectStatus(await patch(account.id, { name: "After", defaultRegion: "GB" }), 200);
    const res = await postMo(account, "twilio", mo("STOP", { from: "07400 123805" }));
    await expectReply(res, 200);
    expect(await repliesOf(res)).toEqual([expect.stringMatching(/^After: /)]);
    expect(
      await check(account, {
        address: "+447400123805",
        sender: "ACME",
        channel: "sms",
        consistency: "strong",
      }),
    ).toMatchObject({ allowed: false });
  });

  it.each([
    { name: "an empty body", body: {}, code: "invalid_input", field: null },
    {
      name: "an unknown region",
      body: { defaultRegion: "ZZ" },
      code: "invalid_input",
      field: "defaultRegion",
    },
    {
      name: "a lower-case region",
      body: { defaultRegion: "gb" },
      code: "invalid_input",
      field: "defaultRegion",
    },
    { name: "an empty name", body: { name: "  " }, code: "invalid_input", field: "name" },
    { name: "a null name", body: { name: null }, code: "invalid_input", field: "name" },
    { name: "an unknown field", body: { mode: "live" }, code: "invalid_input", field: null },
    {
      name: "a key in the body",
      body: { name: "x", apiKey: "sk_test_x" },
      code: "invalid_input",
      field: null,
    },
    { name: "malformed JSON", body: "{name:", code: "malformed_json", field: null },
  ])("rejects $name with 400 $code and changes nothing", async ({ body, code, field }) => {
    const account = await createAccount({ name: "Unchanged", defaultRegion: "US" });
    const message = await expectError(await patch(account.id, body), 400, code);
    if (field) expect(message).toMatch(new RegExp(`^${field}: `));
    expect(await profile(account.id)).toEqual({ name: "Unchanged", defaultRegion: "US" });
  });

  it("answers 404 not_found for an unknown account and creates none", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first("n");
    await expectError(await patch("acc_nobody", { name: "ghost" }), 404, "not_found");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first("n")).toBe(before);
  });

  it("is for the admin only: the account's own key cannot change it", async () => {
    const account = await createAccount({ name: "Mine", defaultRegion: "US" });
    await expectError(await patch(account.id, { name: "hijacked" }, account.apiKey), 401, "unauthorized");
    expect(await profile(account.id)).toEqual({ name: "Mine", defaultRegion: "US" });
  });
});
