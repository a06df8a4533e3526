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
    // The successful check is a quiet read: Workers Logs has its invocation; no line of ours.
    expect(requests).toHaveLength(3);
    for (const entry of requests) {
      expect(Object.keys(entry).sort()).toEqual(
        ["accountId", "durationMs", "level", "method", "msg", "requestId", "route", "status"].sort(),
      );
      expect(entry.accountId).toBe(account.id);
    }
    expect(requests.map((r) => [r.method, r.route, r.status])).toEqual([
      ["POST", "/v1/blocklist", 201],
      ["POST", "/v1/blocklist", 201],
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

describe("which requests get a line of their own", () => {
  it("every change and every refusal; not a read that succeeded", async () => {
    const account = await createAccount();
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation(
      (...args: unknown[]) => void lines.push(args.map(String).join(" ")),
    );
    const get = (path: string) => callJson("GET", path, account.apiKey);
    await expectStatus(await get("/v1/check?address=%2B14155550803&sender=A&channel=sms"), 200);
    await expectStatus(await get("/v1/blocklist"), 200);
    await get("/v1/check?address=nope&sender=A&channel=sms"); // 400
    await callJson("GET", "/v1/blocklist", "sk_test_wrong"); // 401
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(logged.map((l) => [l.method, l.route, l.status])).toEqual([
      ["GET", "/v1/check", 400],
      ["GET", "/v1/blocklist", 401],
    ]);
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
