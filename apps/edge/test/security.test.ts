/**
 * The shared security suite: every authenticated route, every way to present bad credentials.
 * A new authenticated route is added to `routes` below, and inherits every case.
 */
import { env } from "cloudflare:workers";
import { signGenericWebhook } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  bearer,
  block,
  call,
  callJson,
  check,
  createAccount,
  expectError,
  expectStatus,
  SYNC_TOKEN,
  storageSnapshot,
  type TestAccount,
} from "./helpers.ts";

type Kind = "admin" | "account" | "sync";

interface RouteCase {
  name: string;
  kind: Kind;
  method: string;
  path: string;
  body?: unknown;
}

let owner: TestAccount;
let stranger: TestAccount;
let revoked: TestAccount;
const ownersAddress = "+14155550701";

const routes: RouteCase[] = [
  {
    name: "POST /v1/accounts",
    kind: "admin",
    method: "POST",
    path: "/v1/accounts",
    body: { name: "intruder" },
  },
  {
    name: "POST /v1/blocklist",
    kind: "account",
    method: "POST",
    path: "/v1/blocklist",
    body: { address: "+14155550799" },
  },
  {
    name: "DELETE /v1/blocklist",
    kind: "account",
    method: "DELETE",
    path: "/v1/blocklist",
    body: { address: ownersAddress },
  },
  { name: "GET /v1/blocklist", kind: "account", method: "GET", path: "/v1/blocklist" },
  {
    name: "GET /v1/check",
    kind: "account",
    method: "GET",
    path: `/v1/check?address=${encodeURIComponent(ownersAddress)}&sender=ACME&channel=sms`,
  },
  {
    name: "POST /v1/check",
    kind: "account",
    method: "POST",
    path: "/v1/check",
    body: { items: [{ address: ownersAddress, sender: "ACME", channel: "sms" }] },
  },
  {
    name: "GET /v1/evidence",
    kind: "account",
    method: "GET",
    path: `/v1/evidence?address=${encodeURIComponent(ownersAddress)}`,
  },
  {
    name: "POST /v1/links",
    kind: "account",
    method: "POST",
    path: "/v1/links",
    body: { address: ownersAddress },
  },
  {
    name: "POST /v1/links/batch",
    kind: "account",
    method: "POST",
    path: "/v1/links/batch",
    body: { items: [{ address: ownersAddress }] },
  },
  { name: "GET /v1/links/settings", kind: "account", method: "GET", path: "/v1/links/settings" },
  {
    name: "PUT /v1/links/settings",
    kind: "account",
    method: "PUT",
    path: "/v1/links/settings",
    body: { brandName: "intruder" },
  },
  { name: "GET /v1/changes", kind: "sync", method: "GET", path: "/v1/changes" },
  {
    name: "POST /v1/senders",
    kind: "account",
    method: "POST",
    path: "/v1/senders",
    body: { sender: "INTRUDER" },
  },
  { name: "GET /v1/senders", kind: "account", method: "GET", path: "/v1/senders" },
  {
    name: "POST /v1/triggers",
    kind: "account",
    method: "POST",
    path: "/v1/triggers",
    body: { name: "intruder", on: { type: "complained" }, enabled: false },
  },
  { name: "GET /v1/triggers", kind: "account", method: "GET", path: "/v1/triggers" },
  { name: "GET /v1/triggers/{id}", kind: "account", method: "GET", path: "/v1/triggers/trg_owners_rule" },
  {
    name: "DELETE /v1/triggers/{id}",
    kind: "account",
    method: "DELETE",
    path: "/v1/triggers/trg_owners_rule",
  },
  {
    name: "POST /v1/events",
    kind: "account",
    method: "POST",
    path: "/v1/events",
    body: {
      events: [
        {
          type: "sent",
          messageId: "owners-message",
          address: ownersAddress,
          sender: "ACME",
          channel: "sms",
          occurredAt: "2026-01-01T00:00:00Z",
        },
      ],
    },
  },
  {
    name: "PUT /v1/providers/{provider}",
    kind: "account",
    method: "PUT",
    path: "/v1/providers/twilio",
    body: { secret: "intruders-token" },
  },
  { name: "GET /v1/providers", kind: "account", method: "GET", path: "/v1/providers" },
  { name: "DELETE /v1/providers/{provider}", kind: "account", method: "DELETE", path: "/v1/providers/plivo" },
  { name: "GET /v1/keyword-rules", kind: "account", method: "GET", path: "/v1/keyword-rules" },
  {
    name: "POST /v1/keyword-rules",
    kind: "account",
    method: "POST",
    path: "/v1/keyword-rules",
    body: { keywords: ["INTRUDE"], action: "opt_out", enabled: false },
  },
  {
    name: "PATCH /v1/keyword-rules/{id}",
    kind: "account",
    method: "PATCH",
    path: "/v1/keyword-rules/kwr_owners_rule",
    body: { enabled: true },
  },
  {
    name: "DELETE /v1/keyword-rules/{id}",
    kind: "account",
    method: "DELETE",
    path: "/v1/keyword-rules/kwr_owners_rule",
  },
  {
    name: "GET /v1/keyword-rules/settings",
    kind: "account",
    method: "GET",
    path: "/v1/keyword-rules/settings",
  },
  {
    name: "PUT /v1/keyword-rules/settings",
    kind: "account",
    method: "PUT",
    path: "/v1/keyword-rules/settings",
    body: { supportContact: "intruder" },
  },
  { name: "GET /v1/review", kind: "account", method: "GET", path: "/v1/review" },
  { name: "POST /v1/keys", kind: "account", method: "POST", path: "/v1/keys", body: { name: "intruder" } },
  { name: "GET /v1/keys", kind: "account", method: "GET", path: "/v1/keys" },
  { name: "DELETE /v1/keys/{id}", kind: "account", method: "DELETE", path: "/v1/keys/key_owners_spare" },
  {
    name: "POST /v1/sync/apply",
    kind: "sync",
    method: "POST",
    path: "/v1/sync/apply",
    body: {
      changes: [
        {
          id: "sec-1",
          accountId: "placeholder",
          address: "+14155550798",
          channel: "*",
          scope: { type: "account" },
          action: "opt_out",
          occurredAt: "2026-01-01T00:00:00Z",
        },
      ],
    },
  },
];

