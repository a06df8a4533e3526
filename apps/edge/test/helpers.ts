import { env, exports } from "cloudflare:workers";
import { type ConsentEvent, verifyChain } from "@optout/core";
import { expect } from "vitest";

export const ADMIN_TOKEN = "test-admin-token";
export const SYNC_TOKEN = "test-sync-token";
const ORIGIN = "https://edge.test";

/** Calls the Worker in-process (same isolate as the test, real D1 and KV). */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A JSON request; `body` is serialized unless it is already a string. */
export function callJson(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<Response> {
  return call(path, {
    method,
    headers: { "content-type": "application/json", ...(token ? bearer(token) : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Asserts the status, printing the body when it is wrong; returns the parsed JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field, not typed.
export async function expectStatus<T = any>(res: Response, status: number): Promise<T> {
  const text = await res.clone().text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Asserts an error envelope with this status and code; returns the message. */
export async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = await expectStatus<{ error: { code: string; message: string; requestId: string } }>(
    res,
    status,
  );
  expect(body.error.code, JSON.stringify(body)).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body.error.message;
}

export interface TestAccount {
  id: string;
  apiKey: string;
}

let accounts = 0;
export async function createAccount(input: Record<string, unknown> = {}): Promise<TestAccount> {
  const res = await callJson("POST", "/v1/accounts", ADMIN_TOKEN, {
    name: `account ${++accounts}`,
    ...input,
  });
  return expectStatus<TestAccount>(res, 201);
}

export async function block(account: TestAccount, body: Record<string, unknown>) {
  return callJson("POST", "/v1/blocklist", account.apiKey, body);
}

export async function unblock(account: TestAccount, body: Record<string, unknown>) {
  return callJson("DELETE", "/v1/blocklist", account.apiKey, body);
}

/**
 * `GET /v1/check` once the account's KV writes have landed: what a client sees after KV's
 * propagation. Tests of KV's staleness itself call the route directly.
 */
export async function check(account: TestAccount, query: Record<string, string>) {
  await kvSettled(account);
  const res = await call(`/v1/check?${new URLSearchParams(query)}`, { headers: bearer(account.apiKey) });
  return expectStatus<{ address: string; allowed: boolean; blockedBy?: Record<string, unknown> }>(res, 200);
}

/** Everything that a write would change, to assert that a rejected request wrote nothing. */
export async function storageSnapshot() {
  // KV is written after each commit: settle every writer first, so the snapshot is not caught
  // between an earlier request's commit and its KV write.
  const { results: ids } = await env.DB.prepare("SELECT id FROM accounts").all<{ id: string }>();
  await Promise.all(ids.map((a) => kvSettled(a)));
  const [accounts, ledger, entries, synced, triggers, keywords, kv] = await Promise.all([
    env.DB.prepare(
      `SELECT COUNT(*) AS n, (SELECT COUNT(*) FROM api_keys) AS keys,
        (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL) AS revokedKeys FROM accounts`,
    ).first(),
    env.DB.prepare("SELECT COUNT(*) AS n, COALESCE(MAX(seq), 0) AS maxSeq FROM ledger_events").first(),
    env.DB.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(active), 0) AS active FROM blocklist_entries").first(),
    env.DB.prepare("SELECT COUNT(*) AS n FROM sync_applied").first(),
    env.DB.prepare(
      `SELECT (SELECT COUNT(*) FROM senders) AS senders, (SELECT COUNT(*) FROM messages) AS messages,
        (SELECT COUNT(*) FROM message_events) AS events, (SELECT COUNT(*) FROM trigger_rules) AS rules,
        (SELECT COUNT(*) FROM trigger_rules WHERE deleted_at IS NOT NULL) AS deletedRules,
        (SELECT COUNT(*) FROM trigger_deadlines) AS deadlines, (SELECT COUNT(*) FROM trigger_firings) AS firings`,
    ).first(),
    env.DB.prepare(
      `SELECT (SELECT COUNT(*) FROM inbound_messages) AS inbound, (SELECT COUNT(*) FROM keyword_rules) AS rules,
        (SELECT group_concat(account_id || ':' || rules_version) FROM keyword_settings) AS versions,
        (SELECT group_concat(account_id || ':' || provider || ':' || updated_at) FROM provider_credentials) AS providers`,
    ).first(),
    env.KV.list(),
  ]);
  return { accounts, ledger, entries, synced, triggers, keywords, kvKeys: kv.keys.map((k) => k.name).sort() };
}

/** Every ledger event of an account, in seq order, through the Worker's own row mapping. */
export async function accountChain(accountId: string): Promise<ConsentEvent[]> {
  const all: ConsentEvent[] = [];
  let after = "0";
  for (;;) {
    const res = await call(`/v1/changes?after=${after}&limit=1000`, { headers: bearer(SYNC_TOKEN) });
    const page = await expectStatus<{ changes: ConsentEvent[]; next: string; hasMore: boolean }>(res, 200);
    all.push(...page.changes);
    after = page.next;
    if (!page.hasMore) break;
  }
  return all.filter((e) => e.accountId === accountId);
}

export async function expectChainValid(accountId: string) {
  const chain = await accountChain(accountId);
  const verification = await verifyChain(chain);
  expect(verification, JSON.stringify(verification)).toMatchObject({ ok: true, count: chain.length });
  return chain;
}

/** What the admin can change of every account (name, region), to assert that nothing changed it. */
export async function accountProfiles(): Promise<string | null> {
  return env.DB.prepare(
    "SELECT group_concat(id || ':' || name || ':' || COALESCE(default_region, '-'), ' ') AS profiles FROM (SELECT * FROM accounts ORDER BY id)",
  ).first("profiles");
}

/** A document operation's key, as tables keyed by operation spell it: `PATCH /v1/accounts/{id}`. */
export type OperationKey = `${Uppercase<string>} /${string}`;

export interface DocumentOperation {
  key: OperationKey;
  method: string;
  path: string;
  /** The names of the security schemes any of its requirements names; empty when it is public. */
  schemes: string[];
  // biome-ignore lint/suspicious/noExplicitAny: the document is asserted field by field, not typed.
  operation: any;
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** The Worker's own OpenAPI document and each of its operations, in document order. */
export async function documentOperations() {
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const document = await expectStatus<any>(await call("/openapi.json"), 200);
  const operations: DocumentOperation[] = [];
  for (const [path, item] of Object.entries<Record<string, unknown>>(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      const operation = item[method] as any;
      if (!operation) continue;
      const schemes = [
        ...new Set<string>(
          (operation.security ?? document.security ?? []).flatMap((r: object) => Object.keys(r)),
        ),
      ];
      operations.push({
        key: `${method.toUpperCase()} ${path}` as OperationKey,
        method: method.toUpperCase(),
        path,
        schemes,
        operation,
      });
    }
  }
  return { document, operations };
}

/**
 * Waits until the account's writer has written to KV everything its commits so far made stale.
 * KV is written after the commit, outside the request (docs/adr/0010): a test that reads KV right
 * after a write waits for it the way a client waits out KV's propagation.
 */
export async function kvSettled(account: { id: string }): Promise<void> {
  await env.LEDGER_WRITER.get(env.LEDGER_WRITER.idFromName(account.id)).kvSettled();
}
