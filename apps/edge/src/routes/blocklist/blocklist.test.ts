import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  kvSettled,
  storageSnapshot,
  type TestAccount,
  unblock,
} from "../../../test/helpers.ts";

let account: TestAccount;
beforeAll(async () => {
  account = await createAccount({ defaultRegion: "US" });
});

describe("POST /v1/blocklist", () => {
  it("adds an entry at account scope on every channel by default", async () => {
    const entry = await expectStatus(
      await block(account, { address: "+1 415 555 0101", reason: "asked by phone" }),
      201,
    );
    expect(entry).toMatchObject({
      accountId: account.id,
      address: "+14155550101",
      channel: "*",
      scope: { type: "account" },
      source: "api",
      reason: "asked by phone",
      active: true,
    });
    expect(entry.seq).toBeGreaterThan(0);
  });

  it("reads national numbers with the account's default region and lower-cases emails", async () => {
    const phone = await expectStatus(await block(account, { address: "(415) 555-0102" }), 201);
    expect(phone.address).toBe("+14155550102");
    const email = await expectStatus(await block(account, { address: "  Jane@Example.COM " }), 201);
    expect(email.address).toBe("jane@example.com");
  });

  it("adding an active entry again changes nothing and appends nothing (200, same entry)", async () => {
    const first = await expectStatus(await block(account, { address: "+14155550103", channel: "sms" }), 201);
    const before = await storageSnapshot();
    const again = await expectStatus(
      await block(account, { address: "+1 (415) 555-0103", channel: "sms" }),
      200,
    );
    expect(again).toEqual(first);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("keeps entries apart by channel and scope", async () => {
    const address = "+14155550104";
    await expectStatus(await block(account, { address, channel: "sms" }), 201);
    await expectStatus(await block(account, { address, channel: "email" }), 201);
    await expectStatus(await block(account, { address, scope: { type: "sender", sender: "ACME" } }), 201);
    const list = await expectStatus(
      await call(`/v1/blocklist?address=${encodeURIComponent(address)}`, { headers: bearer(account.apiKey) }),
      200,
    );
    expect(list.items).toHaveLength(3);
  });

  it("writes the KV view of the address after the D1 commit", async () => {
    await expectStatus(await block(account, { address: "+14155550105", channel: "whatsapp" }), 201);
    await kvSettled(account);
    const cached = await env.KV.get(`e:${account.id}:+14155550105`, "json");
    expect(cached).toEqual([expect.objectContaining({ channel: "whatsapp", scope: { type: "account" } })]);
  });
});

describe("DELETE /v1/blocklist", () => {
  it("removes an active entry with an opt_in event", async () => {
    const added = await expectStatus(await block(account, { address: "+14155550110" }), 201);
    const res = await expectStatus(
      await unblock(account, { address: "+14155550110", reason: "re-subscribed" }),
      200,
    );
    expect(res.removed).toBe(true);
    expect(res.entry).toMatchObject({ address: "+14155550110", active: false, reason: "re-subscribed" });
    expect(res.entry.seq).toBeGreaterThan(added.seq);
    await kvSettled(account);
    expect(await env.KV.get(`e:${account.id}:+14155550110`, "json")).toEqual([]);
  });

  it.each([
    { name: "an entry that never existed", address: "+14155550111", prepare: async () => {} },
    {
      name: "an entry already removed",
      address: "+14155550112",
      prepare: async () => {
        await expectStatus(await block(account, { address: "+14155550112" }), 201);
        await expectStatus(await unblock(account, { address: "+14155550112" }), 200);
      },
    },
  ])("removing $name changes nothing and appends nothing", async ({ address, prepare }) => {
    await prepare();
    const before = await storageSnapshot();
    const res = await expectStatus(await unblock(account, { address }), 200);
    expect(res.removed).toBe(false);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("removes only the entry with the same key fields", async () => {
    const address = "+14155550113";
    await expectStatus(await block(account, { address, channel: "sms" }), 201);
    const res = await expectStatus(await unblock(account, { address, channel: "email" }), 200);
    expect(res).toEqual({ removed: false, entry: null });
  });

  it("re-adding after removal activates the same entry again", async () => {
    const address = "+14155550114";
    const first = await expectStatus(await block(account, { address }), 201);
    const removed = await expectStatus(await unblock(account, { address }), 200);
    expect(removed.entry).toMatchObject({ active: false, createdAt: first.createdAt });
    const again = await expectStatus(await block(account, { address }), 201);
    expect(again).toMatchObject({ active: true, createdAt: first.createdAt, source: "api" });
    expect(again.seq).toBeGreaterThan(removed.entry.seq);
    // One row for the key all along: the same entry, moved by three ledger events.
    const { results } = await env.DB.prepare(
      "SELECT id, active, seq FROM blocklist_entries WHERE account_id = ? AND address = ?",
    )
      .bind(account.id, address)
      .all<{ id: number; active: number; seq: number }>();
    expect(results).toEqual([{ id: expect.any(Number), active: 1, seq: again.seq }]);
  });
});

describe("GET /v1/blocklist", () => {
  it("pages through active entries with a cursor: each once, in creation order, ending with null", async () => {
    const other = await createAccount();
    const addresses = Array.from({ length: 5 }, (_, i) => `page${i}@example.com`);
    for (const address of addresses) await expectStatus(await block(other, { address }), 201);
    await expectStatus(await unblock(other, { address: addresses[2]! }), 200);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `limit=2&cursor=${cursor}` : "limit=2";
      const page = await expectStatus(
        await call(`/v1/blocklist?${qs}`, { headers: bearer(other.apiKey) }),
        200,
      );
      seen.push(...page.items.map((e: { address: string }) => e.address));
      cursor = page.nextCursor;
      if (cursor !== null) expect(cursor).toMatch(/^\d+$/);
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(addresses.filter((_, i) => i !== 2));
    // Four active entries, two a page: exactly two pages, the second saying it is the last.
    expect(pages).toBe(2);
    expect(cursor).toBeNull();
  });

  it("filters by channel", async () => {
    const other = await createAccount();
    await expectStatus(await block(other, { address: "a@example.com", channel: "email" }), 201);
    await expectStatus(await block(other, { address: "b@example.com", channel: "sms" }), 201);
    const page = await expectStatus(
      await call("/v1/blocklist?channel=email", { headers: bearer(other.apiKey) }),
      200,
    );
    expect(page.items.map((e: { address: string }) => e.address)).toEqual(["a@example.com"]);
    expect(page.nextCursor).toBeNull();
  });
});

describe("bad input is a precise 4xx and writes nothing", () => {
  const huge = JSON.stringify({ address: "+14155550199", reason: "x".repeat(1024 * 1024) });

  it.each([
    { name: "malformed JSON", body: '{"address": ', status: 400, code: "malformed_json" },
    { name: "an empty body", body: "", status: 400, code: "malformed_json" },
    {
      name: "an unknown field",
      body: { address: "+14155550199", colour: "red" },
      status: 400,
      code: "invalid_input",
    },
    {
      name: "an unknown scope field",
      body: { address: "+14155550199", scope: { type: "account", x: 1 } },
      status: 400,
      code: "invalid_input",
    },
    { name: "a missing address", body: { channel: "sms" }, status: 400, code: "invalid_input" },
    {
      name: "an unknown channel",
      body: { address: "+14155550199", channel: "fax" },
      status: 400,
      code: "invalid_input",
    },
    {
      name: "an address that is neither phone nor email",
      body: { address: "not an address" },
      status: 400,
      code: "invalid_address",
    },
    { name: "an invalid phone number", body: { address: "+1 000" }, status: 400, code: "invalid_address" },
    { name: "an invalid email", body: { address: "jane@" }, status: 400, code: "invalid_address" },
    { name: "a body over 1 MiB", body: huge, status: 413, code: "payload_too_large" },
  ])("$name → $status $code", async ({ body, status, code }) => {
    const before = await storageSnapshot();
    for (const method of ["POST", "DELETE"]) {
      await expectError(await callJson(method, "/v1/blocklist", account.apiKey, body), status, code);
    }
    expect(await storageSnapshot()).toEqual(before);
  });

  it("names the offending field", async () => {
    const message = await expectError(
      await callJson("POST", "/v1/blocklist", account.apiKey, { address: "+14155550199", channel: "fax" }),
      400,
      "invalid_input",
    );
    expect(message).toMatch(/^channel: /);
  });

  it("passes the core message for an invalid address through", async () => {
    const message = await expectError(await block(account, { address: "jane@" }), 400, "invalid_address");
    expect(message).toBe("address looks like an email but is not a valid one");
  });

  it("rejects a body over 1 MiB by its bytes when Content-Length is absent (streamed)", async () => {
    const before = await storageSnapshot();
    const bytes = new TextEncoder().encode(huge);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const res = await call("/v1/blocklist", {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(account.apiKey) },
      body: stream,
      // @ts-expect-error -- `duplex` is required for streamed request bodies but not in every RequestInit type.
      duplex: "half",
    });
    expect(res.headers.get("content-length")).not.toBe(String(bytes.length));
    await expectError(res, 413, "payload_too_large");
    expect(await storageSnapshot()).toEqual(before);
  });

  it.each([
    { name: "text/plain", contentType: "text/plain" },
    { name: "form data", contentType: "application/x-www-form-urlencoded" },
    { name: "no content type", contentType: null },
  ])("wrong content type ($name) → 415", async ({ contentType }) => {
    const before = await storageSnapshot();
    const headers: Record<string, string> = bearer(account.apiKey);
    if (contentType) headers["content-type"] = contentType;
    const res = await call("/v1/blocklist", {
      method: "POST",
      headers,
      body: JSON.stringify({ address: "+14155550199" }),
    });
    await expectError(res, 415, "unsupported_media_type");
    expect(await storageSnapshot()).toEqual(before);
  });

  it("accepts application/json with a charset", async () => {
    const res = await call("/v1/blocklist", {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", ...bearer(account.apiKey) },
      body: JSON.stringify({ address: "+14155550198" }),
    });
    await expectStatus(res, 201);
  });

  it.each([
    { name: "a negative cursor", qs: "cursor=-1" },
    { name: "a non-numeric cursor", qs: "cursor=abc" },
    { name: "a fractional cursor", qs: "cursor=1.5" },
    { name: "a limit over 1000", qs: "limit=1001" },
    { name: "a zero limit", qs: "limit=0" },
    { name: "a non-numeric limit", qs: "limit=ten" },
    { name: "an unknown query parameter", qs: "colour=red" },
    { name: "an unknown channel", qs: "channel=fax" },
  ])("listing with $name → 400 invalid_input", async ({ qs }) => {
    await expectError(
      await call(`/v1/blocklist?${qs}`, { headers: bearer(account.apiKey) }),
      400,
      "invalid_input",
    );
  });

  it("listing with an invalid address → 400 invalid_address", async () => {
    await expectError(
      await call("/v1/blocklist?address=nope", { headers: bearer(account.apiKey) }),
      400,
      "invalid_address",
    );
  });
});
