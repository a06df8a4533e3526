import { afterEach, describe, expect, it, vi } from "vitest";
import { block, callJson, check, createAccount, expectStatus } from "./helpers.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("structured logs", () => {
  it("are one JSON object per request, with ids and no addresses, reasons or keys", async () => {
    const account = await createAccount();
    const lines: string[] = [];
    for (const method of ["log", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    await expectStatus(await block(account, { address: "+1 415 555 0801", reason: "private reason" }), 201);
    await expectStatus(await block(account, { address: "Secret.Person@Example.com" }), 201);
    await check(account, { address: "+14155550801", sender: "ACME", channel: "sms" });
    await callJson("POST", "/v1/blocklist", account.apiKey, { address: "+1 415 555 0802 not valid" });

    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(requests).toHaveLength(4);
    for (const entry of requests) {
      expect(Object.keys(entry).sort()).toEqual(
        ["accountId", "durationMs", "level", "method", "msg", "requestId", "route", "status"].sort(),
      );
      expect(entry.accountId).toBe(account.id);
    }
    expect(requests.map((r) => [r.method, r.route, r.status])).toEqual([
      ["POST", "/v1/blocklist", 201],
      ["POST", "/v1/blocklist", 201],
      ["GET", "/v1/check", 200],
      ["POST", "/v1/blocklist", 400],
    ]);
    const all = lines.join("\n");
    for (const secret of [
      "4155550801",
      "555 0801",
      "0802",
      "secret.person",
      "Secret.Person",
      "private reason",
      account.apiKey,
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe("safeErrorText", () => {
  it.each([
    {
      name: "drizzle query error with bound parameters",
      err: new Error("Failed query: insert into blocklist_entries values (?, ?)\nparams: acc_1,+14155550100"),
      hidden: ["+14155550100", "4155550100"],
    },
    {
      name: "email in a constraint message",
      err: new Error("UNIQUE failed: jane.doe@example.com"),
      hidden: ["jane.doe"],
    },
    {
      name: "national number in text",
      err: new Error("bad value (415) 555-0100 here"),
      hidden: ["555-0100"],
    },
  ])("redacts addresses: $name", async ({ err, hidden }) => {
    const { safeErrorText } = await import("../src/lib/log.ts");
    const text = safeErrorText(err);
    expect(text.startsWith("Error: ")).toBe(true);
    for (const h of hidden) expect(text).not.toContain(h);
  });
});
