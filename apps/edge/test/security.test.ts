/**
 * The shared security suite: every authenticated operation of the Worker's own OpenAPI document,
 * every way to present bad credentials. The operations and the credential each needs come from
 * `GET /openapi.json` (each operation's `security`); `samples` holds one request per operation.
 * A new authenticated route without a sample fails this suite, and so does a sample whose
 * operation is gone, or a new route the document calls public without being listed as such.
 */
import { env } from "cloudflare:workers";
import { type ConsentEvent, sha256Hex, signGenericWebhook } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_TOKEN,
  accountProfiles,
  bearer,
  block,
  call,
  callJson,
  check,
  createAccount,
  documentOperations,
  expectError,
  expectStatus,
  type OperationKey,
  SYNC_TOKEN,
  storageSnapshot,
  type TestAccount,
} from "./helpers.ts";

type Credential = "admin" | "account" | "sync";

/** The document's security schemes (registered in routes/docs), by the credential each is. */
const CREDENTIAL_OF_SCHEME: Record<string, Credential> = {
  adminToken: "admin",
  apiKey: "account",
  syncToken: "sync",
};

/** Operations without credentials by design: each authenticates otherwise, or not at all. */
const PUBLIC_OPERATIONS: readonly OperationKey[] = [
  "GET /health",
  // The opt-out link's code is the credential (see routes/unsubscribe).
  "GET /u/{code}",
  "POST /u/{code}",
  "POST /u/{code}/undo",
  // The provider's signature is the credential: see "inbound webhooks" below.
  "POST /mo/{provider}/{accountId}",
  "GET /mo/{provider}/{accountId}",
  "POST /events/{provider}/{accountId}",
];

/** One request to an operation: its path parameters, query and JSON body (or a file and its headers). */
interface Sample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  file?: { text: string; headers: Record<string, string> };
}

/** The owner's blocklist file: imported in setup, so its sample is a replay and its report exists. */
const ownersFile = "address,channel\n+14155550797,sms\n";
const ownersFileDigest = await sha256Hex(ownersFile);

let owner: TestAccount;
let stranger: TestAccount;
let revoked: TestAccount;
let ownersEvidence: ConsentEvent[];
let ownersReviewId: string;
const ownersAddress = "+14155550701";
let ownersMessageSentAt: string | undefined;

/** The owner's message: posted in setup, and again by the events route's sample. */
function ownersMessage() {
  // Recent: message events too old to start or stop a deadline are refused. Fixed once, so the
  // owner's message is the same event each time it is posted.
  ownersMessageSentAt ??= new Date(Date.now() - 60_000).toISOString();
  return {
    type: "sent",
    messageId: "owners-message",
    address: ownersAddress,
    sender: "ACME",
    channel: "sms",
    occurredAt: ownersMessageSentAt,
  };
}

/**
 * A request per authenticated operation, keyed by "METHOD /path" as the document spells it. Each
 * names the owner's data where it can (the owner's rule, key, provider, account), so that another
 * account's key is shown not to reach it. Built when a test runs, once the owner exists.
 */
