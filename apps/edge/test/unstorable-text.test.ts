/**
 * Text the ledger cannot carry (U+0000, unpaired surrogates) is refused at every route that takes
 * JSON and may write, with a 400 naming the field, and nothing is written. Finding: one tenant's
 * `"reason":"x\u0000y"` was stored in the ledger, PostgreSQL refused it, and the sync daemon stopped
 * at that event for every tenant. The routes come from the OpenAPI document: a new JSON route
 * must be listed here (as a write with a sample, or as read-only) or this suite fails.
 */
import { findUnstorableText } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  callJson,
  createAccount,
  documentOperations,
  expectChainValid,
  expectError,
  expectStatus,
  type OperationKey,
  SYNC_TOKEN,
  storageSnapshot,
  type TestAccount,
} from "./helpers.ts";
import { configureProvider, mo, postMo, postSigned } from "./mo.ts";

let account: TestAccount;
let ruleId: string;
let reviewId: string;

beforeAll(async () => {
  account = await createAccount({ defaultRegion: "US" });
  const rule = await expectStatus(
    await callJson("POST", "/v1/keyword-rules", account.apiKey, { keywords: ["PARAR"], action: "opt_out" }),
    201,
  );
  ruleId = rule.id;
  // A message held for review ("don't stop" is not an opt-out until a person says so).
  await configureProvider(account, "generic");
  await expectStatus(await postMo(account, "generic", mo("don't stop the reminders")), 200);
  const held = await expectStatus<{ items: { id: string }[] }>(
    await callJson("GET", "/v1/review", account.apiKey),
    200,
  );
  reviewId = held.items[0]!.id;
});

const NUL = "\u0000";
const LONE = "\ud800";

interface WriteCase {
  token: () => string;
  path: () => string;
  /** A valid body with `bad` placed in one text field; `field` is the path the 400 must name. */
  body: (bad: string) => unknown;
  field: string;
  /** The valid body without the spoiled field, where the field exists only to be spoiled. */
  plain?: unknown;
}

const now = () => new Date().toISOString();

/** Every JSON route that may write, with the text field each sample spoils. */
const WRITES: Partial<Record<OperationKey, WriteCase>> = {
  "POST /v1/accounts": {
    token: () => ADMIN_TOKEN,
    path: () => "/v1/accounts",
    body: (b) => ({ name: `acme${b}` }),
    field: "name",
  },
  "PATCH /v1/accounts/{id}": {
    token: () => ADMIN_TOKEN,
    path: () => `/v1/accounts/${account.id}`,
    body: (b) => ({ name: `acme${b}` }),
    field: "name",
  },
  "POST /v1/keys": {
    token: () => account.apiKey,
    path: () => "/v1/keys",
    body: (b) => ({ name: `ci${b}` }),
    field: "name",
  },
  "POST /v1/blocklist": {
    token: () => account.apiKey,
    path: () => "/v1/blocklist",
    body: (b) => ({ address: "+14155550901", reason: `x${b}y` }),
    field: "reason",
  },
  "DELETE /v1/blocklist": {
    token: () => account.apiKey,
    path: () => "/v1/blocklist",
    body: (b) => ({ address: "+14155550901", scope: { type: "sender", sender: `ACME${b}` } }),
    field: "scope.sender",
  },
  "POST /v1/sync/apply": {
    token: () => SYNC_TOKEN,
    path: () => "/v1/sync/apply",
    body: (b) => ({
      changes: [
        {
          id: "pg-text-1",
          accountId: account.id,
          address: "+14155550902",
          channel: "*",
          scope: { type: "account" },
          action: "opt_out",
          occurredAt: now(),
          reason: `from CRM${b}`,
        },
      ],
    }),
    field: "changes.0.reason",
  },
  "POST /v1/links": {
    token: () => account.apiKey,
    path: () => "/v1/links",
    body: (b) => ({ address: "+14155550903", campaign: `spring${b}` }),
    field: "campaign",
  },
  "POST /v1/links/batch": {
    token: () => account.apiKey,
    path: () => "/v1/links/batch",
    body: (b) => ({ items: [{ address: "+14155550903" }, { address: "+14155550904", messageId: `m${b}` }] }),
    field: "items.1.messageId",
  },
  "PUT /v1/links/settings": {
    token: () => account.apiKey,
    path: () => "/v1/links/settings",
    body: (b) => ({ brandName: `Acme${b}` }),
    field: "brandName",
  },
  "POST /v1/senders": {
    token: () => account.apiKey,
    path: () => "/v1/senders",
    body: (b) => ({ sender: `ACME${b}` }),
    field: "sender",
  },
  "POST /v1/triggers": {
    token: () => account.apiKey,
    path: () => "/v1/triggers",
    body: (b) => ({ name: `bounces${b}`, on: { type: "bounced" } }),
    field: "name",
  },
  "POST /v1/events": {
    token: () => account.apiKey,
    path: () => "/v1/events",
    body: (b) => ({
      events: [
        {
          type: "replied",
          messageId: "text-1",
          address: "+14155550905",
          sender: "ACME",
          channel: "sms",
          occurredAt: now(),
          text: `STOP${b}`,
        },
      ],
    }),
    field: "events.0.text",
  },
  "PUT /v1/providers/{provider}": {
    token: () => account.apiKey,
    path: () => "/v1/providers/twilio",
    body: (b) => ({ secret: `token${b}` }),
    field: "secret",
  },
  "POST /v1/keyword-rules": {
    token: () => account.apiKey,
    path: () => "/v1/keyword-rules",
    body: (b) => ({ keywords: ["ALTO"], action: "opt_out", replies: { es: `Baja${b}` } }),
    field: "replies.es",
  },
  "PATCH /v1/keyword-rules/{id}": {
    token: () => account.apiKey,
    path: () => `/v1/keyword-rules/${ruleId}`,
    // The only field is a boolean: a spoiled member name is still text the body carries.
    body: (b) => JSON.parse(`{"enabled":false,"x${b === NUL ? "\\u0000" : "\\ud800"}":1}`),
    field: "x",
    plain: { enabled: false },
  },
  "POST /v1/review/{id}": {
    token: () => account.apiKey,
    path: () => `/v1/review/${reviewId}`,
    // Only an enum: a spoiled member name is the text.
    body: (b) => JSON.parse(`{"decision":"dismiss","x${b === NUL ? "\\u0000" : "\\ud800"}":1}`),
    field: "x",
    plain: { decision: "dismiss" },
  },
  "PUT /v1/keyword-rules/settings": {
    token: () => account.apiKey,
    path: () => "/v1/keyword-rules/settings",
    body: (b) => ({ supportContact: `help@acme.test${b}` }),
    field: "supportContact",
  },
};

