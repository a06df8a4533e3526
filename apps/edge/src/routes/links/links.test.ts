import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  bearer,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  SYNC_TOKEN,
  type TestAccount,
} from "../../../test/helpers.ts";
import { hashOf, type MintedLink, mintLink, visit } from "../../../test/links.ts";
import app from "../../index.ts";

let account: TestAccount;
beforeAll(async () => {
  account = await createAccount({ name: "Acme", defaultRegion: "US" });
});

const linkCount = async () =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM links").first<{ n: number }>())!.n;

describe("POST /v1/links", () => {
  it("mints a 12-character base62 code and a URL on the request's origin; stores only its hash", async () => {
    const link = await mintLink(account, { address: "(415) 555-0111", channel: "sms", campaign: "c1" });
    expect(link.code).toMatch(/^[0-9A-Za-z]{12}$/);
    expect(link.url).toBe(`https://edge.test/u/${link.code}`);
    expect(link.expiresAt).toBeNull();

    const row = await env.DB.prepare("SELECT * FROM links WHERE code_hash = ?")
      .bind(await hashOf(link.code))
      .first();
    expect(row).toMatchObject({
      account_id: account.id,
      address: "+14155550111",
      channel: "sms",
      scope_key: "account",
      campaign: "c1",
      opted_out_at: null,
    });
    // The code itself is nowhere in the table.
    const { results } = await env.DB.prepare("SELECT * FROM links").all();
    expect(JSON.stringify(results)).not.toContain(link.code);
  });

  it("records the sender of a sender-scoped link and normalizes expiresAt to UTC", async () => {
    const link = await mintLink(account, {
      address: "Jane@Example.com",
      channel: "email",
      scope: { type: "sender", sender: "news@acme.test" },
      expiresAt: "2999-01-01T02:00:00+02:00",
    });
    expect(link.expiresAt).toBe("2999-01-01T00:00:00.000Z");
    const row = await env.DB.prepare("SELECT address, sender, scope_key FROM links WHERE code_hash = ?")
      .bind(await hashOf(link.code))
      .first();
    expect(row).toEqual({
      address: "jane@example.com",
      sender: "news@acme.test",
      scope_key: "sender:news@acme.test",
    });
  });

  it("uses PUBLIC_LINK_BASE, then PUBLIC_BASE_URL, for the URL", async () => {
    const mint = async (vars: Record<string, string>) => {
      const res = await app.request(
        "/v1/links",
        {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(account.apiKey) },
          body: '{"address":"+14155550112"}',
        },
        { ...env, ...vars },
      );
      return expectStatus<MintedLink>(res, 201);
    };
    const branded = await mint({
      PUBLIC_LINK_BASE: "https://u.acme.test",
      PUBLIC_BASE_URL: "https://api.acme.test",
    });
    expect(branded.url).toBe(`https://u.acme.test/u/${branded.code}`);
    const fallback = await mint({ PUBLIC_LINK_BASE: "", PUBLIC_BASE_URL: "https://api.acme.test/" });
    expect(fallback.url).toBe(`https://api.acme.test/u/${fallback.code}`);
    // Outside production, with neither set, the request's own origin (local dev).
    const local = await mint({ PUBLIC_LINK_BASE: "", PUBLIC_BASE_URL: "" });
    expect(local.url).toBe(`http://localhost/u/${local.code}`);
    // Each URL's code is a real link: its path opens this link's page.
    for (const link of [branded, fallback, local]) {
      const page = await call(new URL(link.url).pathname, { headers: { "cf-connecting-ip": "192.0.2.11" } });
      expect(page.status, link.url).toBe(200);
      expect(await page.text()).toContain("Unsubscribe");
    }
  });

  it("in production never builds a URL from the request's Host header", async () => {
    // Finding: with PUBLIC_BASE_URL empty, minted link URLs followed whatever Host a caller sent.
    const production = {
      ...env,
      ENVIRONMENT: "production",
      ADMIN_TOKEN: "a".repeat(40),
      SYNC_TOKEN: "s".repeat(40),
      EDGE_SECRET: "e".repeat(40),
      PUBLIC_LINK_BASE: "",
      // The tests' stand-in for Amazon is a development-only setting.
      SNS_BASE_URL_OVERRIDE: "",
    };
    const post = (vars: Record<string, string>) =>
      app.request(
        "https://attacker.example/v1/links",
        {
          method: "POST",
          headers: { "content-type": "application/json", ...bearer(account.apiKey) },
          body: '{"address":"+14155550113"}',
        },
        { ...production, ...vars },
      );
    const before = await linkCount();
    await expectError(await post({ PUBLIC_BASE_URL: "" }), 500, "misconfigured");
    expect(await linkCount()).toBe(before);
    const minted = await expectStatus<MintedLink>(
      await post({ PUBLIC_BASE_URL: "https://optout.acme.test" }),
      201,
    );
    expect(minted.url).toBe(`https://optout.acme.test/u/${minted.code}`);
  });

  it.each([
    { name: "an invalid address", body: { address: "not an address" }, code: "invalid_address" },
    { name: "a national number without a region", body: { address: "415 555 0100" }, code: null },
    {
      name: "an unknown field",
      body: { address: "+14155550100", code: "AAAAAAAAAAAA" },
      code: "invalid_input",
    },
    {
      name: "a past expiresAt",
      body: { address: "+14155550100", expiresAt: "2001-01-01T00:00:00Z" },
      code: "invalid_input",
    },
    {
      name: "a sender that contradicts the scope",
      body: { address: "+14155550100", scope: { type: "sender", sender: "A" }, sender: "B" },
      code: "invalid_input",
    },
    { name: "an unknown channel", body: { address: "+14155550100", channel: "fax" }, code: "invalid_input" },
  ])("refuses $name with 400 and mints nothing", async ({ body, code }) => {
    const noRegion = await createAccount({ name: "no region" });
    const before = await linkCount();
    const res = await callJson("POST", "/v1/links", (code ? account : noRegion).apiKey, body);
    await expectError(res, 400, code ?? "invalid_address");
    expect(await linkCount()).toBe(before);
  });

  it("refuses a body that is not JSON", async () => {
    await expectError(await callJson("POST", "/v1/links", account.apiKey, "{nope"), 400, "malformed_json");
    const res = await call("/v1/links", {
      method: "POST",
      headers: { ...bearer(account.apiKey), "content-type": "application/x-www-form-urlencoded" },
      body: "address=x",
    });
    await expectError(res, 415, "unsupported_media_type");
  });
});

