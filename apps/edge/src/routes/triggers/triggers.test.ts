import { env } from "cloudflare:workers";
import { MAX_TRIGGERS_PER_ACCOUNT } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  storageSnapshot,
  type TestAccount,
} from "../../../test/helpers.ts";
import { createRule, type Rule } from "../../../test/triggers.ts";

let account: TestAccount;
let stranger: TestAccount;
beforeAll(async () => {
  account = await createAccount();
  stranger = await createAccount();
  await expectStatus(await callJson("POST", "/v1/senders", account.apiKey, { sender: "+14155550000" }), 201);
});

const createTrigger = (acc: TestAccount, body: unknown) => callJson("POST", "/v1/triggers", acc.apiKey, body);

describe("POST /v1/triggers", () => {
  it.each([
    { name: "keyword_reply", on: { type: "keyword_reply", keywords: ["STOP", "arrêt"] } },
    { name: "link_click", on: { type: "link_click" } },
    { name: "not_opened after sent (default)", on: { type: "not_opened", withinSeconds: 60 } },
    {
      name: "not_opened after delivered",
      on: { type: "not_opened", withinSeconds: 2_592_000, after: "delivered" },
    },
    { name: "bounced", on: { type: "bounced" } },
    { name: "complained", on: { type: "complained" } },
  ])("creates a $name rule", async ({ on }) => {
    const rule = await createRule(account, { name: "r", on });
    expect(rule).toEqual({
      id: expect.stringMatching(/^trg_/),
      name: "r",
      on: on.type === "not_opened" ? { after: "sent", ...on } : on,
      channel: "*",
      scope: { type: "account" },
      campaign: null,
      enabled: true,
      createdAt: expect.any(String),
    });
  });

  it("takes channel, a registered sender's scope, campaign and enabled", async () => {
    const rule = await createRule(account, {
      name: "spring bounces on one number",
      on: { type: "bounced" },
      channel: "sms",
      scope: { type: "sender", sender: "+14155550000" },
      campaign: "spring",
      enabled: false,
    });
    expect(rule).toMatchObject({
      channel: "sms",
      scope: { type: "sender", sender: "+14155550000" },
      campaign: "spring",
      enabled: false,
    });
  });
});

