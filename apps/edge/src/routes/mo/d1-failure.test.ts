/**
 * When D1 cannot commit, the webhook answers 503 (Retry-After) and records nothing, so the provider's retry
 * starts over and is applied exactly once. The failure is real: a SQLite trigger in this file's
 * own (isolated) database makes the write fail, the way a full or unavailable database would.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { check, createAccount, expectChainValid, type TestAccount } from "../../../test/helpers.ts";
import { configureProvider, expectReply, inboundState, mo, postMo, repliesOf } from "../../../test/mo.ts";

let account: TestAccount;

beforeAll(async () => {
  account = await createAccount({ name: "Acme" });
  await configureProvider(account, "twilio");
});

let errorLines: string[] = [];

beforeEach(() => {
  errorLines = [];
  // The failures are logged as errors (without addresses); collect them instead of printing them.
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    errorLines.push(args.map(String).join(" "));
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await env.DB.prepare("DROP TRIGGER IF EXISTS fail_writes").run();
});

async function failInsertsInto(table: string) {
  await env.DB.prepare(
    `CREATE TRIGGER fail_writes BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END`,
  ).run();
}

describe.each(["ledger_events", "inbound_messages"])("an insert into %s fails", (table) => {
  it("answers 503, records neither the message nor its change; the retry applies it once", async () => {
    const address = table === "ledger_events" ? "+14155550160" : "+14155550161";
    const message = mo("STOP", { from: address });
    await failInsertsInto(table);
    const before = await inboundState(account.id);
    const failed = await postMo(account, "twilio", message);
    expect(failed.status, await failed.clone().text()).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("1");
    expect(errorLines.join("\n")).toContain("simulated storage failure");
    expect(errorLines.join("\n")).not.toContain(address.slice(2));
    expect(await inboundState(account.id)).toEqual(before);
    expect(
      await check(account, { address, sender: "S", channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: true,
    });

    await env.DB.prepare("DROP TRIGGER fail_writes").run();
    const retried = await postMo(account, "twilio", message);
    await expectReply(retried);
    expect(await repliesOf(retried)).toHaveLength(1);
    expect(
      await check(account, { address, sender: "S", channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: false,
    });
    const after = await inboundState(account.id);
    expect(after.events).toHaveLength(before.events.length + 1);
    expect(after.records).toHaveLength(before.records.length + 1);
    await expectChainValid(account.id);
  });
});

it("a HELP that cannot be recorded is not answered with 2xx either", async () => {
  await failInsertsInto("inbound_messages");
  const res = await postMo(account, "twilio", mo("HELP"));
  expect(res.status, await res.clone().text()).toBe(503);
});
