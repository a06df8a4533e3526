import { eq, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import { type Db, rowsOf } from "../db/client.ts";
import { readCursor } from "../db/queries/cursor.ts";
import { syncCursors } from "../db/schema.ts";
import { EXIT } from "../errors.ts";
import { FEED_CURSOR } from "../feed/sync-feed.ts";
import type { Logger } from "../log.ts";
import { syncCommand } from "./sync.ts";

/** Marks a backfill in progress (a row in optout.sync_cursor), so an interrupted one resumes. */
const BACKFILL_MARK = "backfill_in_progress";

/** One line of progress: a bar on a terminal, plain text otherwise. */
export function formatProgress(done: number, total: number, rate: number, tty: boolean): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const eta = rate > 0 && total > done ? `, ETA ${Math.ceil((total - done) / rate)} s` : "";
  const counts = `${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} changes, ${Math.round(rate).toLocaleString("en-US")}/s${eta}`;
  if (!tty) return `backfill: ${pct.trim()} ${counts}\n`;
  const width = 30;
  const filled = Math.round(fraction * width);
  return `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct} ${counts}\u001b[K`;
}

/**
 * `backfill`: loads the edge's whole feed into an empty database (or finishes an interrupted
 * backfill), showing progress — a bar on a terminal, a line every few seconds otherwise. The
 * apply path is the daemon's own: batches with the cursor in the same transaction, so `kill -9`
 * at any moment loses nothing and running `backfill` again resumes from the cursor.
 */
export async function backfillCommand(config: Config, log: Logger): Promise<number> {
  const tty = Boolean(process.stderr.isTTY);
  let total = 0;
  let startSeq = 0;
  let startedAt = 0;
  let lastLine = 0;
  let done = 0;
  const print = (force = false) => {
    const now = performance.now();
    if (!force && now - lastLine < (tty ? 100 : 5000)) return;
    lastLine = now;
    const rate = ((done - startSeq) / Math.max(1, now - startedAt)) * 1000;
    process.stderr.write(formatProgress(done, total, rate, tty));
  };
  let db: Db | undefined;
  const code = await syncCommand("backfill", config, log, {
    prepare: async (database, edge) => {
      db = database.db;
      const cursor = (await readCursor(database.db, { name: FEED_CURSOR }))?.lastSeq ?? 0;
      const marked = rowsOf(
        await database.db.execute(sql`select 1 from ${syncCursors} where name = ${BACKFILL_MARK}`),
      ).length;
      if (cursor > 0 && !marked) {
        process.stderr.write(
          `optout-sync: backfill loads the feed into an empty database, and this one already has changes up to seq ${cursor}.\n` +
            "Use 'optout-sync run' or 'optout-sync once' to bring it up to date.\n",
        );
        return EXIT.usage;
      }
      if (!marked) await database.db.insert(syncCursors).values({ name: BACKFILL_MARK, lastSeq: 0 });
      else log.warn({ cursor }, "resuming an interrupted backfill");
      total = await edge.head(cursor);
      startSeq = cursor;
      done = cursor;
      startedAt = performance.now();
      process.stderr.write(
        `backfill: ${marked ? `resuming at seq ${cursor}, ` : ""}${(total - cursor).toLocaleString("en-US")} change(s) to load from ${config.edgeUrl}\n`,
      );
      return undefined;
    },
    onBatch: (report) => {
      done = report.toSeq;
      total = Math.max(total, done);
      print();
    },
    finish: async (result) => {
      print(true);
      if (tty) process.stderr.write("\n");
      if (result.caughtUp && db) await db.delete(syncCursors).where(eq(syncCursors.name, BACKFILL_MARK));
    },
  });
  return code;
}