describe("POST /v1/triggers: bad input is a precise 4xx and writes nothing", () => {
  it.each([
    {
      name: "withinSeconds 59",
      body: { name: "r", on: { type: "not_opened", withinSeconds: 59 } },
      status: 400,
      code: "invalid_input",
      message: /^on\.withinSeconds: Too small: expected number to be >=60$/,
    },
    {
      name: "withinSeconds 2,592,001",
      body: { name: "r", on: { type: "not_opened", withinSeconds: 2_592_001 } },
      status: 400,
      code: "invalid_input",
      message: /^on\.withinSeconds: Too big: expected number to be <=2592000$/,
    },
    {
      name: "withinSeconds not an integer",
      body: { name: "r", on: { type: "not_opened", withinSeconds: "60" } },
      status: 400,
      code: "invalid_input",
      message: /^on\.withinSeconds: /,
    },
    {
      name: "an unknown trigger type",
      body: { name: "r", on: { type: "opened" } },
      status: 400,
      code: "invalid_input",
      message: /^on\.type: /,
    },
    {
      name: "a rule on an unknown sender",
      body: { name: "r", on: { type: "bounced" }, scope: { type: "sender", sender: "+14155559999" } },
      status: 422,
      code: "unknown_sender",
      message:
        /^scope\.sender: not a registered sender of this account; register it with POST \/v1\/senders$/,
    },
    {
      name: "an unknown field",
      body: { name: "r", on: { type: "bounced" }, when: "always" },
      status: 400,
      code: "invalid_input",
      message: /when/,
    },
  ])("$name", async ({ body, status, code, message }) => {
    const before = await storageSnapshot();
    expect(await expectError(await createTrigger(account, body), status, code)).toMatch(message);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("another account's registered sender is unknown here", async () => {
    const res = await createTrigger(stranger, {
      name: "r",
      on: { type: "bounced" },
      scope: { type: "sender", sender: "+14155550000" },
    });
    await expectError(res, 422, "unknown_sender");
  });

  it(`refuses a rule beyond ${MAX_TRIGGERS_PER_ACCOUNT} per account`, async () => {
    const full = await createAccount();
    const now = new Date().toISOString();
    await env.DB.prepare(
      `INSERT INTO trigger_rules (id, account_id, name, trigger_on, channel, scope_key, enabled, created_at)
      SELECT 'trg_fill_' || value, ?1, 'fill', '{"type":"bounced"}', '*', 'account', 1, ?2
      FROM json_each(?3)`,
    )
      .bind(full.id, now, JSON.stringify(Array.from({ length: MAX_TRIGGERS_PER_ACCOUNT }, (_, i) => i)))
      .run();
    await expectError(
      await createTrigger(full, { name: "one more", on: { type: "bounced" } }),
      409,
      "conflict",
    );
  });
});

describe("GET and DELETE /v1/triggers", () => {
  let rules: Rule[];
  let acc: TestAccount;
  beforeAll(async () => {
    acc = await createAccount();
    rules = [
      await createRule(acc, { name: "first", on: { type: "bounced" } }),
      await createRule(acc, { name: "second", on: { type: "complained" } }),
    ];
  });

  it("lists the account's rules in creation order, and reads one", async () => {
    const list = await expectStatus(await call("/v1/triggers", { headers: bearer(acc.apiKey) }), 200);
    expect(list.items.map((r: Rule) => r.name)).toEqual(["first", "second"]);
    expect(
      await expectStatus(await call(`/v1/triggers/${rules[0]!.id}`, { headers: bearer(acc.apiKey) }), 200),
    ).toEqual(rules[0]);
  });

  it("another account's rule is not found, and survives its DELETE", async () => {
    await expectError(
      await call(`/v1/triggers/${rules[0]!.id}`, { headers: bearer(stranger.apiKey) }),
      404,
      "not_found",
    );
    await expectError(
      await callJson("DELETE", `/v1/triggers/${rules[0]!.id}`, stranger.apiKey),
      404,
      "not_found",
    );
    const list = await expectStatus(await call("/v1/triggers", { headers: bearer(stranger.apiKey) }), 200);
    expect(list.items.map((r: Rule) => r.id)).not.toContain(rules[0]!.id);
    await expectStatus(await call(`/v1/triggers/${rules[0]!.id}`, { headers: bearer(acc.apiKey) }), 200);
  });

  it("deletes a rule: gone from the list, 404 afterwards", async () => {
    expect(
      await expectStatus(await callJson("DELETE", `/v1/triggers/${rules[1]!.id}`, acc.apiKey), 200),
    ).toEqual({
      id: rules[1]!.id,
      deleted: true,
    });
    await expectError(await callJson("DELETE", `/v1/triggers/${rules[1]!.id}`, acc.apiKey), 404, "not_found");
    const list = await expectStatus(await call("/v1/triggers", { headers: bearer(acc.apiKey) }), 200);
    expect(list.items.map((r: Rule) => r.name)).toEqual(["first"]);
  });
});

describe("the OpenAPI document", () => {
  it("describes the trigger, sender and event routes with the error envelope and API-key security", async () => {
    const doc = await expectStatus(await call("/openapi.json"), 200);
    for (const [path, method] of [
      ["/v1/triggers", "post"],
      ["/v1/triggers", "get"],
      ["/v1/triggers/{id}", "get"],
      ["/v1/triggers/{id}", "delete"],
      ["/v1/senders", "post"],
      ["/v1/senders", "get"],
      ["/v1/events", "post"],
    ] as const) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(op.responses["400"].content["application/json"].schema).toEqual({
        $ref: "#/components/schemas/Error",
      });
    }
    expect(Object.keys(doc.paths["/v1/triggers"].post.responses)).toContain("422");
    const eventResponses = Object.keys(doc.paths["/v1/events"].post.responses);
    expect(eventResponses).toContain("409");
    // Message ids are per account: no event is ever another account's to refuse.
    expect(eventResponses).not.toContain("403");
  });
});