function send(route: RouteCase, authorization: string | null): Promise<Response> {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  if (route.body !== undefined) headers["content-type"] = "application/json";
  return call(route.path, {
    method: route.method,
    headers,
    body: route.body === undefined ? undefined : JSON.stringify(route.body),
  });
}

beforeAll(async () => {
  owner = await createAccount();
  stranger = await createAccount();
  revoked = await createAccount();
  await expectStatus(await block(owner, { address: ownersAddress, reason: "owner's secret" }), 201);
  await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE account_id = ?")
    .bind(new Date().toISOString(), revoked.id)
    .run();
  // The owner's trigger rule and message, for the routes that name one.
  await env.DB.prepare(
    `INSERT INTO trigger_rules (id, account_id, name, trigger_on, channel, scope_key, enabled, created_at)
    VALUES ('trg_owners_rule', ?, 'owner''s rule', '{"type":"bounced"}', '*', 'account', 1, ?)`,
  )
    .bind(owner.id, new Date().toISOString())
    .run();
  const ownersEvents = routes.find((r) => r.path === "/v1/events")!;
  await expectStatus(await send(ownersEvents, `Bearer ${owner.apiKey}`), 200);
  // The owner's providers, keyword rule and review item, each holding the "owner's secret".
  for (const provider of ["generic", "plivo"]) {
    await expectStatus(
      await callJson("PUT", `/v1/providers/${provider}`, owner.apiKey, { secret: "owner's secret" }),
      200,
    );
  }
  await env.DB.prepare(
    `INSERT INTO keyword_rules (id, account_id, definition, created_at, updated_at)
    VALUES ('kwr_owners_rule', ?1, ?2, ?3, ?3)`,
  )
    .bind(
      owner.id,
      JSON.stringify({ keywords: ["OWNERSTOP"], action: "opt_out", replies: { en: "owner's secret" } }),
      new Date().toISOString(),
    )
    .run();
  // The owner's spare key, for the route that revokes one (the owner keeps its first key).
  await env.DB.prepare(
    `INSERT INTO api_keys (id, account_id, key_hash, key_prefix, name, created_at)
    VALUES ('key_owners_spare', ?, ?, 'sk_test_Spar', 'owner''s secret', ?)`,
  )
    .bind(owner.id, "0".repeat(64), new Date().toISOString())
    .run();
  const review = JSON.stringify({
    messages: [{ id: "owners-mo", from: ownersAddress, to: "ACME", text: "owner's secret: stop this bill" }],
  });
  await expectStatus(await postWebhook(`/mo/generic/${owner.id}`, review, "owner's secret"), 200);
});