const samples: Record<OperationKey, () => Sample> = {
  "POST /v1/accounts": () => ({ body: { name: "intruder" } }),
  "PATCH /v1/accounts/{id}": () => ({
    params: { id: owner.id },
    body: { name: "intruder", defaultRegion: "GB" },
  }),
  "POST /v1/keys": () => ({ body: { name: "intruder" } }),
  "GET /v1/keys": () => ({}),
  "DELETE /v1/keys/{id}": () => ({ params: { id: "key_owners_spare" } }),
  "POST /v1/blocklist": () => ({ body: { address: "+14155550799" } }),
  "DELETE /v1/blocklist": () => ({ body: { address: ownersAddress } }),
  "GET /v1/blocklist": () => ({}),
  "POST /v1/blocklist/import": () => ({
    file: { text: ownersFile, headers: { "content-type": "text/csv", "x-import-digest": ownersFileDigest } },
  }),
  "GET /v1/blocklist/import/{digest}": () => ({ params: { digest: ownersFileDigest } }),
  "GET /v1/blocklist/export": () => ({}),
  "GET /v1/check": () => ({ query: { address: ownersAddress, sender: "ACME", channel: "sms" } }),
  "POST /v1/check": () => ({ body: { items: [{ address: ownersAddress, sender: "ACME", channel: "sms" }] } }),
  "GET /v1/changes": () => ({}),
  "POST /v1/sync/apply": () => ({
    body: {
      changes: [
        {
          id: "sec-1",
          accountId: owner.id,
          address: "+14155550798",
          channel: "*",
          scope: { type: "account" },
          action: "opt_out",
          occurredAt: "2026-01-01T00:00:00Z",
        },
      ],
    },
  }),
  "GET /v1/evidence": () => ({ query: { address: ownersAddress } }),
  "POST /v1/evidence/verify": () => ({ body: { events: ownersEvidence } }),
  "POST /v1/links": () => ({ body: { address: ownersAddress } }),
  "POST /v1/links/batch": () => ({ body: { items: [{ address: ownersAddress }] } }),
  "GET /v1/links/settings": () => ({}),
  "PUT /v1/links/settings": () => ({ body: { brandName: "intruder" } }),
  "POST /v1/senders": () => ({ body: { sender: "INTRUDER" } }),
  "GET /v1/senders": () => ({}),
  "POST /v1/triggers": () => ({ body: { name: "intruder", on: { type: "complained" }, enabled: false } }),
  "GET /v1/triggers": () => ({}),
  "GET /v1/triggers/{id}": () => ({ params: { id: "trg_owners_rule" } }),
  "DELETE /v1/triggers/{id}": () => ({ params: { id: "trg_owners_rule" } }),
  "POST /v1/events": () => ({ body: { events: [ownersMessage()] } }),
  "PUT /v1/providers/{provider}": () => ({
    params: { provider: "twilio" },
    body: { secret: "intruders-token" },
  }),
  "GET /v1/providers": () => ({}),
  "DELETE /v1/providers/{provider}": () => ({ params: { provider: "plivo" } }),
  "GET /v1/keyword-rules": () => ({}),
  "POST /v1/keyword-rules": () => ({ body: { keywords: ["INTRUDE"], action: "opt_out", enabled: false } }),
  "PATCH /v1/keyword-rules/{id}": () => ({ params: { id: "kwr_owners_rule" }, body: { enabled: true } }),
  "DELETE /v1/keyword-rules/{id}": () => ({ params: { id: "kwr_owners_rule" } }),
  "GET /v1/keyword-rules/settings": () => ({}),
  "PUT /v1/keyword-rules/settings": () => ({ body: { supportContact: "intruder" } }),
  "GET /v1/review": () => ({}),
  "POST /v1/review/{id}": () => ({ params: { id: ownersReviewId }, body: { decision: "opt_out" } }),
};

const { operations } = await documentOperations();

interface AuthenticatedOperation {
  key: OperationKey;
  method: string;
  path: string;
  /** Undefined when the operation's security names no scheme, or more than one, or an unknown one. */
  credential: Credential | undefined;
  schemes: string[];
}

const authenticated: AuthenticatedOperation[] = operations
  .filter((op) => op.schemes.length > 0)
  .map(({ key, method, path, schemes }) => ({
    key,
    method,
    path,
    schemes,
    credential: schemes.length === 1 ? CREDENTIAL_OF_SCHEME[schemes[0]!] : undefined,
  }));

/** The operation's sample as a request: path parameters filled in, query appended, body as JSON. */
function requestOf(op: AuthenticatedOperation): {
  url: string;
  method: string;
  body?: string;
  headers: Record<string, string>;
} {
  const sample = samples[op.key];
  if (!sample) throw new Error(`no sample request for ${op.key}: add one to \`samples\``);
  const { params = {}, query, body, file } = sample();
  const url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`the sample for ${op.key} has no path parameter ${name}`);
    return encodeURIComponent(value);
  });
  return {
    url: query ? `${url}?${new URLSearchParams(query)}` : url,
    method: op.method,
    body: file ? file.text : body === undefined ? undefined : JSON.stringify(body),
    headers: file ? file.headers : body === undefined ? {} : { "content-type": "application/json" },
  };
}

function send(op: AuthenticatedOperation, authorization: string | null): Promise<Response> {
  const { url, method, body, headers } = requestOf(op);
  if (authorization !== null) headers.authorization = authorization;
  return call(url, { method, headers, body });
}

