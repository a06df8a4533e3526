/**
 * Every provider, end to end in workerd: its documented payload, signed with its own scheme,
 * applied once; a replay, a forgery, a missing signature and a tampered body.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { inboundPayload, signWebhook } from "../../../scripts/mo-payloads.mjs";
import { call, check, createAccount, expectChainValid, type TestAccount } from "../../../test/helpers.ts";
import {
  CREDENTIALS,
  configureProvider,
  expectReply,
  forgedSecret,
  INLINE_PROVIDERS,
  inboundState,
  mo,
  ORIGIN,
  PROVIDERS,
  postMo,
  repliesOf,
} from "../../../test/mo.ts";

const CONTENT_TYPE: Record<string, string | null> = {
  twilio: "text/xml; charset=utf-8",
  plivo: "application/xml; charset=utf-8",
  generic: "application/json; charset=utf-8",
};

describe.each(PROVIDERS)("%s", (provider) => {
  let account: TestAccount;
  const sender = "+14155550199";

  beforeAll(async () => {
    account = await createAccount({ name: `Acme ${provider}` });
    await configureProvider(account, provider);
  });

  it("a signed STOP blocks the address with one ledger event and one confirmation; a replay changes nothing", async () => {
    const message = mo("Stop.", { from: "+14155550101", to: sender });
    const res = await postMo(account, provider, message);
    const body = await expectReply(res);
    expect(res.headers.get("content-type")).toBe(CONTENT_TYPE[provider] ?? null);
    const replies = await repliesOf(res);
    if (INLINE_PROVIDERS.includes(provider)) {
      expect(replies).toHaveLength(1);
      expect(replies[0]).toContain(`Acme ${provider}`);
      expect(replies[0]).toContain("START");
    } else {
      expect(body).toBe("");
    }

    const blocked = await check(account, {
      address: "+14155550101",
      sender: "+14155550123",
      channel: "sms",
      consistency: "strong",
    });
    expect(blocked).toMatchObject({
      allowed: false,
      blockedBy: { scope: { type: "account" }, source: "keyword" },
    });
    const first = await inboundState(account.id);
    expect(first.events).toHaveLength(1);
    expect(JSON.parse(first.events[0]!.evidence)).toMatchObject({
      provider,
      providerMessageId: message.id,
      ruleId: "default-en-opt-out",
      keyword: "STOP",
      text: "Stop.",
      sender,
    });
    expect(first.records).toEqual([
      { id: message.id, action: "opt_out", review: 0, seqs: JSON.stringify([first.events[0]!.seq]) },
    ]);

    const replay = await postMo(account, provider, message);
    await expectReply(replay);
    expect(await repliesOf(replay)).toEqual([]);
    expect(await inboundState(account.id)).toEqual(first);
    await expectChainValid(account.id);
  });

  it("refuses a forged signature with 401 and records nothing", async () => {
    const before = await inboundState(account.id);
    const res = await postMo(account, provider, mo("STOP", { from: "+14155550102" }), {
      secret: await forgedSecret(provider),
    });
    expect(res.status, await res.clone().text()).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_signature");
    expect(await inboundState(account.id)).toEqual(before);
  });

  it("refuses a request without the signature and one whose body was changed after signing", async () => {
    const before = await inboundState(account.id);
    // Vonage's SMS API signs with a `sig` parameter of the body rather than a header.
    const unsigned = await postMo(account, provider, mo("STOP", { from: "+14155550103" }), {
      unsigned: true,
      alterBody: (body) => (provider === "vonage" ? body.replace(/&sig=[0-9a-f]+/, "") : body),
    });
    expect(unsigned.status, await unsigned.clone().text()).toBe(401);
    // Basic-auth providers (infobip, bandwidth) do not sign bodies: their credentials are the proof.
    if (provider !== "infobip" && provider !== "bandwidth") {
      const tampered = await postMo(account, provider, mo("HELP", { from: "+14155550103" }), {
        alterBody: (body) => body.replace(/HELP/g, "STOP"),
      });
      expect(tampered.status, await tampered.clone().text()).toBe(401);
    }
    expect(await inboundState(account.id)).toEqual(before);
    expect(
      await check(account, { address: "+14155550103", sender, channel: "sms", consistency: "strong" }),
    ).toMatchObject({ allowed: true });
  });
});

describe("GET webhooks (Vonage can be configured to use GET)", () => {
  it("a signed GET is applied like a POST", async () => {
    const account = await createAccount({ name: "Acme GET" });
    await configureProvider(account, "vonage");
    const { body, contentType } = inboundPayload(
      "vonage",
      mo("STOP", { from: "+14155550171", to: "+14155550199" }),
    );
    const signed = await signWebhook("vonage", {
      url: `${ORIGIN}/mo/vonage/${account.id}`,
      body,
      contentType,
      secret: CREDENTIALS.vonage!.signingSecret,
      algorithm: "sha256",
    });
    await expectReply(await call(`/mo/vonage/${account.id}?${signed.body}`));
    expect(
      await check(account, { address: "+14155550171", sender: "X", channel: "sms", consistency: "strong" }),
    ).toMatchObject({ allowed: false });
  });
});
