import { type ConsentEvent, converge, scopeKey } from "@optout/core";
import { and, asc, eq, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../client.ts";
import { type BlocklistEntryRow, blocklistEntries } from "../schema.ts";
import { storedEvent } from "../storable.ts";

function reasonOf(event: ConsentEvent): string | null {
  const reason = event.evidence.reason;
  return typeof reason === "string" ? reason : null;
}

/**
 * The events as entries see them: their text as the columns store it (db/storable.ts), so they
 * are folded by the identity the table keys them by. `verify` folds the edge's feed the same way.
 */
export function entryEvents(events: readonly ConsentEvent[]): ConsentEvent[] {
  return events.map((e) => storedEvent(e).columns);
}

/**
 * Brings entries up to date with a batch of events under the core ordering rule: an entry takes
 * an event's state only if the event's (occurredAt, seq) is greater than the entry's. Events
 * are first folded per entry in memory (one statement cannot update a row twice), then the
 * winners are compared with the stored rows in SQL, so replays and older events change nothing.
 * Like the ledger insert, the rows travel as one jsonb parameter.
 * Returns how many entries were inserted or changed.
 */
export async function upsertEntries(db: Db, params: { events: ConsentEvent[] }): Promise<number> {
  if (params.events.length === 0) return 0;
  const winners = [...converge(entryEvents(params.events)).values()].map((e) => ({
    account_id: e.accountId,
    address: e.address,
    channel: e.channel,
    scope_key: scopeKey(e.scope),
    active: e.action === "opt_out",
    source: e.source,
    reason: reasonOf(e),
    occurred_at: e.occurredAt,
    seq: e.seq,
  }));
  const result = await db.execute(sql`
    with changed as (
      insert into ${blocklistEntries} as e (account_id, address, channel, scope_key, active, source, reason,
        occurred_at, seq, updated_at)
      select account_id, address, channel, scope_key, active, source, reason, occurred_at, seq, now()
      from jsonb_to_recordset(${JSON.stringify(winners)}::jsonb) as r(account_id text, address text,
        channel text, scope_key text, active boolean, source text, reason text, occurred_at timestamptz,
        seq bigint)
      on conflict (account_id, address, channel, scope_key) do update set
        active = excluded.active, source = excluded.source, reason = excluded.reason,
        occurred_at = excluded.occurred_at, seq = excluded.seq, updated_at = now()
      -- Row comparison is lexicographic: later occurredAt wins, equal times go to the higher seq.
      where (excluded.occurred_at, excluded.seq) > (e.occurred_at, e.seq)
      returning 1
    )
    select count(*)::int as changed from changed`);
  return rowsOf<{ changed: number }>(result)[0]?.changed ?? 0;
}

export async function listEntries(
  db: Db,
  params: { accountId?: string; activeOnly?: boolean } = {},
): Promise<BlocklistEntryRow[]> {
  const filters = [
    params.accountId === undefined ? undefined : eq(blocklistEntries.accountId, params.accountId),
    params.activeOnly ? eq(blocklistEntries.active, true) : undefined,
  ];
  return db
    .select()
    .from(blocklistEntries)
    .where(and(...filters))
    .orderBy(
      asc(blocklistEntries.accountId),
      asc(blocklistEntries.address),
      asc(blocklistEntries.channel),
      asc(blocklistEntries.scopeKey),
    );
}
