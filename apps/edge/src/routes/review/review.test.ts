/**
 * The review queue: held messages listed by state with the FCC's overdue flag, decided once each
 * (opt_out with the original message as evidence and its confirmation, or dismiss).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  call,
  callJson,
  check,
  createAccount,
  expectChainValid,
  expectError,
  expectStatus,
  type TestAccount,
} from "../../../test/helpers.ts";
import { CREDENTIALS, expectReply, mo, postMo } from "../../../test/mo.ts";
import { confirmationsSettled, standInRequests } from "../../../test/send-api.ts";

const DAY = 86_400_000;

async function list(account: TestAccount, state?: string) {
  const query = state ? `?state=${state}` : "";
  return expectStatus<{
    items: { id: string; text: string; state: string; decision: string | null; overdue: boolean }[];
    nextCursor: string | null;
    overdueCount: number;
  }>(await call(`/v1/review${query}`, { headers: bearer(account.apiKey) }), 200);
}

const decide = (account: TestAccount, id: string, decision: string) =>
  callJson("POST", `/v1/review/${id}`, account.apiKey, { decision });

describe("the review queue", () => {
  let account: TestAccount;
  const apiKey = `vrev${Date.now().toString(36)}`;
  const sender = "+14155550199";

  beforeAll(async () => {
    account = await createAccount({ name: "Acme Review" });
    await expectStatus(
      await callJson("PUT", "/v1/providers/vonage", account.apiKey, {
        ...CREDENTIALS.vonage!.stored,
        send: { apiKey, apiSecret: "vonage-api-secret" },
      }),
      200,
    );
    const held = [
      mo("please stop texting me about bills", { from: "+14155550180", to: sender }),
      mo("don't stop the reminders", { from: "+14155550181", to: sender }),
      mo("stop this nonsense", {
        from: "+14155550182",
        to: sender,
        receivedAt: new Date(Date.now() - 20 * DAY),
      }),
    ];
    for (const message of held) await expectReply(await postMo(account, "vonage", message));
    await confirmationsSettled(account.id);
  });

  it("lists pending items oldest first, flags the one past 10 business days, and counts it", async () => {
    const page = await list(account);
    expect(page.items.map((i) => [i.text, i.state, i.overdue])).toEqual([
      ["please stop texting me about bills", "pending", false],
      ["don't stop the reminders", "pending", false],
      ["stop this nonsense", "pending", true],
    ]);
    expect(page.overdueCount).toBe(1);
    // Held messages changed nothing and confirmed nothing.
    expect(await standInRequests(`api_key=${apiKey}`)).toEqual([]);
  });

  it("opt_out records the keyword's opt-out with the message as evidence and sends one confirmation", async () => {
    const { items } = await list(account);
    const item = items.find((i) => i.text.startsWith("please stop"))!;
    const decided = await expectStatus(await decide(account, item.id, "opt_out"), 200);
    expect(decided).toMatchObject({
      item: { id: item.id, state: "decided", decision: "opt_out", overdue: false },
      changes: [{ status: "appended" }],
      confirmation: { delivery: "send_api" },
    });
    expect(decided.confirmation.text).toContain("Acme Review");
    expect(
      await check(account, { address: "+14155550180", sender, channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: false,
      blockedBy: { source: "keyword", scope: { type: "account" } },
    });
    const chain = await expectChainValid(account.id);
    expect(chain.at(-1)).toMatchObject({
      source: "keyword",
      action: "opt_out",
      evidence: { text: "please stop texting me about bills", match: "review", reviewId: item.id },
    });
    await confirmationsSettled(account.id);
    const sent = await standInRequests(`api_key=${apiKey}`);
    expect(sent).toHaveLength(1);
    expect(new URLSearchParams(sent[0]!.body).get("to")).toBe("14155550180");

    await expectError(await decide(account, item.id, "dismiss"), 409, "conflict");
    await expectError(await decide(account, item.id, "opt_out"), 409, "conflict");
    await confirmationsSettled(account.id);
    expect(await standInRequests(`api_key=${apiKey}`)).toHaveLength(1);
  });

  it("dismiss changes nothing; the list filters by state", async () => {
    const before = await expectChainValid(account.id);
    const item = (await list(account)).items.find((i) => i.text.startsWith("don't stop"))!;
    expect(await expectStatus(await decide(account, item.id, "dismiss"), 200)).toMatchObject({
      item: { decision: "dismiss", state: "decided" },
      changes: [],
      confirmation: null,
    });
    expect(await expectChainValid(account.id)).toHaveLength(before.length);
    expect((await list(account, "pending")).items.map((i) => i.text)).toEqual(["stop this nonsense"]);
    expect((await list(account, "decided")).items.map((i) => i.decision)).toEqual(["opt_out", "dismiss"]);
    const all = await list(account, "all");
    expect(all.items).toHaveLength(3);
    expect(all.overdueCount).toBe(1);
  });

  it("decisions racing for one item: one wins, the other is 409", async () => {
    const item = (await list(account, "pending")).items[0]!;
    const answers = await Promise.all([
      decide(account, item.id, "opt_out"),
      decide(account, item.id, "dismiss"),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect((await list(account)).overdueCount).toBe(0);
  });

  it("another account's item, an unknown id and a bad decision", async () => {
    const stranger = await createAccount({ name: "Stranger" });
    const row = await env.DB.prepare("SELECT id FROM inbound_messages WHERE account_id = ? LIMIT 1")
      .bind(account.id)
      .first<{ id: number }>();
    await expectError(await decide(stranger, String(row!.id), "opt_out"), 404, "not_found");
    await expectError(await decide(account, "999999999", "opt_out"), 404, "not_found");
    await expectError(await decide(account, String(row!.id), "block"), 400, "invalid_input");
  });
});
