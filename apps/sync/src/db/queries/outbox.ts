import type { Channel, ConsentAction, ConsentEvent, Scope } from "@optout/core";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "../client.ts";
import { outbox } from "../schema.ts";

export interface PendingOutboxRow {
  id: number;
  changeId: string;
  accountId: string;
  address: string;
  channel: string;
  scope: unknown;
  action: string;
  occurredAt: string;
  reason: string | null;
}

/** The oldest rows not yet acknowledged by the edge nor rejected, in insertion order. */
export async function readPendingOutbox(db: Db, params: { limit: number }): Promise<PendingOutboxRow[]> {
  const result = await db.execute(sql`
    select id, change_id as "changeId", account_id as "accountId", address, channel, scope, action,
      to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "occurredAt", reason
    from ${outbox}
    where sent_at is null and rejected_at is null
    order by id
    limit ${params.limit}`);
  return rowsOf<PendingOutboxRow & { id: string | number }>(result).map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Records the edge's acknowledgement of pushed rows: sent, and at which seq. Only rows still
 * unsent change, so a replayed acknowledgement (after a crash, the edge answers a resend with
 * the same seqs) is harmless. Returns how many rows were marked.
 */
export async function markOutboxSent(
  db: Db,
  params: { acks: Array<{ id: number; seq: number }> },
): Promise<number> {
  if (params.acks.length === 0) return 0;
  const result = await db.execute(sql`
    with marked as (
      update ${outbox} as o set sent_at = now(), edge_seq = a.seq, attempts = o.attempts + 1,
        last_error = null
      from jsonb_to_recordset(${JSON.stringify(params.acks)}::jsonb) as a(id bigint, seq bigint)
      where o.id = a.id and o.sent_at is null
      returning 1
    )
    select count(*)::int as marked from marked`);
  return rowsOf<{ marked: number }>(result)[0]?.marked ?? 0;
}

/** Refuses a row for good (the edge or local validation says it can never be applied). */
export async function rejectOutboxRow(db: Db, params: { id: number; error: string }): Promise<void> {
  await db.execute(sql`
    update ${outbox} set rejected_at = now(), attempts = attempts + 1, last_error = ${params.error}
    where id = ${params.id} and sent_at is null`);
}

/** Notes a failed push attempt on the rows it carried (they stay pending). */
export async function noteOutboxFailure(db: Db, params: { ids: number[]; error: string }): Promise<void> {
  if (params.ids.length === 0) return;
  await db.execute(sql`
    update ${outbox} set attempts = attempts + 1, last_error = ${params.error}
    where id in (select jsonb_array_elements_text(${JSON.stringify(params.ids)}::jsonb)::bigint)
      and sent_at is null`);
}

/**
 * Recognizes this database's own changes coming back through the feed: `primary` events whose
 * evidence carries an outbox change id. They are applied like every other event (they are real
 * ledger events); here the outbox row learns its seq — and counts as sent even if the daemon
 * crashed between the edge's answer and marking it, so it is not pushed again. Returns how many
 * of the events were this database's own.
 */
export async function recognizeOwnChanges(db: Db, params: { events: ConsentEvent[] }): Promise<number> {
  const own = params.events.flatMap((e) => {
    const changeId = e.source === "primary" ? e.evidence.changeId : undefined;
    return typeof changeId === "string" && UUID.test(changeId) ? [{ change_id: changeId, seq: e.seq }] : [];
  });
  if (own.length === 0) return 0;
  const result = await db.execute(sql`
    with recognized as (
      update ${outbox} as o set applied_seq = r.seq, edge_seq = coalesce(o.edge_seq, r.seq),
        sent_at = coalesce(o.sent_at, now())
      from jsonb_to_recordset(${JSON.stringify(own)}::jsonb) as r(change_id uuid, seq bigint)
      where o.change_id = r.change_id and o.applied_seq is null
      returning 1
    )
    select count(*)::int as recognized from recognized`);
  return rowsOf<{ recognized: number }>(result)[0]?.recognized ?? 0;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewOutboxChange {
  accountId: string;
  address: string;
  channel: Channel;
  scope: Scope;
  action: ConsentAction;
  occurredAt?: string;
  reason?: string | null;
}

/** Adds changes to the outbox (what `optout-sync block|unblock` does). Returns their ids. */
export async function insertOutbox(
  db: Db,
  params: { changes: NewOutboxChange[] },
): Promise<Array<{ id: number; changeId: string }>> {
  if (params.changes.length === 0) return [];
  const rows = params.changes.map((c) => ({
    account_id: c.accountId,
    address: c.address,
    channel: c.channel,
    scope: c.scope,
    action: c.action,
    occurred_at: c.occurredAt ?? new Date().toISOString(),
    reason: c.reason ?? null,
  }));
  const result = await db.execute(sql`
    insert into ${outbox} (account_id, address, channel, scope, action, occurred_at, reason)
    select account_id, address, channel, scope, action, occurred_at, reason
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(account_id text, address text,
      channel text, scope jsonb, action text, occurred_at timestamptz, reason text)
    returning id, change_id as "changeId"`);
  return rowsOf<{ id: string | number; changeId: string }>(result).map((r) => ({
    id: Number(r.id),
    changeId: r.changeId,
  }));
}

export async function outboxStats(
  db: Db,
  _params: Record<string, never> = {},
): Promise<{ pending: number; rejected: number; sent: number; oldestPendingAt: string | null }> {
  const result = await db.execute(sql`
    select count(*) filter (where sent_at is null and rejected_at is null)::int as pending,
      count(*) filter (where rejected_at is not null)::int as rejected,
      count(*) filter (where sent_at is not null)::int as sent,
      min(created_at) filter (where sent_at is null and rejected_at is null) as "oldestPendingAt"
    from ${outbox}`);
  const row = rowsOf<{ pending: number; rejected: number; sent: number; oldestPendingAt: string | null }>(
    result,
  )[0];
  return row ?? { pending: 0, rejected: 0, sent: 0, oldestPendingAt: null };
}
