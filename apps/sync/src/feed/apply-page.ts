import type { Db } from "../db/client.ts";
import { upsertChainHeads } from "../db/queries/chain-heads.ts";
import { advanceCursor } from "../db/queries/cursor.ts";
import { upsertEntries } from "../db/queries/entries.ts";
import { insertLedgerEvents } from "../db/queries/ledger.ts";
import { recognizeOwnChanges } from "../db/queries/outbox.ts";
import { CursorConflictError } from "../errors.ts";
import type { VerifiedPage } from "./verify-page.ts";

export interface ApplyResult {
  /** Ledger rows written (equals the page size unless some seqs were somehow already stored). */
  inserted: number;
  /** Blocklist entries created or changed. */
  entriesChanged: number;
  /** Events that were this database's own outbox changes coming back through the feed. */
  own: number;
  lastSeq: number;
}

/**
 * Applies one verified page in ONE transaction: cursor, ledger rows, entries and chain heads
 * commit together or not at all, so a crash at any instant leaves either the state before the
 * page or the state after it — never half of it, and never rows without their cursor.
 *
 * The cursor moves first, guarded by its expected value: that row lock serializes concurrent
 * consumers, and whoever finds the cursor already moved rolls back with CursorConflictError.
 */
export async function applyPage(
  db: Db,
  params: { cursor: string; afterSeq: number; page: VerifiedPage },
): Promise<ApplyResult> {
  const { cursor, afterSeq, page } = params;
  if (page.events.length === 0) return { inserted: 0, entriesChanged: 0, own: 0, lastSeq: afterSeq };
  return db.transaction(async (tx) => {
    const moved = await advanceCursor(tx, { name: cursor, expectedSeq: afterSeq, nextSeq: page.lastSeq });
    if (!moved) throw new CursorConflictError(cursor, afterSeq);
    const inserted = await insertLedgerEvents(tx, { events: page.events });
    const entriesChanged = await upsertEntries(tx, { events: page.events });
    await upsertChainHeads(tx, {
      heads: [...page.heads].map(([accountId, head]) => ({ accountId, ...head })),
    });
    const own = await recognizeOwnChanges(tx, { events: page.events });
    return { inserted, entriesChanged, own, lastSeq: page.lastSeq };
  });
}