describe("POST /v1/links/batch", () => {
  it("mints every item, in input order, each with its own code", async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({
      address: `+1415555${String(3000 + i).padStart(4, "0")}`,
      channel: "sms",
      messageId: `m${i}`,
    }));
    const res = await callJson("POST", "/v1/links/batch", account.apiKey, { items });
    const { items: links } = await expectStatus<{ items: MintedLink[] }>(res, 201);
    expect(links).toHaveLength(300);
    expect(new Set(links.map((l) => l.code)).size).toBe(300);
    // Order: item i's link opts out item i's address.
    for (const i of [0, 137, 299]) {
      const row = await env.DB.prepare("SELECT address, message_id FROM links WHERE code_hash = ?")
        .bind(await hashOf(links[i]!.code))
        .first();
      expect(row).toEqual({ address: items[i]!.address, message_id: `m${i}` });
    }
  });

  it("takes 1,000 items and refuses 1,001", async () => {
    const item = { address: "+14155550199" };
    const ok = await callJson("POST", "/v1/links/batch", account.apiKey, { items: Array(1000).fill(item) });
    expect((await expectStatus<{ items: MintedLink[] }>(ok, 201)).items).toHaveLength(1000);
    const before = await linkCount();
    const tooMany = await callJson("POST", "/v1/links/batch", account.apiKey, {
      items: Array(1001).fill(item),
    });
    expect(await expectError(tooMany, 400, "invalid_input")).toContain("items");
    await expectError(
      await callJson("POST", "/v1/links/batch", account.apiKey, { items: [] }),
      400,
      "invalid_input",
    );
    expect(await linkCount()).toBe(before);
  });

  it("names the bad item and mints nothing when one item is invalid", async () => {
    const before = await linkCount();
    const res = await callJson("POST", "/v1/links/batch", account.apiKey, {
      items: [{ address: "+14155550100" }, { address: "+14155550101" }, { address: "nope" }],
    });
    expect(await expectError(res, 400, "invalid_address")).toMatch(/^items\.2\.address: /);
    expect(await linkCount()).toBe(before);
  });
});

