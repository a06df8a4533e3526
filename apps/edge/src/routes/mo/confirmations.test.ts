/**
 * Confirmations through the providers' send APIs, against a local stand-in that records what it
 * gets (test/send-api-standin.ts): one request per change, after the commit, never two — under
 * webhook redelivery, and when the first attempt fails and is retried.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  callJson,
  check,
  createAccount,
  expectError,
  expectStatus,
  type TestAccount,
} from "../../../test/helpers.ts";
import { CREDENTIALS, expectReply, mo, postMo } from "../../../test/mo.ts";
import { confirmationRows, confirmationsSettled, failNext, standInRequests } from "../../../test/send-api.ts";

let counter = 0;
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${++counter}`;

async function configureVonage(account: TestAccount, apiKey: string) {
  return expectStatus(
    await callJson("PUT", "/v1/providers/vonage", account.apiKey, {
      ...CREDENTIALS.vonage!.stored,
      send: { apiKey, apiSecret: "vonage-api-secret" },
    }),
    200,
  );
}

describe("Vonage confirmations through the SMS API", () => {
  it("a STOP sends exactly one confirmation, after the commit; a redelivered webhook sends none", async () => {
    const account = await createAccount({ name: "Acme Vonage" });
    const apiKey = unique("vk");
    expect(await configureVonage(account, apiKey)).toMatchObject({ sendConfigured: true });
    const message = mo("STOP", { from: "+14155550160", to: "+14155550199" });

    expect(await expectReply(await postMo(account, "vonage", message))).toBe("");
    await confirmationsSettled(account.id);
    expect(await check(account, { address: "+14155550160", sender: "X", channel: "sms" })).toMatchObject({
      allowed: false,
    });
    const sent = await standInRequests(`api_key=${apiKey}`);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: "POST", path: "/vonage/sms/json", status: 200 });
    const form = new URLSearchParams(sent[0]!.body);
    expect(Object.fromEntries(form)).toMatchObject({
      api_key: apiKey,
      api_secret: "vonage-api-secret",
      from: "14155550199",
      to: "14155550160",
    });
    expect(form.get("text")).toContain("Acme Vonage");

    // The provider retries the webhook (and a concurrent one): recorded once, confirmed once.
    await Promise.all([postMo(account, "vonage", message), postMo(account, "vonage", message)]);
    await confirmationsSettled(account.id);
    expect(await standInRequests(`api_key=${apiKey}`)).toHaveLength(1);
    expect(await confirmationRows(account.id)).toEqual([
      expect.objectContaining({ subject: `inbound:vonage:${message.id}`, state: "sent", attempts: 1 }),
    ]);
  });

  it("a first attempt answered 500 is retried: one confirmation taken, the webhook already answered 200", async () => {
    const account = await createAccount({ name: "Acme Retry" });
    const apiKey = unique("vr");
    await configureVonage(account, apiKey);
    await failNext(`api_key=${apiKey}`, 500);
    await expectReply(await postMo(account, "vonage", mo("STOP", { from: "+14155550161" })));
    await confirmationsSettled(account.id);
    const attempts = await standInRequests(`api_key=${apiKey}`);
    expect(attempts.map((a) => a.status)).toEqual([500, 200]);
    expect(await confirmationRows(account.id)).toEqual([
      expect.objectContaining({ state: "sent", attempts: 2 }),
    ]);
  });

  it("a refused request (4xx) is not retried", async () => {
    const account = await createAccount({ name: "Acme Refused" });
    const apiKey = unique("vf");
    await configureVonage(account, apiKey);
    await failNext(`api_key=${apiKey}`, 401);
    await expectReply(await postMo(account, "vonage", mo("STOP", { from: "+14155550162" })));
    await confirmationsSettled(account.id);
    expect(await standInRequests(`api_key=${apiKey}`)).toHaveLength(1);
    expect(await confirmationRows(account.id)).toEqual([
      expect.objectContaining({ state: "failed", attempts: 1, lastError: "http 401" }),
    ]);
  });

  it("HELP is answered; a repeated STOP and a plain message are not; without send credentials nothing is sent", async () => {
    const account = await createAccount({ name: "Acme Help" });
    const apiKey = unique("vh");
    await configureVonage(account, apiKey);
    const from = "+14155550163";
    for (const text of ["HELP", "STOP", "STOP", "hello there"])
      await postMo(account, "vonage", mo(text, { from }));
    await confirmationsSettled(account.id);
    expect(await standInRequests(`api_key=${apiKey}`)).toHaveLength(2);

    const silent = await createAccount({ name: "Acme Silent" });
    await expectStatus(
      await callJson("PUT", "/v1/providers/vonage", silent.apiKey, CREDENTIALS.vonage!.stored),
      200,
    );
    await postMo(silent, "vonage", mo("STOP", { from }));
    await confirmationsSettled(silent.id);
    expect(await confirmationRows(silent.id)).toEqual([]);
  });
});

describe("request shapes of the other send APIs", () => {
  it("Telnyx: Bearer API key, JSON { from, to, text }", async () => {
    const account = await createAccount({ name: "Acme Telnyx" });
    const apiKey = unique("KEYtx");
    await expectStatus(
      await callJson("PUT", "/v1/providers/telnyx", account.apiKey, {
        ...CREDENTIALS.telnyx!.stored,
        send: { apiKey },
      }),
      200,
    );
    await expectReply(
      await postMo(account, "telnyx", mo("STOP", { from: "+14155550164", to: "+14155550198" })),
    );
    await confirmationsSettled(account.id);
    const [sent, ...more] = await standInRequests(`Bearer ${apiKey}`);
    expect(more).toEqual([]);
    expect(sent).toMatchObject({ path: "/telnyx/v2/messages", contentType: "application/json" });
    expect(JSON.parse(sent!.body)).toMatchObject({ from: "+14155550198", to: "+14155550164" });
  });

  it("refuses send credentials that do not fit the provider", async () => {
    const account = await createAccount({ name: "Acme Wrong" });
    await expectError(
      await callJson("PUT", "/v1/providers/vonage", account.apiKey, {
        ...CREDENTIALS.vonage!.stored,
        send: { apiKey: "only-half" },
      }),
      400,
      "invalid_input",
    );
    await expectError(
      await callJson("PUT", "/v1/providers/twilio", account.apiKey, {
        ...CREDENTIALS.twilio!.stored,
        send: { apiKey: "x" },
      }),
      400,
      "invalid_input",
    );
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM provider_credentials WHERE account_id = ?")
      .bind(account.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });
});
