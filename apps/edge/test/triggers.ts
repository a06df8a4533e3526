import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/index.ts";
import { bearer, call, callJson, expectStatus, type TestAccount } from "./helpers.ts";

/**
 * The minute the tests count from: a day ago, so events are neither "in the future" for the API
 * nor older than the 31 days it accepts (core `occurredAtProblem`).
 */
export const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 24 * 60 * 60 * 1000;
export const at = (ms: number) => new Date(T0 + ms).toISOString();
export const SECOND = 1000;

let messages = 0;
/** A message id unique across the whole test run, so tests never meet each other's messages. */
export const nextMessageId = (prefix = "msg") => `${prefix}-${++messages}-${crypto.randomUUID().slice(0, 8)}`;

export interface EventBody {
  type: string;
  messageId: string;
  address: string;
  sender: string;
  channel: string;
  occurredAt: string;
  campaign?: string;
  text?: string;
}

export function event(over: Partial<EventBody> & Pick<EventBody, "type" | "messageId">): EventBody {
  return { address: "+14155550100", sender: "ACME", channel: "sms", occurredAt: at(0), ...over };
}

export function postEvents(account: TestAccount, events: unknown[]) {
  return callJson("POST", "/v1/events", account.apiKey, { events });
}

export interface EventsResult {
  results: { messageId: string; type: string; status: string }[];
  fired: { ruleId: string; messageId: string; seq: number; appended: boolean }[];
  deadlinesScheduled: number;
}

export async function recordEvents(account: TestAccount, events: unknown[]): Promise<EventsResult> {
  return expectStatus<EventsResult>(await postEvents(account, events), 200);
}

export interface Rule {
  id: string;
  name: string;
  on: Record<string, unknown>;
  channel: string;
  scope: Record<string, unknown>;
  campaign: string | null;
  enabled: boolean;
  createdAt: string;
}

export async function createRule(account: TestAccount, body: Record<string, unknown>): Promise<Rule> {
  return expectStatus<Rule>(await callJson("POST", "/v1/triggers", account.apiKey, body), 201);
}

/** Runs the Worker's `scheduled` handler as the Cron Trigger would, at `scheduledTime`. */
export async function runCron(scheduledTime: number): Promise<void> {
  const controller = createScheduledController({ scheduledTime, cron: "* * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

/** `GET /v1/check` straight from D1. */
export async function checkStrong(account: TestAccount, address: string, sender = "ACME", channel = "sms") {
  const query = new URLSearchParams({ address, sender, channel, consistency: "strong" });
  const res = await call(`/v1/check?${query}`, { headers: bearer(account.apiKey) });
  return expectStatus<{ allowed: boolean; blockedBy?: { source: string; seq: number } }>(res, 200);
}

export interface LedgerEvent {
  seq: number;
  action: string;
  source: string;
  channel: string;
  scope: Record<string, unknown>;
  occurredAt: string;
  evidence: Record<string, unknown>;
}

/** The address's ledger events (GET /v1/evidence), asserting the chain verifies. */
export async function evidenceOf(account: TestAccount, address: string): Promise<LedgerEvent[]> {
  const res = await call(`/v1/evidence?address=${encodeURIComponent(address)}`, {
    headers: bearer(account.apiKey),
  });
  const body = await expectStatus<{ events: LedgerEvent[]; verified: { ok: boolean } }>(res, 200);
  expect(body.verified.ok, JSON.stringify(body.verified)).toBe(true);
  return body.events;
}

/** Counts of the trigger tables, to assert a rejected request wrote nothing. */
export async function triggerTablesSnapshot() {
  const counts = await env.DB.batch([
    env.DB.prepare("SELECT COUNT(*) AS n FROM messages"),
    env.DB.prepare("SELECT COUNT(*) AS n FROM message_events"),
    env.DB.prepare("SELECT COUNT(*) AS n FROM trigger_rules"),
    env.DB.prepare("SELECT COUNT(*) AS n FROM trigger_deadlines"),
    env.DB.prepare("SELECT COUNT(*) AS n FROM trigger_firings"),
    env.DB.prepare("SELECT COUNT(*) AS n FROM senders"),
    env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_events"),
  ]);
  const [messages, events, rules, deadlines, firings, senders, ledger] = counts.map(
    (r) => (r.results[0] as { n: number }).n,
  );
  return { messages, events, rules, deadlines, firings, senders, ledger };
}

export async function deadlineStatus(messageId: string) {
  return env.DB.prepare(
    "SELECT rule_id AS ruleId, due_at AS dueAt, status, settled_reason AS reason FROM trigger_deadlines WHERE message_id = ?",
  )
    .bind(messageId)
    .all<{ ruleId: string; dueAt: string; status: string; reason: string | null }>()
    .then((r) => r.results);
}