describe("link settings", () => {
  it("start from the defaults, change field by field, and shape the links and the page", async () => {
    const own = await createAccount({ name: "Settings Co" });
    const get = async () =>
      expectStatus(await call("/v1/links/settings", { headers: bearer(own.apiKey) }), 200);
    expect(await get()).toEqual({
      brandName: null,
      offerBothScopes: false,
      defaultLocale: "en",
      codeLength: 12,
    });

    const put = await callJson("PUT", "/v1/links/settings", own.apiKey, {
      codeLength: 11,
      brandName: "Settings",
    });
    expect(await expectStatus(put, 200)).toEqual({
      brandName: "Settings",
      offerBothScopes: false,
      defaultLocale: "en",
      codeLength: 11,
    });
    await expectStatus(await callJson("PUT", "/v1/links/settings", own.apiKey, { defaultLocale: "it" }), 200);
    expect(await get()).toMatchObject({ brandName: "Settings", defaultLocale: "it", codeLength: 11 });

    const link = await mintLink(own, { address: "+14155550120" });
    expect(link.code).toHaveLength(11);
    const html = await (await visit(link.code)).text();
    expect(html).toContain("<h1>Annullare l’iscrizione a Settings?</h1>");
    // Another account's settings are its own.
    expect(
      await expectStatus(await call("/v1/links/settings", { headers: bearer(account.apiKey) }), 200),
    ).toMatchObject({
      brandName: null,
      codeLength: 12,
    });
  });

  it.each([
    { name: "codes under 64 bits", body: { codeLength: 10 } },
    { name: "an unknown language", body: { defaultLocale: "nl" } },
    { name: "an unknown field", body: { theme: "dark" } },
    { name: "an empty brand name", body: { brandName: "" } },
  ])("refuses $name", async ({ body }) => {
    await expectError(
      await callJson("PUT", "/v1/links/settings", account.apiKey, body),
      400,
      "invalid_input",
    );
  });
});

describe("security", () => {
  const routes = [
    { method: "POST", path: "/v1/links", body: { address: "+14155550100" } },
    { method: "POST", path: "/v1/links/batch", body: { items: [{ address: "+14155550100" }] } },
    { method: "GET", path: "/v1/links/settings" },
    { method: "PUT", path: "/v1/links/settings", body: { offerBothScopes: true } },
  ];
  const badCredentials = [
    { name: "no key", headers: {} },
    { name: "a malformed key", headers: bearer("sk_live_short") },
    { name: "an unknown key", headers: bearer(`sk_test_${"A".repeat(32)}`) },
    { name: "the admin token", headers: bearer(ADMIN_TOKEN) },
    { name: "the sync token", headers: bearer(SYNC_TOKEN) },
  ];
  describe.each(routes)("$method $path", ({ method, path, body }) => {
    it.each(badCredentials)("401 with $name, and nothing written", async ({ headers }) => {
      const before = await linkCount();
      const res = await call(path, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: body ? JSON.stringify(body) : undefined,
      });
      await expectError(res, 401, "unauthorized");
      expect(await linkCount()).toBe(before);
    });
  });
});
