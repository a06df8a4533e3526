/**
 * What an end user's keywords do, end to end: levels, START, HELP, repeats, review, the account's
 * own rules and settings, batches and concurrent deliveries. Through Twilio (TwiML replies) and
 * the generic format (batches).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  callJson,
  check,
  createAccount,
  expectChainValid,
  expectError,
  expectStatus,
  type TestAccount,
} from "../../../test/helpers.ts";
import {
  configureProvider,
  expectReply,
  inboundState,
  type MoMessage,
  mo,
  postMo,
  postSigned,
  repliesOf,
} from "../../../test/mo.ts";

const USER = "+14155550100";
const SENDER_A = "+14155550199";
const SENDER_B = "+14155550198";

let account: TestAccount;

beforeEach(async () => {
  account = await createAccount({ name: "Acme" });
  await configureProvider(account, "twilio");
  await configureProvider(account, "generic");
});

async function twilio(text: string, fields: Partial<MoMessage> = {}) {
  const res = await postMo(account, "twilio", mo(text, fields));
  await expectReply(res);
  return repliesOf(res);
}

async function allowed(sender: string, address = USER) {
  const result = await check(account, { address, sender, channel: "sms", consistency: "strong" });
  return result.allowed;
}

async function settings(body: Record<string, unknown>) {
  return expectStatus(await callJson("PUT", "/v1/keyword-rules/settings", account.apiKey, body), 200);
}

describe("account level (the default)", () => {
  it("STOP to one sender blocks every sender; START undoes it; each change is confirmed once", async () => {
    expect(await twilio("Stop.", { to: SENDER_A })).toEqual([
      "Acme: You are unsubscribed and will receive no more messages from us. Reply START to resubscribe.",
    ]);
    expect(await allowed(SENDER_A)).toBe(false);
    expect(await allowed(SENDER_B)).toBe(false);
    // Only sms is blocked: the keyword came by SMS.
    expect(
      (await check(account, { address: USER, sender: SENDER_A, channel: "whatsapp", consistency: "strong" }))
        .allowed,
    ).toBe(true);

    expect(await twilio("START", { to: SENDER_B })).toEqual([
      "Acme: You are resubscribed and will receive messages again. Reply STOP to unsubscribe.",
    ]);
    expect(await allowed(SENDER_A)).toBe(true);
    expect(await allowed(SENDER_B)).toBe(true);
    const chain = await expectChainValid(account.id);
    expect(chain.map((e) => [e.action, e.source, e.scope])).toEqual([
      ["opt_out", "keyword", { type: "account" }],
      ["opt_in", "keyword", { type: "account" }],
    ]);
  });

  it("a second STOP (a new message) from a blocked address changes nothing and sends no confirmation", async () => {
    expect(await twilio("STOP")).toHaveLength(1);
    expect(await twilio("stop")).toEqual([]);
    expect(await twilio("UNSUBSCRIBE")).toEqual([]);
    const state = await inboundState(account.id);
    expect(state.events).toHaveLength(1);
    expect(state.records.map((r) => [r.action, r.seqs])).toEqual([
      ["opt_out", JSON.stringify([state.events[0]!.seq])],
      ["opt_out", "[]"],
      ["opt_out", "[]"],
    ]);
  });

  it("START from an address that is not blocked changes nothing and says nothing", async () => {
    expect(await twilio("START")).toEqual([]);
    expect((await inboundState(account.id)).events).toEqual([]);
  });

  it("HELP changes nothing and is answered, with the support contact, also to an opted-out number", async () => {
    expect(await twilio("HELP")).toEqual([
      "Acme: Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.",
    ]);
    await settings({ supportContact: "help@acme.example" });
    await twilio("STOP");
    expect(await twilio("help")).toEqual([
      "Acme: For help, contact help@acme.example. Reply STOP to unsubscribe. Msg & data rates may apply.",
    ]);
    expect((await inboundState(account.id)).events).toHaveLength(1);
    expect(await allowed(SENDER_A)).toBe(false);
  });

  it("confirms in the keyword's language", async () => {
    expect(await twilio("Arrêt", { from: "+33612345678" })).toEqual([
      "Acme : Vous êtes désabonné(e) et ne recevrez plus de messages. Répondez START pour vous réabonner.",
    ]);
    expect(await twilio("baja", { from: "+34612345678" })).toEqual([
      "Acme: Te has dado de baja y no recibirás más mensajes. Responde ALTA para volver a suscribirte.",
    ]);
  });
});

describe("sender level (an account setting)", () => {
  beforeEach(async () => {
    await settings({ defaultLevel: "sender" });
  });

  it("STOP blocks only the sender it was sent to; START to that sender undoes it", async () => {
    expect(await twilio("STOP", { to: SENDER_A })).toHaveLength(1);
    expect(await allowed(SENDER_A)).toBe(false);
    expect(await allowed(SENDER_B)).toBe(true);
    expect(await twilio("STOP", { to: SENDER_B })).toHaveLength(1);
    expect(await allowed(SENDER_B)).toBe(false);

    expect(await twilio("START", { to: SENDER_A })).toEqual([
      "Acme: You are resubscribed and will receive messages again. Reply STOP to unsubscribe.",
    ]);
    expect(await allowed(SENDER_A)).toBe(true);
    expect(await allowed(SENDER_B)).toBe(false);
    const chain = await expectChainValid(account.id);
    expect(chain.map((e) => [e.action, e.scope])).toEqual([
      ["opt_out", { type: "sender", sender: SENDER_A }],
      ["opt_out", { type: "sender", sender: SENDER_B }],
      ["opt_in", { type: "sender", sender: SENDER_A }],
    ]);
  });

  it("START that leaves an account-level block in place says the address stays opted out", async () => {
    await expectStatus(await block(account, { address: USER, reason: "asked by phone" }), 201);
    await twilio("STOP", { to: SENDER_A });
    expect(await twilio("START", { to: SENDER_A })).toEqual([
      "Acme: You remain unsubscribed because an earlier opt-out still applies. Reply HELP for help.",
    ]);
    expect(await allowed(SENDER_A)).toBe(false);
    // The sender-level entry the keyword made is gone; the API's block stands.
    const chain = await expectChainValid(account.id);
    expect(chain.at(-1)).toMatchObject({ action: "opt_in", scope: { type: "sender", sender: SENDER_A } });
  });
});

describe("account-level START", () => {
  it("lifts the account entry and the sender's own entry", async () => {
    await settings({ defaultLevel: "sender" });
    await twilio("STOP", { to: SENDER_A });
    await settings({ defaultLevel: "account" });
    await twilio("STOP", { to: SENDER_B });
    expect(await twilio("START", { to: SENDER_A })).toHaveLength(1);
    expect(await allowed(SENDER_A)).toBe(true);
    expect(await allowed(SENDER_B)).toBe(true);
  });
});

describe("messages that merely contain a keyword", () => {
  it("change nothing and are listed for review with their text", async () => {
    expect(await twilio("Please stop this bill from going out twice")).toEqual([]);
    expect(await twilio("thanks, see you")).toEqual([]);
    expect(await allowed(SENDER_A)).toBe(true);
    const res = await call("/v1/review", { headers: bearer(account.apiKey) });
    const page = await expectStatus(res, 200);
    expect(page.nextCursor).toBeNull();
    expect(page.items).toEqual([
      expect.objectContaining({
        provider: "twilio",
        address: USER,
        sender: SENDER_A,
        text: "Please stop this bill from going out twice",
        keyword: "STOP",
        ruleId: "default-en-opt-out",
      }),
    ]);
  });

  it("page by cursor", async () => {
    for (const text of ["stop this bill", "don't stop now", "can you stop by later"]) await twilio(text);
    const first = await expectStatus(
      await call("/v1/review?limit=2", { headers: bearer(account.apiKey) }),
      200,
    );
    expect(first.items).toHaveLength(2);
    const second = await expectStatus(
      await call(`/v1/review?limit=2&cursor=${first.nextCursor}`, { headers: bearer(account.apiKey) }),
      200,
    );
    expect(second).toMatchObject({ items: [{ text: "can you stop by later" }], nextCursor: null });
  });
});

describe("the account's own rules", () => {
  it("apply to the next message (isolate cache invalidated by the rules version); disabling a default works", async () => {
    expect(await twilio("PAUSE")).toEqual([]); // loads and caches the default rules
    const rule = await expectStatus(
      await callJson("POST", "/v1/keyword-rules", account.apiKey, {
        keywords: ["PAUSE"],
        action: "opt_out",
        level: "sender",
        replies: { en: "{brand}: paused. Text {start} to resume." },
      }),
      201,
    );
    expect(await twilio("pause", { to: SENDER_A })).toEqual(["Acme: paused. Text START to resume."]);
    expect(await allowed(SENDER_A)).toBe(false);
    expect(await allowed(SENDER_B)).toBe(true);
    expect(JSON.parse((await inboundState(account.id)).events[0]!.evidence)).toMatchObject({
      ruleId: rule.id,
    });

    await expectStatus(
      await callJson("PATCH", "/v1/keyword-rules/default-en-opt-out", account.apiKey, { enabled: false }),
      200,
    );
    expect(await twilio("UNSUBSCRIBE", { from: "+14155550111" })).toEqual([]);
    expect(await allowed(SENDER_A, "+14155550111")).toBe(true);
    await expectStatus(
      await callJson("PATCH", "/v1/keyword-rules/default-en-opt-out", account.apiKey, { enabled: true }),
      200,
    );
    expect(await twilio("UNSUBSCRIBE", { from: "+14155550112" })).toHaveLength(1);
  });

  it("rules limited to a sender win over rules for all senders", async () => {
    await expectStatus(
      await callJson("POST", "/v1/keyword-rules", account.apiKey, {
        keywords: ["STOP"],
        action: "help",
        senders: [SENDER_B],
      }),
      201,
    );
    expect(await twilio("STOP", { to: SENDER_B })).toEqual([
      "Acme: Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.",
    ]);
    expect(await allowed(SENDER_B)).toBe(true);
    expect(await twilio("STOP", { to: SENDER_A })).toHaveLength(1);
    expect(await allowed(SENDER_B)).toBe(false);
  });
});

function genericBody(messages: { id: string; from: string; to: string; text: string }[]) {
  return JSON.stringify({ messages });
}

describe("batches (generic format)", () => {
  it("applies each message in order and answers each change once", async () => {
    const body = genericBody([
      { id: "b-1", from: USER, to: SENDER_A, text: "STOP" },
      { id: "b-2", from: "+14155550101", to: SENDER_A, text: "HELP" },
      { id: "b-3", from: "+14155550102", to: SENDER_A, text: "hello there" },
      { id: "b-1", from: USER, to: SENDER_A, text: "STOP" }, // the provider repeated one
      { id: "b-4", from: USER, to: SENDER_A, text: "START" },
    ]);
    const res = await postSigned(account, "generic", body, "application/json");
    const answer = JSON.parse(await expectReply(res));
    expect(answer.replies.map((r: { to: string; from: string }) => [r.to, r.from])).toEqual([
      [USER, SENDER_A],
      ["+14155550101", SENDER_A],
      [USER, SENDER_A],
    ]);
    expect(await allowed(SENDER_A)).toBe(true);
    const state = await inboundState(account.id);
    expect(state.records.map((r) => r.id)).toEqual(["b-1", "b-2", "b-3", "b-4"]);
    // START's sender-level removal found no entry: only the account-level one was lifted.
    expect(state.events.map((e) => [e.action, e.scopeKey])).toEqual([
      ["opt_out", "account"],
      ["opt_in", "account"],
    ]);
    await expectChainValid(account.id);
  });

  it("refuses an unreadable sender number with 400, applies the others, logs no number", async () => {
    const body = genericBody([
      { id: "u-1", from: USER, to: SENDER_A, text: "STOP" },
      { id: "u-2", from: "5550123", to: SENDER_A, text: "STOP" },
    ]);
    const message = await expectError(
      await postSigned(account, "generic", body, "application/json"),
      400,
      "invalid_address",
    );
    expect(message).toContain("messages.1");
    expect(message).not.toContain("5550123");
    expect(await allowed(SENDER_A)).toBe(false);
    expect((await inboundState(account.id)).records.map((r) => r.id)).toEqual(["u-1"]);
  });
});

describe("a sender address that does not fit the channel", () => {
  it("refuses an email address as an SMS's sender with 400 and adds no sms entry for it", async () => {
    // Finding: the generic webhook took an email address as `from` and blocked it on sms.
    const body = genericBody([
      { id: "e-1", from: "someone@example.com", to: SENDER_A, text: "STOP" },
      { id: "e-2", from: "+14155550163", to: SENDER_A, text: "STOP" },
    ]);
    const message = await expectError(
      await postSigned(account, "generic", body, "application/json"),
      400,
      "invalid_address",
    );
    expect(message).toMatch(/^messages\.0: the sender's address is not a phone number/);
    expect(message).not.toContain("someone@example.com");
    const { results } = await env.DB.prepare(
      "SELECT address FROM blocklist_entries WHERE account_id = ? AND address LIKE '%@%'",
    )
      .bind(account.id)
      .all();
    expect(results).toEqual([]);
    expect((await inboundState(account.id)).records.map((r) => r.id)).toContain("e-2");
    expect((await inboundState(account.id)).records.map((r) => r.id)).not.toContain("e-1");
  });
});

describe("concurrent deliveries of one message", () => {
  it("have one effect, one ledger event and one confirmation", async () => {
    const message = mo("STOP");
    const responses = await Promise.all([1, 2, 3, 4].map(() => postMo(account, "twilio", message)));
    const replies = (await Promise.all(responses.map((r) => expectReply(r).then(() => repliesOf(r))))).flat();
    expect(replies).toHaveLength(1);
    const state = await inboundState(account.id);
    expect(state.events).toHaveLength(1);
    expect(state.records).toHaveLength(1);
  });
});

describe("keyword_reply trigger rules", () => {
  it("fire on an inbound message once, with their own keywords, beside the keyword rules", async () => {
    await expectStatus(
      await callJson("POST", "/v1/triggers", account.apiKey, {
        name: "no more deals",
        on: { type: "keyword_reply", keywords: ["no more deals"] },
        channel: "*",
      }),
      201,
    );
    const message = mo("No more deals!", { to: SENDER_A });
    for (let i = 0; i < 2; i++) {
      const res = await postMo(account, "twilio", message);
      await expectReply(res);
      expect(await repliesOf(res)).toEqual([]);
    }
    const email = await check(account, {
      address: USER,
      sender: SENDER_B,
      channel: "whatsapp",
      consistency: "strong",
    });
    expect(email).toMatchObject({ allowed: false, blockedBy: { source: "trigger", channel: "*" } });
    const chain = await expectChainValid(account.id);
    expect(chain.map((e) => e.source)).toEqual(["trigger"]);
  });
});
