import { type ConsentEvent, converge, scopeKey } from "@optout/core";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { type BlocklistEntryRow, blocklistEntries, type NewBlocklistEntryRow } from "../schema.ts";

function reasonOf(event: ConsentEvent): string | null {
  const reason = event.evidence.reason;
  return typeof reason === "string" ? reason : null;
}

/**
 * Brings entries up to date with a batch of events under the core ordering rule: an entry takes
 * an event's state only if the event's (occurredAt, seq) is greater than the entry's. Events
 * are first folded per entry in memory (one statement cannot update a row twice), then the
 * winners are compared with the stored rows in SQL, so replays and older events change nothing.
 * Returns how many entries were inserted or changed.
 */
export async function upsertEntries(db: Db, params: { events: ConsentEvent[] }): Promise<number> {
  if (params.events.length === 0) return 0;
  const winners: NewBlocklistEntryRow[] = [...converge(params.events).values()].map((e) => ({
    accountId: e.accountId,
    address: e.address,
    channel: e.channel,
    scopeKey: scopeKey(e.scope),
    active: e.action === "opt_out",
    source: e.source,
    reason: reasonOf(e),
    occurredAt: e.occurredAt,
    seq: e.seq,
  }));
  const rows = await db
    .insert(blocklistEntries)
    .values(winners)
    .onConflictDoUpdate({
      target: [
        blocklistEntries.accountId,
        blocklistEntries.address,
        blocklistEntries.channel,
        blocklistEntries.scopeKey,
      ],
      set: {
        active: sql`excluded.active`,
        source: sql`excluded.source`,
        reason: sql`excluded.reason`,
        occurredAt: sql`excluded.occurred_at`,
        seq: sql`excluded.seq`,
        updatedAt: sql`now()`,
      },
      // Row comparison is lexicographic: later occurredAt wins, equal times go to the higher seq.
      setWhere: sql`(excluded.occurred_at, excluded.seq) > (${blocklistEntries.occurredAt}, ${blocklistEntries.seq})`,
    })
    .returning({ seq: blocklistEntries.seq });
  return rows.length;
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
