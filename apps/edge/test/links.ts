import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, callJson, expectStatus, type TestAccount } from "./helpers.ts";

export interface MintedLink {
  code: string;
  url: string;
  expiresAt: string | null;
}

export async function mintLink(account: TestAccount, body: Record<string, unknown>): Promise<MintedLink> {
  return expectStatus<MintedLink>(await callJson("POST", "/v1/links", account.apiKey, body), 201);
}

let clients = 0;
/** A fresh client address per call unless one is given, so the per-client rate limit stays out of the way. */
export function nextClientIp(): string {
  clients++;
  return `198.51.${(clients >> 8) & 255}.${clients & 255}`;
}

export interface VisitOptions {
  /** Send it this way instead of through the Worker's own binding (e.g. with a wrapped env). */
  via?: (path: string, init: RequestInit) => Response | Promise<Response>;
  method?: string;
  ip?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
}

/** A request to `/u/...` as a browser or a mailbox provider would send it. */
export function visit(path: string, options: VisitOptions = {}): Promise<Response> {
  return Promise.resolve(
    (options.via ?? call)(path.startsWith("/") ? path : `/u/${path}`, {
      method: options.method ?? "GET",
      headers: { "cf-connecting-ip": options.ip ?? nextClientIp(), ...options.headers },
      body: options.body,
    }),
  );
}

/** The page's own form. */
export function confirm(code: string, scope = "account", options: VisitOptions = {}): Promise<Response> {
  return visit(code, {
    ...options,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...options.headers },
    body: `scope=${scope}`,
  });
}

/** RFC 8058: what a mailbox provider posts. */
export function oneClick(code: string, options: VisitOptions = {}): Promise<Response> {
  return visit(code, {
    ...options,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...options.headers },
    body: "List-Unsubscribe=One-Click",
  });
}

/** The undo form as the done page submits it, with the token that page carried ("" for none). */
export function undo(code: string, token: string, options: VisitOptions = {}): Promise<Response> {
  return visit(`/u/${code}/undo`, {
    ...options,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...options.headers },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** The undo token a done page carries, or null when it offers no undo. */
export function undoTokenOf(html: string): string | null {
  return /name="token" value="([^"]*)"/.exec(html)?.[1] ?? null;
}

/** Asserts the status (printing the body when wrong) and an HTML page; returns its text. */
export async function expectPage(res: Response, status: number): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  return text;
}

export interface LedgerRow {
  seq: number;
  action: string;
  source: string;
  scope_key: string;
  channel: string;
  evidence: string;
}

export async function ledgerOf(accountId: string): Promise<LedgerRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT seq, action, source, scope_key, channel, evidence FROM ledger_events WHERE account_id = ? ORDER BY seq",
  )
    .bind(accountId)
    .all<LedgerRow>();
  return results;
}

export async function hashOf(code: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(code));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Changes a link's row in D1 and drops its KV view, as if time had passed. */
export async function updateLinkRow(code: string, set: Record<string, string | number | null>) {
  const codeHash = await hashOf(code);
  const columns = Object.keys(set);
  await env.DB.prepare(`UPDATE links SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE code_hash = ?`)
    .bind(...columns.map((c) => set[c] ?? null), codeHash)
    .run();
  await env.KV.delete(`l:${codeHash}`);
}