/** A generic-format webhook signed with `secret` (core's documented scheme). */
async function postWebhook(path: string, body: string, secret: string, headers: Record<string, string> = {}) {
  const signature = await signGenericWebhook(secret, body, Math.floor(Date.now() / 1000));
  return call(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-optout-signature": signature, ...headers },
    body,
  });
}

/** Credentials that must never open `kind`'s routes. */
function wrongCredentials(kind: Kind): { name: string; header: () => string | null }[] {
  const cases = [
    { name: "no Authorization header", header: () => null },
    { name: "an empty Authorization header", header: () => "" },
    { name: "a Basic scheme", header: () => `Basic ${btoa("admin:admin")}` },
    { name: "Bearer without a token", header: () => "Bearer " },
    { name: "a token with a space", header: () => "Bearer sk_test_ abc" },
    { name: "a malformed key", header: () => "Bearer sk_live_short" },
    { name: "an unknown key", header: () => `Bearer sk_test_${"A".repeat(32)}` },
    { name: "a revoked key", header: () => `Bearer ${revoked.apiKey}` },
    { name: "a token after two spaces", header: () => `Bearer  ${ADMIN_TOKEN}` },
  ];
  if (kind !== "admin") cases.push({ name: "the ADMIN_TOKEN", header: () => `Bearer ${ADMIN_TOKEN}` });
  if (kind !== "sync") cases.push({ name: "the SYNC_TOKEN", header: () => `Bearer ${SYNC_TOKEN}` });
  if (kind !== "account") cases.push({ name: "a valid account key", header: () => `Bearer ${owner.apiKey}` });
  return cases;
}

describe.each(routes)("$name", (route) => {
  it.each(wrongCredentials(route.kind))("rejects $name with 401 and writes nothing", async ({ header }) => {
    const before = await storageSnapshot();
    const res = await send(route, header());
    const message = await expectError(res, 401, "unauthorized");
    // The answer never says whose key it was, or that an account exists.
    expect(message).not.toContain(owner.id);
    expect(await storageSnapshot()).toEqual(before);
  });
});

