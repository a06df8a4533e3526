import type { ChangesPage } from "@optout/core";
import type { Db } from "../db/client.ts";
import { readChainHeads } from "../db/queries/chain-heads.ts";
import { ensureCursor, readCursor } from "../db/queries/cursor.ts";
import type { EdgeClient } from "../edge-client.ts";
import { type ErrorKind, SyncError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type RetryPolicy, sleep, withRetry } from "../retry.ts";
import { applyPage } from "./apply-page.ts";
import { verifyPage } from "./verify-page.ts";

/** The cursor this direction (edge → primary) keeps in `optout.sync_cursor`. */
export const FEED_CURSOR = "edge_feed";

export interface BatchReport {
  fromSeq: number;
  toSeq: number;
  count: number;
  inserted: number;
  entriesChanged: number;
  /** Events that were this database's own outbox changes coming back (recognized, applied, not re-sent). */
  own: number;
  /** Whether the edge has more after this batch. */
  hasMore: boolean;
  /** recordedAt of the batch's last event: how far the primary now trails the edge in time. */
  lastRecordedAt: string;
  fetchMs: number;
  applyMs: number;
}

export interface FeedSyncDeps {
  db: Db;
  edge: EdgeClient;
  log: Logger;
  batchSize: number;
  retry: RetryPolicy;
  /** Aborted to ask for a stop: waits and fetches end early; a transaction in flight commits. */
  signal: AbortSignal;
  cursor?: string;
  /** Observers for progress and failures (metrics, progress bars, tests). */
  onBatch?: (report: BatchReport) => void;
  onRetry?: (kind: ErrorKind, attempt: number, delayMs: number) => void;
  /** After every successful poll of the edge, also an empty one: `caughtUp` when nothing is left. */
  onPoll?: (poll: { cursor: number; caughtUp: boolean }) => void;
}

export interface DrainResult {
  applied: number;
  batches: number;
  /** The cursor when the drain ended. */
  lastSeq: number;
  /** False when the drain ended because a stop was asked for. */
  caughtUp: boolean;
}

interface PendingPage {
  after: number;
  startedAt: number;
  page: Promise<ChangesPage>;
}

/**
 * Applies the feed from the stored cursor until the edge has nothing more, one verified page
 * per transaction. While one page is being applied the next is already being fetched, so the
 * database rarely waits for the network.
 *
 * Every step starts from what is committed: after any failure the cursor is re-read and the
 * prefetched page dropped, so a retry can neither skip nor repeat a change.
 */
export async function drainFeed(deps: FeedSyncDeps): Promise<DrainResult> {
  const { db, edge, log, signal } = deps;
  const cursor = deps.cursor ?? FEED_CURSOR;
  let afterSeq: number | undefined;
  let pending: PendingPage | undefined;
  let applied = 0;
  let batches = 0;

  const fetchPage = (after: number): PendingPage => {
    const page = edge.changes({ after, limit: deps.batchSize }, signal);
    page.catch(() => {}); // observed when awaited; never an unhandled rejection
    return { after, startedAt: performance.now(), page };
  };

  const step = async (): Promise<boolean> => {
    try {
      if (afterSeq === undefined) {
        await ensureCursor(db, { name: cursor });
        afterSeq = (await readCursor(db, { name: cursor }))?.lastSeq ?? 0;
      }
      const from = afterSeq;
      const current = pending?.after === from ? pending : fetchPage(from);
      pending = undefined;
      const page = await current.page;
      const fetchMs = performance.now() - current.startedAt;
      if (page.changes.length === 0) {
        if (page.hasMore) {
          throw new SyncError(
            "edge_bad_response",
            `the edge sent no changes after ${from} but says there are more`,
            false,
          );
        }
        deps.onPoll?.({ cursor: from, caughtUp: true });
        return true;
      }
      const accountIds = [...new Set(page.changes.map((c) => c.accountId))];
      const heads = await readChainHeads(db, { accountIds });
      const verified = await verifyPage(page.changes, { afterSeq: from, heads });
      if (page.hasMore && !signal.aborted) pending = fetchPage(verified.lastSeq);
      const t0 = performance.now();
      const result = await applyPage(db, { cursor, afterSeq: from, page: verified });
      const applyMs = performance.now() - t0;
      afterSeq = result.lastSeq;
      applied += verified.events.length;
      batches++;
      const report: BatchReport = {
        fromSeq: from + 1,
        toSeq: result.lastSeq,
        count: verified.events.length,
        inserted: result.inserted,
        entriesChanged: result.entriesChanged,
        own: result.own,
        hasMore: page.hasMore,
        lastRecordedAt: verified.events.at(-1)!.recordedAt,
        fetchMs: Math.round(fetchMs),
        applyMs: Math.round(applyMs),
      };
      if (result.inserted !== verified.events.length) {
        log.warn(report, "some ledger rows were already stored beyond the cursor; kept the stored ones");
      }
      log.info(report, "applied batch");
      deps.onBatch?.(report);
      deps.onPoll?.({ cursor: result.lastSeq, caughtUp: !page.hasMore });
      return !page.hasMore;
    } catch (e) {
      afterSeq = undefined;
      pending = undefined;
      throw e;
    }
  };

  for (;;) {
    const done = await withRetry(step, deps.retry, { log, signal, onRetry: deps.onRetry });
    if (done === undefined || signal.aborted) {
      return { applied, batches, lastSeq: afterSeq ?? -1, caughtUp: false };
    }
    if (done) return { applied, batches, lastSeq: afterSeq ?? 0, caughtUp: true };
  }
}

/**
 * Follows the feed until asked to stop: drain, wait `pollIntervalMs`, drain again. Returns the
 * totals; integrity and other fatal errors propagate.
 */
export async function followFeed(deps: FeedSyncDeps & { pollIntervalMs: number }): Promise<DrainResult> {
  let applied = 0;
  let batches = 0;
  let lastSeq = -1;
  while (!deps.signal.aborted) {
    const result = await drainFeed(deps);
    applied += result.applied;
    batches += result.batches;
    if (result.lastSeq >= 0) lastSeq = result.lastSeq;
    if (!result.caughtUp) break;
    await sleep(deps.pollIntervalMs, deps.signal);
  }
  return { applied, batches, lastSeq, caughtUp: false };
}
