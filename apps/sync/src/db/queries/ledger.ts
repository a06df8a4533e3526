import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type ConsentEvent, scopeKey } from "@optout/core";
import { asc, count, gt, sql } from "drizzle-orm";
import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { type Db, rowsOf } from "../client.ts";
import { type LedgerEventRow, ledgerEvents } from "../schema.ts";
import { storedEvent } from "../storable.ts";

/**
 * The event a row was copied from, as the edge hashed it, so `hashEvent(eventFromLedgerRow(row))
 * === row.hash`: its exact copy when the columns could not hold it (db/storable.ts), else the
 * columns, with instants (which come back in PostgreSQL's own text format) rewritten as ISO-8601
 * UTC with milliseconds, the form the edge produces.
 */
export function eventFromLedgerRow(row: LedgerEventRow): ConsentEvent {
  if (row.exactEvent) return row.exactEvent;
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
    // Only events sealed with their chain position have one; their hash covers it.
    ...(row.accountSeq === null ? {} : { accountSeq: row.accountSeq }),
  };
}

/**
 * Appends events in one multi-row insert. The batch travels as ONE jsonb parameter expanded by
 * `jsonb_to_recordset`: several times faster than a VALUES list of 16 parameters per row, and
 * free of the 65,535-parameter limit. A seq that is already stored is skipped, not duplicated:
 * the guarded cursor already prevents replays, this is the second safety net.
 * The jsonb parameter cannot carry unstorable text, so an exact copy travels as the JSON text of
 * the event (where NUL and lone surrogates are `\uXXXX` escapes) and becomes `json` in SQL.
 * Returns how many rows were inserted.
 */
export async function insertLedgerEvents(db: Db, params: { events: ConsentEvent[] }): Promise<number> {
  if (params.events.length === 0) return 0;
  const rows = params.events.map(storedEvent).map(({ columns: e, exact }) => ({
    seq: e.seq,
    id: e.id,
    account_id: e.accountId,
    address: e.address,
    channel: e.channel,
    scope: e.scope,
    scope_key: scopeKey(e.scope),
    action: e.action,
    source: e.source,
    occurred_at: e.occurredAt,
    recorded_at: e.recordedAt,
    evidence: e.evidence,
    prev_hash: e.prevHash,
    hash: e.hash,
    account_seq: e.accountSeq ?? null,
    exact_event: exact ? JSON.stringify(exact) : null,
  }));
  const result = await db.execute(sql`
    with inserted as (
      insert into ${ledgerEvents} (seq, id, account_id, address, channel, scope, scope_key, action, source,
        occurred_at, recorded_at, evidence, prev_hash, hash, account_seq, exact_event)
      select seq, id, account_id, address, channel, scope, scope_key, action, source,
        occurred_at, recorded_at, evidence, prev_hash, hash, account_seq, exact_event::json
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(seq bigint, id text, account_id text,
        address text, channel text, scope jsonb, scope_key text, action text, source text,
        occurred_at timestamptz, recorded_at timestamptz, evidence jsonb, prev_hash text, hash text,
        account_seq bigint, exact_event text)
      order by seq
      on conflict (seq) do nothing
      returning 1
    )
    select count(*)::int as inserted from inserted`);
  return rowsOf<{ inserted: number }>(result)[0]?.inserted ?? 0;
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

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyField(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!);
}

/** COPY text format's NULL. */
const COPY_NULL = "\\N";

/**
 * One ledger event as a line of COPY's text format, columns in LEDGER_COLUMNS order. JSON.stringify
 * writes NUL and unpaired surrogates as `\uXXXX` escapes, so the exact copy's text is plain UTF-8.
 */
export function ledgerCopyLine(event: ConsentEvent): string {
  const { columns: e, exact } = storedEvent(event);
  return `${[
    String(e.seq),
    e.id,
    e.accountId,
    e.address,
    e.channel,
    JSON.stringify(e.scope),
    scopeKey(e.scope),
    e.action,
    e.source,
    e.occurredAt,
    e.recordedAt,
    JSON.stringify(e.evidence),
    e.prevHash,
    e.hash,
  ]
    .map(copyField)
    .join("\t")}\t${e.accountSeq ?? COPY_NULL}\t${exact ? copyField(JSON.stringify(exact)) : COPY_NULL}\n`;
}

/** The columns a COPY line fills, in order. */
export const LEDGER_COLUMNS =
  "seq, id, account_id, address, channel, scope, scope_key, action, source, occurred_at, recorded_at, evidence, prev_hash, hash, account_seq, exact_event";

/**
 * Appends events with `COPY … FROM STDIN` on the transaction's own connection (node-postgres):
 * the fastest way into PostgreSQL, with no JSON to parse on the server. COPY has no ON CONFLICT,
 * so a seq that is already stored (the cursor was restored behind the rows) fails it with
 * 23505; the caller then rolls back to a savepoint and uses insertLedgerEvents, which skips
 * such rows. Returns how many rows were copied.
 */
export async function copyLedgerEvents(
  client: PoolClient,
  params: { events: ConsentEvent[] },
): Promise<number> {
  const text = params.events.map(ledgerCopyLine).join("");
  const stream = client.query(copyFrom(`copy optout.ledger_events (${LEDGER_COLUMNS}) from stdin`));
  await pipeline(Readable.from([text]), stream);
  return Number(stream.rowCount ?? params.events.length);
}
