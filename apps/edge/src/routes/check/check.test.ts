import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  callJson,
  check,
  createAccount,
  expectError,
  expectStatus,
  kvSettled,
  type TestAccount,
  unblock,
} from "../../../test/helpers.ts";

let account: TestAccount;
beforeAll(async () => {
  account = await createAccount({ defaultRegion: "US" });
});

const senders = ["+14155559000", "ACME", "12345"];
const channels = ["sms", "whatsapp", "email", "voice"] as const;

describe("GET /v1/check: the send decision", () => {
  it("account scope blocks every sender on every channel; removal allows again", async () => {
    const address = "+14155550201";
    await expectStatus(await block(account, { address }), 201);
    await kvSettled(account);
    for (const sender of senders) {
      for (const channel of channels) {
        const result = await check(account, { address, sender, channel });
        expect(result, `${sender} ${channel}`).toMatchObject({
          address,
          allowed: false,
          blockedBy: { scope: { type: "account" }, channel: "*", source: "api" },
        });
      }
    }
    await expectStatus(await unblock(account, { address }), 200);
    await kvSettled(account);
    for (const sender of senders) {
      expect(await check(account, { address, sender, channel: "sms" })).toEqual({ address, allowed: true });
    }
  });

  it("sender scope blocks only that sender", async () => {
    const address = "+14155550202";
    await expectStatus(await block(account, { address, scope: { type: "sender", sender: "ACME" } }), 201);
    expect(await check(account, { address, sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: false,
      blockedBy: { scope: { type: "sender", sender: "ACME" } },
    });
    expect(await check(account, { address, sender: "OTHER", channel: "sms" })).toMatchObject({
      allowed: true,
    });
    await expectStatus(await unblock(account, { address, scope: { type: "sender", sender: "ACME" } }), 200);
    await kvSettled(account);
    expect(await check(account, { address, sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: true,
    });
  });

  it("a channel entry blocks only that channel", async () => {
    const address = "jane@example.com";
    await expectStatus(await block(account, { address, channel: "email" }), 201);
    expect(
      await check(account, { address: "JANE@example.com", sender: "news@acme.test", channel: "email" }),
    ).toMatchObject({
      allowed: false,
    });
    expect(await check(account, { address, sender: "news@acme.test", channel: "sms" })).toMatchObject({
      allowed: true,
    });
  });

  it("reports the broadest blocking entry", async () => {
    const address = "+14155550203";
    await expectStatus(
      await block(account, { address, channel: "sms", scope: { type: "sender", sender: "ACME" } }),
      201,
    );
    await expectStatus(await block(account, { address, channel: "*" }), 201);
    const result = await check(account, { address, sender: "ACME", channel: "sms" });
    expect(result.blockedBy).toMatchObject({ scope: { type: "account" }, channel: "*" });
  });

  it.each([
    { name: "no address", qs: "sender=ACME&channel=sms", code: "invalid_input" },
    { name: "channel *", qs: "address=%2B14155550204&sender=ACME&channel=*", code: "invalid_input" },
    { name: "no sender", qs: "address=%2B14155550204&channel=sms", code: "invalid_input" },
    {
      name: "an unknown consistency",
      qs: "address=%2B14155550204&sender=A&channel=sms&consistency=maybe",
      code: "invalid_input",
    },
    {
      name: "an unknown parameter",
      qs: "address=%2B14155550204&sender=A&channel=sms&x=1",
      code: "invalid_input",
    },
    { name: "an unreadable address", qs: "address=hello&sender=A&channel=sms", code: "invalid_address" },
  ])("rejects $name with 400 $code", async ({ qs, code }) => {
    await expectError(await call(`/v1/check?${qs}`, { headers: bearer(account.apiKey) }), 400, code);
  });
});

describe("KV view and consistency", () => {
  it("answers from KV, falls back to D1 when the key is missing, and writes KV back", async () => {
    const address = "+14155550210";
    await expectStatus(await block(account, { address, channel: "sms" }), 201);
    const key = `e:${account.id}:${address}`;
    await env.KV.delete(key);
    expect(await check(account, { address, sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: false,
    });
    expect(await env.KV.get(key, "json")).toEqual([expect.objectContaining({ address, channel: "sms" })]);
  });

  it("caches negative answers too", async () => {
    const address = "+14155550211";
    expect(await check(account, { address, sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: true,
    });
    expect(await env.KV.get(`e:${account.id}:${address}`, "json")).toEqual([]);
  });

  it("eventual reads trust KV; consistency=strong reads D1", async () => {
    const address = "+14155550212";
    await expectStatus(await block(account, { address }), 201);
    // Simulate a location whose KV has not seen the change yet.
    await env.KV.put(`e:${account.id}:${address}`, "[]");
    expect(await check(account, { address, sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: true,
    });
    expect(
      await check(account, { address, sender: "ACME", channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: false,
    });
    const batch = await expectStatus(
      await callJson("POST", "/v1/check", account.apiKey, {
        items: [{ address, sender: "ACME", channel: "sms" }],
        consistency: "strong",
      }),
      200,
    );
    expect(batch.results[0]).toMatchObject({ allowed: false });
  });

  it("a KV value that is not an entry list is treated as a miss", async () => {
    const address = "+14155550213";
    await expectStatus(await block(account, { address }), 201);
    await env.KV.put(`e:${account.id}:${address}`, '{"garbage":true}');
    expect(await check(account, { address, sender: "ACME", channel: "sms" })).toMatchObject({
      allowed: false,
    });
  });
});

describe("POST /v1/check", () => {
  it("answers up to 1000 items in input order, with unreadable addresses as errors in place", async () => {
    const blocked = "+14155550220";
    await expectStatus(
      await block(account, { address: blocked, scope: { type: "sender", sender: "ACME" } }),
      201,
    );
    const items = Array.from({ length: 1000 }, (_, i) => {
      if (i % 250 === 0) return { address: blocked, sender: "ACME", channel: "sms" };
      if (i === 7) return { address: "not-an-address", sender: "ACME", channel: "sms" };
      return { address: `+1415555${String(3000 + i).padStart(4, "0")}`, sender: "ACME", channel: "sms" };
    });
    const { results } = await expectStatus(
      await callJson("POST", "/v1/check", account.apiKey, { items }),
      200,
    );
    expect(results).toHaveLength(1000);
    results.forEach((r: { address: string; allowed?: boolean }, i: number) => {
      if (i % 250 === 0) expect(r, `item ${i}`).toMatchObject({ address: blocked, allowed: false });
      else if (i === 7) {
        expect(r).toEqual({
          address: "not-an-address",
          error: { code: "invalid_address", message: expect.any(String) },
        });
      } else expect(r, `item ${i}`).toMatchObject({ address: items[i]!.address, allowed: true });
    });
  });

  it.each([
    {
      name: "1001 items",
      body: {
        items: Array.from({ length: 1001 }, () => ({ address: "+14155550230", sender: "A", channel: "sms" })),
      },
    },
    { name: "no items", body: { items: [] } },
    {
      name: "an item with an unknown field",
      body: { items: [{ address: "+14155550230", sender: "A", channel: "sms", x: 1 }] },
    },
    {
      name: "an unknown top-level field",
      body: { items: [{ address: "+14155550230", sender: "A", channel: "sms" }], x: 1 },
    },
  ])("rejects $name with 400 invalid_input", async ({ body }) => {
    const message = await expectError(
      await callJson("POST", "/v1/check", account.apiKey, body),
      400,
      "invalid_input",
    );
    expect(message.length).toBeGreaterThan(0);
  });

  it("names the path of a bad item", async () => {
    const message = await expectError(
      await callJson("POST", "/v1/check", account.apiKey, {
        items: [
          { address: "+14155550230", sender: "A", channel: "sms" },
          { address: "+14155550230", sender: "A", channel: "fax" },
        ],
      }),
      400,
      "invalid_input",
    );
    expect(message).toMatch(/^items\.1\.channel: /);
  });
});
