import { inArray, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { chainHeads } from "../schema.ts";
import { storableText } from "../storable.ts";

export interface ChainHead {
  lastSeq: number;
  hash: string;
}

/**
 * The stored chain head of each given account (by the id the feed carries); accounts never seen
 * are absent. Account ids are stored as storable text (db/storable.ts), like in every table.
 */
export async function readChainHeads(
  db: Db,
  params: { accountIds: string[] },
): Promise<Map<string, ChainHead>> {
  const heads = new Map<string, ChainHead>();
  if (params.accountIds.length === 0) return heads;
  const rows = await db
    .select({ accountId: chainHeads.accountId, lastSeq: chainHeads.lastSeq, hash: chainHeads.hash })
    .from(chainHeads)
    .where(inArray(chainHeads.accountId, [...new Set(params.accountIds.map(storableText))]));
  const stored = new Map(rows.map((row) => [row.accountId, { lastSeq: row.lastSeq, hash: row.hash }]));
  for (const accountId of params.accountIds) {
    const head = stored.get(storableText(accountId));
    if (head) heads.set(accountId, head);
  }
  return heads;
}

/** Records new chain heads. A head only moves forward, whatever order writes arrive in. */
export async function upsertChainHeads(
  db: Db,
  params: { heads: Array<{ accountId: string } & ChainHead> },
): Promise<void> {
  if (params.heads.length === 0) return;
  await db
    .insert(chainHeads)
    .values(params.heads.map((h) => ({ ...h, accountId: storableText(h.accountId) })))
    .onConflictDoUpdate({
      target: chainHeads.accountId,
      set: { lastSeq: sql`excluded.last_seq`, hash: sql`excluded.hash`, updatedAt: sql`now()` },
      setWhere: sql`excluded.last_seq > ${chainHeads.lastSeq}`,
    });
}
