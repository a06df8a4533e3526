import { env } from "cloudflare:workers";
import { API_KEY_FORMAT, sha256Hex } from "@optout/core";
import { describe, expect, it } from "vitest";
import {
  bearer,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  type TestAccount,
} from "../../../test/helpers.ts";
import { MAX_ACTIVE_KEYS_PER_ACCOUNT } from "./index.ts";

const works = (apiKey: string) => call("/v1/blocklist", { headers: bearer(apiKey) });

async function newKey(account: TestAccount, body: Record<string, unknown> = {}) {
  return expectStatus(await callJson("POST", "/v1/keys", account.apiKey, body), 201);
}

async function listKeys(apiKey: string) {
  return expectStatus(await call("/v1/keys", { headers: bearer(apiKey) }), 200);
}

describe("POST /v1/keys", () => {
  it("issues a key that works at once, in the calling key's mode, storing only its hash", async () => {
    const account = await createAccount();
    const created = await newKey(account, { name: "billing service" });
    expect(created).toMatchObject({ name: "billing service", mode: "test" });
    expect(created.id).toMatch(/^key_/);
    expect(created.apiKey).toMatch(API_KEY_FORMAT);
    expect(created.apiKey).toMatch(/^sk_test_/);
    expect(created.prefix).toBe(created.apiKey.slice(0, 12));
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);

    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first();
    expect(stored).toMatchObject({ account_id: account.id, key_hash: await sha256Hex(created.apiKey) });
    expect(JSON.stringify(stored)).not.toContain(created.apiKey);

    await expectStatus(await works(created.apiKey), 200);
  });

  it("defaults to the calling key's mode and honours an explicit mode", async () => {
    const live = await createAccount({ mode: "live" });
    expect((await newKey(live)).apiKey).toMatch(/^sk_live_/);
    const test = await newKey(live, { mode: "test" });
    expect(test).toMatchObject({ mode: "test", name: null });
    expect(test.apiKey).toMatch(/^sk_test_/);
    // The new test key, in turn, issues test keys by default.
    expect((await newKey({ id: live.id, apiKey: test.apiKey })).mode).toBe("test");
  });

  it("refuses a live key to a test key's request (403) and creates nothing", async () => {
    // Finding: a sk_test_ key (a sandbox's, a laptop's) could mint sk_live_ keys.
    const live = await createAccount({ mode: "live" });
    const test = await newKey(live, { mode: "test" });
    const before = await listKeys(live.apiKey);
    const res = await callJson("POST", "/v1/keys", test.apiKey, { mode: "live" });
    expect(await expectError(res, 403, "forbidden")).toBe("mode: only a live key can create live keys");
    expect(await listKeys(live.apiKey)).toEqual(before);
    // A live key still may.
    expect((await newKey(live, { mode: "live" })).apiKey).toMatch(/^sk_live_/);
  });

  it("caps an account's active keys with 409", async () => {
    const account = await createAccount();
    const now = new Date().toISOString();
    const filler = Array.from({ length: MAX_ACTIVE_KEYS_PER_ACCOUNT - 1 }, (_, i) =>
      env.DB.prepare(
        "INSERT INTO api_keys (id, account_id, key_hash, key_prefix, created_at) VALUES (?, ?, ?, 'sk_test_fill', ?)",
      ).bind(`key_fill_${account.id}_${i}`, account.id, `fill-${account.id}-${i}`, now),
    );
    await env.DB.batch(filler);
    await expectError(await callJson("POST", "/v1/keys", account.apiKey, {}), 409, "conflict");
    await expectStatus(await callJson("DELETE", `/v1/keys/key_fill_${account.id}_0`, account.apiKey), 200);
    await newKey(account);
  });

  it.each([
    { name: "an unknown field", body: { name: "x", scopes: ["all"] }, code: "invalid_input" },
    { name: "an unknown mode", body: { mode: "prod" }, code: "invalid_input" },
    { name: "an empty name", body: { name: "  " }, code: "invalid_input" },
    { name: "a name too long", body: { name: "x".repeat(101) }, code: "invalid_input" },
    { name: "malformed JSON", body: "{name:", code: "malformed_json" },
  ])("rejects $name with 400 $code and creates nothing", async ({ body, code }) => {
    const account = await createAccount();
    await expectError(await callJson("POST", "/v1/keys", account.apiKey, body), 400, code);
    expect((await listKeys(account.apiKey)).items).toHaveLength(1);
  });
});