describe("another account's key sees nothing of the owner's data", () => {
  const accountRoutes = routes.filter((r) => r.kind === "account");

  it.each(accountRoutes)("$name answers without revealing the owner's entry", async (route) => {
    const res = await send(route, `Bearer ${stranger.apiKey}`);
    const text = await res.clone().text();
    expect(res.status, text).toBeLessThan(500);
    expect(text).not.toContain(owner.id);
    expect(text).not.toContain("owner's secret");
  });

  it("lists, checks and evidence look empty; removal does not touch the owner's entry", async () => {
    const listing = await expectStatus(
      await call(`/v1/blocklist?address=${encodeURIComponent(ownersAddress)}`, {
        headers: bearer(stranger.apiKey),
      }),
      200,
    );
    expect(listing).toEqual({ items: [], nextCursor: null });
    expect(await check(stranger, { address: ownersAddress, sender: "ACME", channel: "sms" })).toEqual({
      address: ownersAddress,
      allowed: true,
    });
    const evidence = await expectStatus(
      await call(`/v1/evidence?address=${encodeURIComponent(ownersAddress)}`, {
        headers: bearer(stranger.apiKey),
      }),
      200,
    );
    expect(evidence.events).toEqual([]);
    const removal = await expectStatus(
      await callJson("DELETE", "/v1/blocklist", stranger.apiKey, { address: ownersAddress }),
      200,
    );
    expect(removal).toEqual({ removed: false, entry: null });
    // The owner is still blocked.
    expect(
      await check(owner, { address: ownersAddress, sender: "ACME", channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: false,
    });
  });

  it("a stranger's add lands in the stranger's account only", async () => {
    const address = "+14155550702";
    await expectStatus(await block(stranger, { address }), 201);
    expect(
      await check(owner, { address, sender: "ACME", channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: true,
    });
  });
});

describe("the right credentials open each route", () => {
  it.each(routes)("$name", async (route) => {
    const token = route.kind === "admin" ? ADMIN_TOKEN : route.kind === "sync" ? SYNC_TOKEN : owner.apiKey;
    const body = route.path === "/v1/sync/apply" ? withAccount(route.body, owner.id) : route.body;
    const res = await send({ ...route, body }, `Bearer ${token}`);
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  });
});

describe("inbound webhooks: the signature is the only credential", () => {
  const stop = JSON.stringify({
    messages: [{ id: "sec-mo-1", from: "+14155550703", to: "ACME", text: "STOP" }],
  });

  it.each([
    {
      name: "a forged signature",
      path: () => `/mo/generic/${owner.id}`,
      secret: "guessed secret",
      status: 401,
    },
    {
      name: "the owner's API key instead of a signature",
      path: () => `/mo/generic/${owner.id}`,
      secret: null,
      status: 401,
    },
    {
      name: "another account's id (not configured)",
      path: () => `/mo/generic/${stranger.id}`,
      secret: "owner's secret",
      status: 404,
    },
    {
      name: "an unknown account id",
      path: () => "/mo/generic/acc_nobody",
      secret: "owner's secret",
      status: 404,
    },
    {
      name: "a provider the owner did not configure",
      path: () => `/mo/bandwidth/${owner.id}`,
      secret: "owner's secret",
      status: 404,
    },
  ])("refuses $name and writes nothing", async ({ path, secret, status }) => {
    const before = await storageSnapshot();
    const res =
      secret === null
        ? await call(path(), {
            method: "POST",
            headers: { "content-type": "application/json", ...bearer(owner.apiKey) },
            body: stop,
          })
        : await postWebhook(path(), stop, secret);
    const message = await expectError(res, status, status === 401 ? "invalid_signature" : "not_found");
    expect(message).not.toContain(owner.id);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("a webhook signed with another account's own secret does not open the owner's URL", async () => {
    await expectStatus(
      await callJson("PUT", "/v1/providers/generic", stranger.apiKey, { secret: "stranger's secret" }),
      200,
    );
    const before = await storageSnapshot();
    await expectError(
      await postWebhook(`/mo/generic/${owner.id}`, stop, "stranger's secret"),
      401,
      "invalid_signature",
    );
    await expectError(
      await postWebhook(`/mo/generic/${stranger.id}`, stop, "owner's secret"),
      401,
      "invalid_signature",
    );
    expect(await storageSnapshot()).toEqual(before);
  });
});

function withAccount(body: unknown, accountId: string) {
  const { changes } = body as { changes: Record<string, unknown>[] };
  return { changes: changes.map((c) => ({ ...c, accountId })) };
}