/** JSON routes that store nothing: a kept copy of old evidence must stay verifiable. */
const READ_ONLY = new Set<OperationKey>(["POST /v1/check", "POST /v1/evidence/verify"]);

/** Providers' webhooks: such text is cleaned out, never refused, so a real STOP is never lost. */
const CLEANED = new Set<OperationKey>([
  "POST /mo/{provider}/{accountId}",
  "POST /events/{provider}/{accountId}",
]);

describe("every JSON route is covered", () => {
  it("is listed as a write (with a sample) or as read-only", async () => {
    const { operations } = await documentOperations();
    const json = operations.filter((op) => op.operation.requestBody?.content?.["application/json"]);
    expect(json.length).toBeGreaterThan(10);
    for (const op of json) {
      const listed = WRITES[op.key] !== undefined || READ_ONLY.has(op.key) || CLEANED.has(op.key);
      expect(listed, `${op.key} is not listed`).toBe(true);
    }
    const keys = new Set(json.map((op) => op.key));
    for (const key of [...Object.keys(WRITES), ...READ_ONLY, ...CLEANED]) {
      expect(keys.has(key as OperationKey), `${key} is no longer a JSON operation`).toBe(true);
    }
  });
});

describe.each([
  { name: "U+0000", bad: NUL, problem: "contains U+0000" },
  { name: "an unpaired surrogate", bad: LONE, problem: "contains an unpaired UTF-16 surrogate" },
])("$name", ({ bad, problem }) => {
  it.each(Object.entries(WRITES).map(([key, c]) => ({ key, c: c! })))(
    "$key refuses it with 400 naming the field, writing nothing",
    async ({ key, c }) => {
      const method = key.split(" ")[0]!;
      const before = await storageSnapshot();
      const message = await expectError(
        await callJson(method, c.path(), c.token(), c.body(bad)),
        400,
        "invalid_input",
      );
      expect(message.startsWith(`${c.field}`), message).toBe(true);
      expect(message).toContain(problem);
      expect(await storageSnapshot()).toEqual(before);
    },
  );
});

describe("the samples are otherwise valid", () => {
  it.each(Object.entries(WRITES).map(([key, c]) => ({ key, c: c! })))(
    "$key accepts its sample with plain text",
    async ({ key, c }) => {
      const method = key.split(" ")[0]!;
      const body = c.plain ?? c.body("");
      const res = await callJson(method, c.path(), c.token(), body);
      expect(res.status, `${key}: ${await res.clone().text()}`).toBeLessThan(300);
    },
  );
});

describe("read-only routes answer such text instead of refusing it", () => {
  it("POST /v1/check", async () => {
    const res = await callJson("POST", "/v1/check", account.apiKey, {
      items: [{ address: "+14155550906", sender: `ACME${NUL}`, channel: "sms" }],
    });
    expect((await expectStatus(res, 200)).results[0]).toMatchObject({ allowed: true });
  });
});

describe("webhooks clean such text instead of refusing it", () => {
  it("a generic webhook's STOP with an unpaired surrogate and a NUL still opts out, stored clean", async () => {
    await configureProvider(account, "generic");
    const body = JSON.stringify({
      messages: [{ id: `clean${NUL}-1`, from: "+14155550907", to: `ACME${LONE}`, text: `ST${NUL}OP${LONE}` }],
    });
    await expectStatus(await postSigned(account, "generic", body, "application/json"), 200);
    const chain = await expectChainValid(account.id);
    expect(chain.at(-1)).toMatchObject({
      address: "+14155550907",
      action: "opt_out",
      evidence: { providerMessageId: "clean-1", sender: "ACME", text: "STOP" },
    });
    expect(findUnstorableText(chain.at(-1))).toBeNull();
  });
});