describe("GET /v1/keys", () => {
  it("lists the account's keys with prefixes, never a key or its hash", async () => {
    const account = await createAccount();
    const second = await newKey(account, { name: "worker" });
    const other = await createAccount();
    const { items } = await listKeys(account.apiKey);
    expect(items).toHaveLength(2);
    // Oldest first; keys created in the same millisecond may come in either order.
    expect(items.map((k: { prefix: string }) => k.prefix).sort()).toEqual(
      [account.apiKey.slice(0, 12), second.apiKey.slice(0, 12)].sort(),
    );
    expect(items.find((k: { id: string }) => k.id === second.id)).toEqual({
      id: second.id,
      name: "worker",
      prefix: second.prefix,
      mode: "test",
      createdAt: second.createdAt,
      revokedAt: null,
      lastFour: second.apiKey.slice(-4),
    });
    const text = JSON.stringify(items);
    for (const key of [account.apiKey, second.apiKey]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(await sha256Hex(key));
      expect(text).not.toContain(key.slice(12, -4));
    }
    expect(text).not.toContain(other.apiKey.slice(0, 12));
  });

  it("omits lastFour for keys stored without it", async () => {
    const account = await createAccount();
    await env.DB.prepare("UPDATE api_keys SET last_four = NULL WHERE account_id = ?").bind(account.id).run();
    const [item] = (await listKeys(account.apiKey)).items;
    expect(item).not.toHaveProperty("lastFour");
    expect(item).toMatchObject({ prefix: account.apiKey.slice(0, 12), name: null, revokedAt: null });
  });
});

describe("DELETE /v1/keys/{id}", () => {
  it("revokes a key: it gets 401 at once, even though this isolate had it cached", async () => {
    const account = await createAccount();
    const old = (await listKeys(account.apiKey)).items[0];
    const fresh = await newKey(account);
    // The old key is verified (and cached) just before it is revoked.
    await expectStatus(await works(account.apiKey), 200);
    const revoked = await expectStatus(await callJson("DELETE", `/v1/keys/${old.id}`, fresh.apiKey), 200);
    expect(revoked).toEqual({ id: old.id, revokedAt: expect.any(String) });
    await expectError(await works(account.apiKey), 401, "unauthorized");
    await expectStatus(await works(fresh.apiKey), 200);
    const listed = (await listKeys(fresh.apiKey)).items.find((k: { id: string }) => k.id === old.id);
    expect(listed.revokedAt).toBe(revoked.revokedAt);
    // Revoking it again changes nothing.
    expect(await expectStatus(await callJson("DELETE", `/v1/keys/${old.id}`, fresh.apiKey), 200)).toEqual(
      revoked,
    );
  });

  it("lets the calling key revoke itself when another key is active", async () => {
    const account = await createAccount();
    const self = (await listKeys(account.apiKey)).items[0];
    const spare = await newKey(account);
    await expectStatus(await callJson("DELETE", `/v1/keys/${self.id}`, account.apiKey), 200);
    await expectError(await works(account.apiKey), 401, "unauthorized");
    await expectStatus(await works(spare.apiKey), 200);
  });

  it("refuses to revoke the account's last active key with 409", async () => {
    const account = await createAccount();
    const [only] = (await listKeys(account.apiKey)).items;
    const message = await expectError(
      await callJson("DELETE", `/v1/keys/${only.id}`, account.apiKey),
      409,
      "conflict",
    );
    expect(message).toMatch(/create another key/);
    await expectStatus(await works(account.apiKey), 200);
    // With a second key revoked, the first is the last active one again.
    const second = await newKey(account);
    await expectStatus(await callJson("DELETE", `/v1/keys/${second.id}`, account.apiKey), 200);
    await expectError(await callJson("DELETE", `/v1/keys/${only.id}`, account.apiKey), 409, "conflict");
  });

  it("answers another account's key id exactly like an unknown one (404) and revokes nothing", async () => {
    const owner = await createAccount();
    const ownersSpare = await newKey(owner);
    const stranger = await createAccount();
    await newKey(stranger);
    const foreign = await callJson("DELETE", `/v1/keys/${ownersSpare.id}`, stranger.apiKey);
    const unknown = await callJson("DELETE", "/v1/keys/key_nosuchkey", stranger.apiKey);
    expect(await expectError(foreign, 404, "not_found")).toBe(await expectError(unknown, 404, "not_found"));
    await expectStatus(await works(ownersSpare.apiKey), 200);
    await expectStatus(await works(owner.apiKey), 200);
  });

  it("rejects an over-long id with 400", async () => {
    const account = await createAccount();
    await expectError(
      await callJson("DELETE", `/v1/keys/${"k".repeat(65)}`, account.apiKey),
      400,
      "invalid_input",
    );
  });
});

describe("OpenAPI", () => {
  it("documents the three routes", async () => {
    const doc = await expectStatus(await call("/openapi.json"), 200);
    expect(Object.keys(doc.paths["/v1/keys"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/keys/{id}"])).toEqual(["delete"]);
    expect(doc.paths["/v1/keys/{id}"].delete.responses).toHaveProperty("409");
  });
});
