import { sql } from "drizzle-orm";
import pg from "pg";
import type { Db } from "../db/client.ts";
import { upsertChainHeads } from "../db/queries/chain-heads.ts";
import { advanceCursor } from "../db/queries/cursor.ts";
import { upsertEntries } from "../db/queries/entries.ts";
import { copyLedgerEvents, insertLedgerEvents } from "../db/queries/ledger.ts";
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
    // Not waiting for the WAL flush is safe here: the cursor commits in this same transaction, so
    // a commit lost to a server crash takes its cursor with it and the batch is fetched again.
    // Nothing outside the database is told that it committed.
    await tx.execute(sql`set local synchronous_commit = off`);
    const moved = await advanceCursor(tx, { name: cursor, expectedSeq: afterSeq, nextSeq: page.lastSeq });
    if (!moved) throw new CursorConflictError(cursor, afterSeq);
    const inserted = await appendLedger(tx, page);
    const entriesChanged = await upsertEntries(tx, { events: page.events });
    await upsertChainHeads(tx, {
      heads: [...page.heads].map(([accountId, head]) => ({ accountId, ...head })),
    });
    const own = await recognizeOwnChanges(tx, { events: page.events });
    return { inserted, entriesChanged, own, lastSeq: page.lastSeq };
  });
}

/**
 * The connection a node-postgres transaction runs on (drizzle keeps it as `session.client`), so
 * the ledger rows can go in with COPY; undefined on PGlite, which takes the jsonb path.
 */
function nodePostgresClient(tx: Db): pg.PoolClient | undefined {
  const client = (tx as unknown as { session?: { client?: unknown } }).session?.client;
  return client instanceof pg.Client ? (client as pg.PoolClient) : undefined;
}

/**
 * Ledger rows by COPY where the driver allows (node-postgres), else one jsonb statement. If COPY
 * meets a seq already stored (23505: only when the cursor was restored behind the rows), the
 * savepoint undoes it and the jsonb insert, which skips stored seqs, takes over.
 */
async function appendLedger(tx: Db, page: VerifiedPage): Promise<number> {
  const client = nodePostgresClient(tx);
  if (!client || process.env.OPTOUT_SYNC_APPLY === "jsonb")
    return insertLedgerEvents(tx, { events: page.events });
  await client.query("savepoint ledger_copy");
  try {
    const copied = await copyLedgerEvents(client, { events: page.events });
    await client.query("release savepoint ledger_copy");
    return copied;
  } catch (e) {
    if ((e as { code?: string }).code !== "23505") throw e;
    await client.query("rollback to savepoint ledger_copy");
    return insertLedgerEvents(tx, { events: page.events });
  }
}
