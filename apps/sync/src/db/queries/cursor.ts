import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { syncCursors } from "../schema.ts";

/** Creates the cursor at 0 (nothing applied) unless it exists. */
export async function ensureCursor(db: Db, params: { name: string }): Promise<void> {
  await db.insert(syncCursors).values({ name: params.name, lastSeq: 0 }).onConflictDoNothing();
}

export async function readCursor(
  db: Db,
  params: { name: string },
): Promise<{ lastSeq: number; updatedAt: string } | undefined> {
  const [row] = await db
    .select({ lastSeq: syncCursors.lastSeq, updatedAt: syncCursors.updatedAt })
    .from(syncCursors)
    .where(eq(syncCursors.name, params.name));
  return row;
}

/**
 * Moves the cursor from `expectedSeq` to `nextSeq`, and only from there. Run first in the apply
 * transaction, the update also locks the row: a second consumer applying the same batch waits,
 * then finds the cursor moved and matches no row. Returns whether this caller moved it.
 */
export async function advanceCursor(
  db: Db,
  params: { name: string; expectedSeq: number; nextSeq: number },
): Promise<boolean> {
  const rows = await db
    .update(syncCursors)
    .set({ lastSeq: params.nextSeq, updatedAt: sql`now()` })
    .where(and(eq(syncCursors.name, params.name), eq(syncCursors.lastSeq, params.expectedSeq)))
    .returning({ lastSeq: syncCursors.lastSeq });
  return rows.length === 1;
}
