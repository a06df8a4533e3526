import { KEYWORD_PACKS } from "@optout/core";
import { beforeEach, describe, expect, it } from "vitest";
import {
  bearer,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  type TestAccount,
} from "../../../test/helpers.ts";

let account: TestAccount;

beforeEach(async () => {
  account = await createAccount();
});

async function list() {
  return expectStatus(await call("/v1/keyword-rules", { headers: bearer(account.apiKey) }), 200);
}

describe("GET /v1/keyword-rules", () => {
  it("lists the default packs, marked as defaults, with the default settings", async () => {
    const { items, settings } = await list();
    expect(settings).toEqual({ defaultLevel: "account", languages: null, supportContact: null });
    expect(items).toHaveLength(KEYWORD_PACKS.length * 3);
    expect(items[0]).toMatchObject({
      id: "default-en-opt-out",
      default: true,
      action: "opt_out",
      level: "account",
      enabled: true,
      language: "en",
    });
    expect(items[0].keywords).toEqual(expect.arrayContaining(["STOP", "UNSUBSCRIBE", "REVOKE", "OPT OUT"]));
    expect(items.every((r: { default: boolean }) => r.default)).toBe(true);
  });

  it("puts the account's own rules first and follows the settings", async () => {
    const own = await expectStatus(
      await callJson("POST", "/v1/keyword-rules", account.apiKey, { keywords: ["PAUSE"], action: "opt_out" }),
      201,
    );
    await expectStatus(
      await callJson("PUT", "/v1/keyword-rules/settings", account.apiKey, {
        defaultLevel: "sender",
        languages: ["fr", "en"],
      }),
      200,
    );
    const { items, settings } = await list();
    expect(settings).toMatchObject({ defaultLevel: "sender", languages: ["fr", "en"] });
    expect(items.map((r: { id: string }) => r.id)).toEqual([
      own.id,
      "default-fr-opt-out",
      "default-fr-opt-in",
      "default-fr-help",
      "default-en-opt-out",
      "default-en-opt-in",
      "default-en-help",
    ]);
    expect(items[0]).toMatchObject({ default: false, level: "account" });
    expect(items[1]).toMatchObject({ default: true, level: "sender" });
  });
});

describe("POST /v1/keyword-rules", () => {
  it("fills defaults; level follows the account's default level when left out", async () => {
    await expectStatus(
      await callJson("PUT", "/v1/keyword-rules/settings", account.apiKey, { defaultLevel: "sender" }),
      200,
    );
    const rule = await expectStatus(
      await callJson("POST", "/v1/keyword-rules", account.apiKey, {
        keywords: ["Basta"],
        action: "opt_out",
        language: "it",
        senders: ["+14155550199"],
      }),
      201,
    );
    expect(rule).toMatchObject({
      id: expect.stringMatching(/^kwr_/),
      keywords: ["Basta"],
      phrases: [],
      level: "sender",
      senders: ["+14155550199"],
      channel: "*",
      enabled: true,
      language: "it",
      default: false,
    });
  });

  it.each([
    { name: "no keyword or phrase", body: { keywords: [], action: "opt_out" } },
    { name: "an id", body: { id: "default-en-opt-out", keywords: ["X"], action: "opt_out" } },
    { name: "an unknown action", body: { keywords: ["X"], action: "delete" } },
    { name: "an emoji-only keyword", body: { keywords: ["🛑"], action: "opt_out" } },
  ])("refuses $name", async ({ body }) => {
    await expectError(
      await callJson("POST", "/v1/keyword-rules", account.apiKey, body),
      400,
      "invalid_input",
    );
    expect((await list()).items.some((r: { default: boolean }) => !r.default)).toBe(false);
  });
});

describe("PATCH and DELETE /v1/keyword-rules/{id}", () => {
  it("disables and re-enables a default rule", async () => {
    const off = await expectStatus(
      await callJson("PATCH", "/v1/keyword-rules/default-es-help", account.apiKey, { enabled: false }),
      200,
    );
    expect(off).toMatchObject({ id: "default-es-help", default: true, enabled: false });
    expect((await list()).items.find((r: { id: string }) => r.id === "default-es-help").enabled).toBe(false);
    await expectStatus(
      await callJson("PATCH", "/v1/keyword-rules/default-es-help", account.apiKey, { enabled: true }),
      200,
    );
    expect((await list()).items.find((r: { id: string }) => r.id === "default-es-help").enabled).toBe(true);
  });

  it("disables and deletes an own rule; defaults cannot be deleted", async () => {
    const rule = await expectStatus(
      await callJson("POST", "/v1/keyword-rules", account.apiKey, { keywords: ["HALT"], action: "opt_out" }),
      201,
    );
    const off = await expectStatus(
      await callJson("PATCH", `/v1/keyword-rules/${rule.id}`, account.apiKey, { enabled: false }),
      200,
    );
    expect(off).toMatchObject({ id: rule.id, enabled: false, default: false });
    await expectStatus(
      await call(`/v1/keyword-rules/${rule.id}`, { method: "DELETE", headers: bearer(account.apiKey) }),
      200,
    );
    await expectError(
      await call(`/v1/keyword-rules/${rule.id}`, { method: "DELETE", headers: bearer(account.apiKey) }),
      404,
      "not_found",
    );
    await expectError(
      await call("/v1/keyword-rules/default-en-opt-out", {
        method: "DELETE",
        headers: bearer(account.apiKey),
      }),
      400,
      "invalid_input",
    );
  });

  it("404s for unknown ids and for another account's rule", async () => {
    const other = await createAccount();
    const rule = await expectStatus(
      await callJson("POST", "/v1/keyword-rules", other.apiKey, { keywords: ["HALT"], action: "opt_out" }),
      201,
    );
    await expectError(
      await callJson("PATCH", `/v1/keyword-rules/${rule.id}`, account.apiKey, { enabled: false }),
      404,
      "not_found",
    );
    await expectError(
      await call(`/v1/keyword-rules/${rule.id}`, { method: "DELETE", headers: bearer(account.apiKey) }),
      404,
      "not_found",
    );
    await expectError(
      await callJson("PATCH", "/v1/keyword-rules/default-xx-help", account.apiKey, { enabled: false }),
      404,
      "not_found",
    );
  });
});

describe("/v1/keyword-rules/settings", () => {
  it("reads defaults, changes a subset, refuses unknown languages", async () => {
    expect(
      await expectStatus(await call("/v1/keyword-rules/settings", { headers: bearer(account.apiKey) }), 200),
    ).toEqual({ defaultLevel: "account", languages: null, supportContact: null });
    expect(
      await expectStatus(
        await callJson("PUT", "/v1/keyword-rules/settings", account.apiKey, {
          supportContact: "+1 800 555 0100",
        }),
        200,
      ),
    ).toEqual({ defaultLevel: "account", languages: null, supportContact: "+1 800 555 0100" });
    await expectError(
      await callJson("PUT", "/v1/keyword-rules/settings", account.apiKey, { languages: ["nl"] }),
      400,
      "invalid_input",
    );
  });
});
