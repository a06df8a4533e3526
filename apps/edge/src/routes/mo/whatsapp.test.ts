/**
 * WhatsApp (Meta Cloud API) end to end in workerd: the subscription handshake, signatures over
 * the raw body, keyword opt-outs on the whatsapp channel (text and the stop-promotions button),
 * statuses as message events in the same commit, and redeliveries recorded once.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { whatsappPayload } from "../../../scripts/mo-payloads.mjs";
import {
  call,
  callJson,
  check,
  createAccount,
  expectChainValid,
  expectError,
  expectStatus,
  type TestAccount,
} from "../../../test/helpers.ts";
import { expectReply, inboundState, postSigned } from "../../../test/mo.ts";

const APP_SECRET = "whatsapp-app-secret-0123456789";
const VERIFY_TOKEN = "meta-verify-token-42";
const BUSINESS = "+15550001234";

async function configureWhatsApp(account: TestAccount, options: Record<string, unknown> = {}) {
  return expectStatus(
    await callJson("PUT", "/v1/providers/whatsapp", account.apiKey, {
      secret: APP_SECRET,
      options: { verifyToken: VERIFY_TOKEN, ...options },
    }),
    200,
  );
}

let counter = 0;
const wamid = () => `wamid.HBgL${Date.now()}x${++counter}`;

function post(account: TestAccount, payload: { body: string; contentType: string }, secret = APP_SECRET) {
  return postSigned(account, "whatsapp", payload.body, payload.contentType, { secret });
}

describe("PUT /v1/providers/whatsapp", () => {
  it("answers the webhook URL and never shows the verify token; refuses a missing token", async () => {
    const account = await createAccount({ name: "Acme WA" });
    const stored = await configureWhatsApp(account, { stopPayloads: ["Stop promotions", "UNSUB_BTN"] });
    expect(stored).toMatchObject({
      provider: "whatsapp",
      webhookUrl: `https://edge.test/mo/whatsapp/${account.id}`,
      options: { stopPayloads: ["Stop promotions", "UNSUB_BTN"] },
      sendConfigured: false,
    });
    expect(JSON.stringify(stored)).not.toContain(VERIFY_TOKEN);
    const listing = await expectStatus(
      await call("/v1/providers", { headers: { authorization: `Bearer ${account.apiKey}` } }),
      200,
    );
    expect(JSON.stringify(listing)).not.toContain(VERIFY_TOKEN);
    await expectError(
      await callJson("PUT", "/v1/providers/whatsapp", account.apiKey, { secret: APP_SECRET }),
      400,
      "invalid_input",
    );
  });
});

describe("GET /mo/whatsapp/{accountId}: Meta's subscription check", () => {
  let account: TestAccount;
  beforeAll(async () => {
    account = await createAccount({ name: "Acme WA handshake" });
    await configureWhatsApp(account);
  });

  it("echoes the challenge as text/plain when the verify token matches", async () => {
    const q = new URLSearchParams({
      "hub.mode": "subscribe",
      "hub.verify_token": VERIFY_TOKEN,
      "hub.challenge": "1158201444",
    });
    const res = await call(`/mo/whatsapp/${account.id}?${q}`);
    expect(await expectReply(res)).toBe("1158201444");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  });

  it.each([
    { name: "a wrong token", mode: "subscribe", token: "not-the-token" },
    { name: "another mode", mode: "unsubscribe", token: VERIFY_TOKEN },
  ])("refuses $name with 403", async ({ mode, token }) => {
    const q = new URLSearchParams({ "hub.mode": mode, "hub.verify_token": token, "hub.challenge": "42" });
    await expectError(await call(`/mo/whatsapp/${account.id}?${q}`), 403, "forbidden");
  });
});

describe("POST /mo/whatsapp/{accountId}", () => {
  let account: TestAccount;
  beforeAll(async () => {
    account = await createAccount({ name: "Acme WA" });
    await configureWhatsApp(account);
  });

  it("refuses a forged signature with 401 and records nothing", async () => {
    const before = await inboundState(account.id);
    const payload = whatsappPayload({
      to: BUSINESS,
      messages: [{ id: wamid(), from: "+14155550140", text: "STOP" }],
    });
    const res = await post(account, payload, "not-the-app-secret");
    await expectError(res, 401, "invalid_signature");
    expect(await inboundState(account.id)).toEqual(before);
  });

  it("a STOP blocks the whatsapp channel (not sms), answers an empty 200, and a redelivery changes nothing", async () => {
    const from = "+14155550141";
    const payload = whatsappPayload({ to: BUSINESS, messages: [{ id: wamid(), from, text: "STOP" }] });
    expect(await expectReply(await post(account, payload))).toBe("");
    expect(
      await check(account, { address: from, sender: BUSINESS, channel: "whatsapp", consistency: "strong" }),
    ).toMatchObject({
      allowed: false,
      blockedBy: { channel: "whatsapp", source: "keyword" },
    });
    expect(
      await check(account, { address: from, sender: BUSINESS, channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: true,
    });
    const first = await inboundState(account.id);
    expect(await expectReply(await post(account, payload))).toBe("");
    expect(await inboundState(account.id)).toEqual(first);
    await expectChainValid(account.id);
  });

  it("reads the marketing template's Stop promotions button as STOP", async () => {
    const from = "+14155550142";
    const payload = whatsappPayload({
      to: BUSINESS,
      messages: [{ id: wamid(), from, button: "Stop promotions" }],
    });
    await expectReply(await post(account, payload));
    expect(await check(account, { address: from, sender: BUSINESS, channel: "whatsapp" })).toMatchObject({
      allowed: false,
    });
  });

  it("reads a configured stop payload, and leaves other buttons alone", async () => {
    const custom = await createAccount({ name: "Acme WA custom" });
    await configureWhatsApp(custom, { stopPayloads: ["UNSUB_BTN"] });
    const payload = whatsappPayload({
      to: BUSINESS,
      messages: [
        { id: wamid(), from: "+14155550143", button: "UNSUB_BTN" },
        { id: wamid(), from: "+14155550144", button: "Yes, remind me" },
      ],
    });
    await expectReply(await post(custom, payload));
    expect(
      await check(custom, { address: "+14155550143", sender: BUSINESS, channel: "whatsapp" }),
    ).toMatchObject({
      allowed: false,
    });
    expect(
      await check(custom, { address: "+14155550144", sender: BUSINESS, channel: "whatsapp" }),
    ).toMatchObject({
      allowed: true,
    });
  });

  it("records statuses as message events (read as opened) in the same commit as the messages", async () => {
    const messageId = wamid();
    const recipient = "+14155550145";
    const payload = whatsappPayload({
      to: BUSINESS,
      messages: [{ id: wamid(), from: "+14155550146", text: "STOP" }],
      statuses: [
        { id: messageId, recipient, status: "sent" },
        { id: messageId, recipient, status: "delivered" },
        { id: messageId, recipient, status: "read" },
      ],
    });
    await expectReply(await post(account, payload));
    const { results } = await env.DB.prepare(
      "SELECT type, origin FROM message_events WHERE account_id = ? AND message_id = ? ORDER BY type",
    )
      .bind(account.id, messageId)
      .all<{ type: string; origin: string }>();
    expect(results).toEqual([
      { type: "delivered", origin: "provider" },
      { type: "opened", origin: "provider" },
      { type: "sent", origin: "provider" },
    ]);
    const message = await env.DB.prepare(
      "SELECT address, sender, channel FROM messages WHERE account_id = ? AND message_id = ?",
    )
      .bind(account.id, messageId)
      .first();
    expect(message).toEqual({ address: recipient, sender: BUSINESS, channel: "whatsapp" });
    expect(
      await check(account, { address: "+14155550146", sender: BUSINESS, channel: "whatsapp" }),
    ).toMatchObject({
      allowed: false,
    });
  });

  it("takes a webhook of statuses alone", async () => {
    const messageId = wamid();
    const payload = whatsappPayload({
      to: BUSINESS,
      statuses: [{ id: messageId, recipient: "+14155550147", status: "delivered" }],
    });
    await expectReply(await post(account, payload));
    const row = await env.DB.prepare(
      "SELECT type FROM message_events WHERE account_id = ? AND message_id = ?",
    )
      .bind(account.id, messageId)
      .first();
    expect(row).toEqual({ type: "delivered" });
  });
});