/** Everything a write would change, the accounts' names and regions included. */
async function snapshot() {
  return { ...(await storageSnapshot()), accountProfiles: await accountProfiles() };
}

describe("the OpenAPI document and the samples", () => {
  it("names the operations this suite must cover (a sanity check on the document)", () => {
    const keys = authenticated.map((op) => op.key);
    expect(keys.length).toBeGreaterThan(30);
    expect(keys).toEqual(expect.arrayContaining(["PATCH /v1/accounts/{id}", "POST /v1/evidence/verify"]));
  });

  it("every authenticated operation needs exactly one known credential", () => {
    const unclassified = authenticated.filter((op) => op.credential === undefined);
    expect(unclassified.map((op) => `${op.key}: ${op.schemes.join(", ")}`)).toEqual([]);
  });

  it("every authenticated operation has a sample request", () => {
    expect(authenticated.map((op) => op.key).filter((key) => !(key in samples))).toEqual([]);
  });

  it("every sample names an authenticated operation of the document", () => {
    const keys = new Set(authenticated.map((op) => op.key));
    expect(Object.keys(samples).filter((key) => !keys.has(key as OperationKey))).toEqual([]);
  });

  it("every operation without credentials is public by design", () => {
    const open = operations.filter((op) => op.schemes.length === 0).map((op) => op.key);
    expect(open.filter((key) => !PUBLIC_OPERATIONS.includes(key))).toEqual([]);
    expect(PUBLIC_OPERATIONS.filter((key) => !open.includes(key))).toEqual([]);
  });
});

beforeAll(async () => {
  owner = await createAccount();
  stranger = await createAccount();
  revoked = await createAccount();
  await expectStatus(await block(owner, { address: ownersAddress, reason: "owner's secret" }), 201);
  await expectStatus(
    await call("/v1/blocklist/import", {
      method: "POST",
      headers: { ...bearer(owner.apiKey), "content-type": "text/csv", "x-import-digest": ownersFileDigest },
      body: ownersFile,
    }),
    200,
  );
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
  await expectStatus(await callJson("POST", "/v1/events", owner.apiKey, { events: [ownersMessage()] }), 200);
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
  ownersReviewId = String(
    (await env.DB.prepare("SELECT id FROM inbound_messages WHERE account_id = ? AND review = 1")
      .bind(owner.id)
      .first<{ id: number }>())!.id,
  );
  // The owner's evidence, as a copy another account might present for verification.
  ownersEvidence = (
    await expectStatus<{ events: ConsentEvent[] }>(
      await call(`/v1/evidence?address=${encodeURIComponent(ownersAddress)}`, {
        headers: bearer(owner.apiKey),
      }),
      200,
    )
  ).events;
  expect(ownersEvidence.length).toBeGreaterThan(0);
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
function wrongCredentials(kind: Credential | undefined): { name: string; header: () => string | null }[] {
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

describe.each(authenticated)("$key", (op) => {
  it.each(wrongCredentials(op.credential))(
    "rejects $name with 401 and writes nothing",
    async ({ header }) => {
      const before = await snapshot();
      const res = await send(op, header());
      const message = await expectError(res, 401, "unauthorized");
      // The answer never says whose key it was, or that an account exists.
      expect(message).not.toContain(owner.id);
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe("another account's key sees nothing of the owner's data", () => {
  const accountOperations = authenticated.filter((op) => op.credential === "account");

  it.each(accountOperations)("$key answers without revealing the owner's data", async (op) => {
    const res = await send(op, `Bearer ${stranger.apiKey}`);
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
    // The owner's real evidence is not in the stranger's ledger: it never verifies there.
    const verification = await expectStatus(
      await callJson("POST", "/v1/evidence/verify", stranger.apiKey, { events: ownersEvidence }),
      200,
    );
    expect(verification).toEqual({
      verified: false,
      results: ownersEvidence.map((e) => ({ seq: e.seq, ok: false, reason: "not_in_ledger" })),
    });
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
  // Deletions last, so each sample still finds what it names whatever the document's order.
  const ordered = [...authenticated].sort(
    (a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"),
  );

  it.each(ordered)("$key", async (op) => {
    const token =
      op.credential === "admin" ? ADMIN_TOKEN : op.credential === "sync" ? SYNC_TOKEN : owner.apiKey;
    const res = await send(op, `Bearer ${token}`);
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
