import { type ConsentEvent, scopeKey } from "@optout/core";
import { asc, count, gt, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { type LedgerEventRow, ledgerEvents, type NewLedgerEventRow } from "../schema.ts";

export function ledgerRowFromEvent(event: ConsentEvent): NewLedgerEventRow {
  return {
    seq: event.seq,
    id: event.id,
    accountId: event.accountId,
    address: event.address,
    channel: event.channel,
    scope: event.scope,
    scopeKey: scopeKey(event.scope),
    action: event.action,
    source: event.source,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    evidence: event.evidence,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

/**
 * The event a row was copied from, as the edge hashed it. Instants come back from PostgreSQL in
 * its own text format and are rewritten as ISO-8601 UTC with milliseconds, the form the edge
 * produces, so `hashEvent(eventFromLedgerRow(row)) === row.hash`.
 */
export function eventFromLedgerRow(row: LedgerEventRow): ConsentEvent {
  return {
    seq: row.seq,
    id: row.id,
    accountId: row.accountId,
    address: row.address,
    channel: row.channel as ConsentEvent["channel"],
    scope: row.scope,
    action: row.action,
    source: row.source,
    occurredAt: new Date(row.occurredAt).toISOString(),
    recordedAt: new Date(row.recordedAt).toISOString(),
    evidence: row.evidence,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/**
 * Appends events in one multi-row insert. A seq that is already stored is skipped, not
 * duplicated: the guarded cursor already prevents replays, this is the second safety net.
 * Returns the seqs actually inserted.
 */
export async function insertLedgerEvents(db: Db, params: { events: ConsentEvent[] }): Promise<number[]> {
  if (params.events.length === 0) return [];
  const rows = await db
    .insert(ledgerEvents)
    .values(params.events.map(ledgerRowFromEvent))
    .onConflictDoNothing({ target: ledgerEvents.seq })
    .returning({ seq: ledgerEvents.seq });
  return rows.map((r) => r.seq);
}

export async function readLedger(
  db: Db,
  params: { afterSeq: number; limit: number },
): Promise<LedgerEventRow[]> {
  return db
    .select()
    .from(ledgerEvents)
    .where(gt(ledgerEvents.seq, params.afterSeq))
    .orderBy(asc(ledgerEvents.seq))
    .limit(params.limit);
}

export async function ledgerStats(
  db: Db,
  _params: Record<string, never> = {},
): Promise<{ count: number; minSeq: number | null; maxSeq: number | null }> {
  const [row] = await db
    .select({
      count: count(),
      minSeq: sql<string | null>`min(${ledgerEvents.seq})`,
      maxSeq: sql<string | null>`max(${ledgerEvents.seq})`,
    })
    .from(ledgerEvents);
  return {
    count: row?.count ?? 0,
    minSeq: row?.minSeq == null ? null : Number(row.minSeq),
    maxSeq: row?.maxSeq == null ? null : Number(row.maxSeq),
  };
}
