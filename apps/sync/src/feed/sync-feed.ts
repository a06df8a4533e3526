import type { ChangesPage } from "@optout/core";
import type { Db } from "../db/client.ts";
import { type ChainHead, readChainHeads } from "../db/queries/chain-heads.ts";
import { ensureCursor, readCursor } from "../db/queries/cursor.ts";
import type { EdgeClient } from "../edge-client.ts";
import { type ErrorKind, SyncError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type RetryPolicy, sleep, withRetry } from "../retry.ts";
import { applyPage } from "./apply-page.ts";
import { type VerifiedPage, verifyPage } from "./verify-page.ts";

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
  /** Fetched pages merged into this batch's transaction. */
  pages: number;
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
  /**
   * Most events in one apply transaction when fetched pages queue up; also how far ahead pages
   * are fetched (up to 5 pages). Default: one page per transaction, one page ahead.
   */
  maxApplyEvents?: number;
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

/** Pages fetched at once at most while behind. */
const MAX_PREFETCH = 5;

interface PendingPage {
  /** Whether the page has arrived (or failed) — only arrived pages are merged. */
  settled: boolean;
  after: number;
  startedAt: number;
  page: Promise<ChangesPage>;
}

/**
 * Applies the feed from the stored cursor until the edge has nothing more. While one batch is
 * being applied the next page is already being fetched, so the database rarely waits for the
 * network. When pages arrive faster than they are applied (a backlog, a backfill), the pages
 * already fetched are merged into one transaction of up to `maxApplyEvents` events: fewer
 * commits and statements per event; a page still in flight is never waited for, so in steady
 * state every page is applied as soon as it arrives.
 *
 * Every step starts from what is committed: after any failure the cursor is re-read and the
 * prefetched page dropped, so a retry can neither skip nor repeat a change.
 */
export async function drainFeed(deps: FeedSyncDeps): Promise<DrainResult> {
  const { db, edge, log, signal } = deps;
  const cursor = deps.cursor ?? FEED_CURSOR;
  const maxApplyEvents = Math.max(deps.batchSize, deps.maxApplyEvents ?? deps.batchSize);
  let afterSeq: number | undefined;
  // Pages being fetched, by their `after`. While behind, several are in flight at once: the
  // pages after a full page start where it ends (seqs are gap-free), so they can be asked for
  // before it arrives. A page whose `after` turns out wrong is simply never used.
  const pending = new Map<number, PendingPage>();
  const depth = Math.min(MAX_PREFETCH, Math.max(1, Math.floor(maxApplyEvents / deps.batchSize)));
  let applied = 0;
  let batches = 0;

  const fetchPage = (after: number): PendingPage => {
    const fetching: PendingPage = { after, startedAt: performance.now(), page: undefined!, settled: false };
    fetching.page = edge.changes({ after, limit: deps.batchSize }, signal);
    fetching.page.then(
      () => {
        fetching.settled = true;
      },
      () => {
        fetching.settled = true; // observed when awaited; never an unhandled rejection
      },
    );
    return fetching;
  };

  const step = async (): Promise<boolean> => {
    try {
      if (afterSeq === undefined) {
        await ensureCursor(db, { name: cursor });
        afterSeq = (await readCursor(db, { name: cursor }))?.lastSeq ?? 0;
      }
      const from = afterSeq;
      const group: VerifiedPage[] = [];
      const groupHeads = new Map<string, ChainHead>();
      let at = from;
      let hasMore = false;
      let fetchMs = 0;
      let failure: unknown;
      for (;;) {
        const current = pending.get(at) ?? fetchPage(at);
        for (const key of pending.keys()) if (key <= at) pending.delete(key);
        const page = await current.page;
        fetchMs += performance.now() - current.startedAt;
        if (page.changes.length === 0) {
          if (page.hasMore) {
            throw new SyncError(
              "edge_bad_response",
              `the edge sent no changes after ${at} but says there are more`,
              false,
            );
          }
          hasMore = false;
          break;
        }
        // Heads: this group's own pages first, then what is stored.
        const unknown = [...new Set(page.changes.map((c) => c.accountId))].filter((a) => !groupHeads.has(a));
        const heads = new Map([...(await readChainHeads(db, { accountIds: unknown })), ...groupHeads]);
        let verified: VerifiedPage;
        try {
          verified = await verifyPage(page.changes, { afterSeq: at, heads });
        } catch (e) {
          // The pages before it verified: they are applied, then the failure stops the sync.
          if (group.length === 0) throw e;
          failure = e;
          hasMore = false;
          break;
        }
        for (const [account, head] of verified.heads) groupHeads.set(account, head);
        group.push(verified);
        at = verified.lastSeq;
        hasMore = page.hasMore;
        if (hasMore && !signal.aborted) {
          for (let k = 0; k < depth; k++) {
            const after = at + k * deps.batchSize;
            if (!pending.has(after)) pending.set(after, fetchPage(after));
          }
        }
        const size = group.reduce((n, g) => n + g.events.length, 0);
        const next = pending.get(at);
        if (!hasMore || signal.aborted || !next?.settled || size + deps.batchSize > maxApplyEvents) break;
      }
      if (group.length === 0) {
        deps.onPoll?.({ cursor: from, caughtUp: true });
        return true;
      }
      const verified: VerifiedPage =
        group.length === 1
          ? group[0]!
          : { events: group.flatMap((g) => g.events), lastSeq: at, heads: groupHeads };
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
        hasMore,
        pages: group.length,
        lastRecordedAt: verified.events.at(-1)!.recordedAt,
        fetchMs: Math.round(fetchMs),
        applyMs: Math.round(applyMs),
      };
      if (result.inserted !== verified.events.length) {
        log.warn(report, "some ledger rows were already stored beyond the cursor; kept the stored ones");
      }
      log.info(report, "applied batch");
      deps.onBatch?.(report);
      if (failure) throw failure;
      deps.onPoll?.({ cursor: result.lastSeq, caughtUp: !hasMore });
      return !hasMore;
    } catch (e) {
      afterSeq = undefined;
      pending.clear();
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
