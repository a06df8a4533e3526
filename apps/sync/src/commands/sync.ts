import { sql } from "drizzle-orm";
import { type Config, describeDatabase, requireSyncToken } from "../config.ts";
import { rowsOf } from "../db/client.ts";
import { type Database, openDatabase } from "../db/open.ts";
import { outboxStats } from "../db/queries/outbox.ts";
import { EdgeClient } from "../edge-client.ts";
import { EXIT, IntegrityError } from "../errors.ts";
import {
  type BatchReport,
  type DrainResult,
  drainFeed,
  type FeedSyncDeps,
  followFeed,
} from "../feed/sync-feed.ts";
import { startHttpServer } from "../http-server.ts";
import { describeError, errorFields, type Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { drainOutbox, followOutbox, type OutboxPushDeps } from "../outbox/push-outbox.ts";
import { type RetryPolicy, sleep, withRetry } from "../retry.ts";
import { handleShutdownSignals } from "../shutdown.ts";

export function retryPolicy(mode: "run" | "once", config: Config): RetryPolicy {
  // A daemon outlasts any outage; a one-shot run gives up after about a minute.
  return mode === "run"
    ? { baseDelayMs: 500, maxDelayMs: config.retryMaxDelayMs, maxAttempts: Number.POSITIVE_INFINITY }
    : { baseDelayMs: 500, maxDelayMs: Math.min(config.retryMaxDelayMs, 16_000), maxAttempts: 8 };
}

export type SyncMode = "run" | "once" | "backfill";

export interface SyncHooks {
  /** Called once the database is open, before any sync (backfill's emptiness check, progress). */
  prepare?: (database: Database, edge: EdgeClient) => Promise<number | undefined>;
  onBatch?: (report: BatchReport) => void;
  /** After the drain (backfill: last progress line, clears its marker once caught up). */
  finish?: (result: DrainResult) => Promise<void>;
}

/**
 * `run`, `once` and `backfill`: open the database, then push the outbox and follow (or drain)
 * the feed until done or stopped. In `run` the two directions are independent loops; a fatal
 * error in either stops both.
 */
export async function syncCommand(
  mode: SyncMode,
  config: Config,
  log: Logger,
  hooks: SyncHooks = {},
): Promise<number> {
  const token = requireSyncToken(config);
  const shutdown = handleShutdownSignals(log, config.shutdownTimeoutMs);
  const retry = retryPolicy(mode === "run" ? "run" : "once", config);
  const metrics = new Metrics();
  let database: Database | undefined;
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  // Stops both loops: on SIGTERM, or when one of them fails for good.
  const stop = new AbortController();
  shutdown.signal.addEventListener("abort", () => stop.abort(), { once: true });
  try {
    log.info(
      {
        mode,
        edge: config.edgeUrl,
        database: describeDatabase(config.database),
        batchSize: config.batchSize,
      },
      "starting",
    );
    database = await withRetry(() => openDatabase(config.database, { log }), retry, {
      log,
      signal: shutdown.signal,
      onRetry: (kind) => metrics.error(kind),
    });
    if (!database) return EXIT.ok; // stopped before the database came up
    const db = database.db;
    const edge = new EdgeClient({ baseUrl: config.edgeUrl, token, timeoutMs: config.requestTimeoutMs });
    if (mode === "run" && config.httpPort > 0) {
      try {
        http = await startHttpServer({
          host: config.httpHost,
          port: config.httpPort,
          metrics,
          log,
          readyMaxPollAgeMs: config.readyMaxPollAgeMs,
          databaseReachable: async () => {
            const probe = db.execute(sql`select 1 as ok`).then((r) => rowsOf(r).length === 1);
            return Promise.race([probe, sleep(2000).then(() => false)]);
          },
        });
        log.info({ host: config.httpHost, port: http.port }, "serving /health, /ready and /metrics");
      } catch (e) {
        // The sync matters more than its dashboard: carry on, loudly.
        log.error({ ...errorFields(e), port: config.httpPort }, "cannot serve HTTP; syncing without it");
      }
    }
    const prepared = await hooks.prepare?.(database, edge);
    if (prepared !== undefined) return prepared;

    let lastHeadProbe = 0;
    const probeHead = (cursor: number) => {
      // While behind, find the edge's head now and then to report the lag in changes.
      if (Date.now() - lastHeadProbe < 10_000) return;
      lastHeadProbe = Date.now();
      edge.head(cursor).then(
        (head) => {
          metrics.lagChanges = Math.max(0, head - metrics.cursor);
        },
        () => {},
      );
    };
    const feedDeps: FeedSyncDeps = {
      db,
      edge,
      log,
      batchSize: config.batchSize,
      maxApplyEvents: config.applyMaxEvents,
      retry,
      signal: stop.signal,
      onBatch: (report) => {
        metrics.appliedEvents += report.count;
        metrics.ownEvents += report.own;
        metrics.appliedBatches++;
        metrics.pullDuration.observe((report.fetchMs + report.applyMs) / 1000);
        metrics.cursor = report.toSeq;
        metrics.lagSeconds = report.hasMore
          ? Math.max(0, (Date.now() - Date.parse(report.lastRecordedAt)) / 1000)
          : 0;
        if (report.hasMore) probeHead(report.toSeq);
        hooks.onBatch?.(report);
      },
      onPoll: ({ cursor, caughtUp }) => {
        metrics.lastPollAt = Date.now();
        metrics.cursor = cursor;
        if (caughtUp) {
          metrics.lagChanges = 0;
          metrics.lagSeconds = 0;
        }
      },
      onRetry: (kind) => metrics.error(kind),
    };
    const pushDeps: OutboxPushDeps = {
      db,
      edge,
      log,
      batchSize: config.batchSize,
      retry,
      signal: stop.signal,
      onPush: (report) => {
        metrics.pushedChanges += report.count;
        metrics.pushBatches++;
        metrics.pushDuration.observe(report.pushMs / 1000);
      },
      onReject: (n) => {
        metrics.rejectedChanges += n;
      },
      onRetry: (kind) => metrics.error(kind),
    };

    if (mode === "run") {
      const stopOnFailure = <T>(p: Promise<T>) =>
        p.catch((e) => {
          stop.abort();
          throw e;
        });
      // allSettled: when one loop fails, the other still finishes its batch before we close.
      const settled = await Promise.allSettled([
        stopOnFailure(followFeed({ ...feedDeps, pollIntervalMs: config.pollIntervalMs })),
        stopOnFailure(
          followOutbox({
            ...pushDeps,
            pollIntervalMs: config.pollIntervalMs,
            onDrained: async () => {
              metrics.outboxPending = (await outboxStats(db)).pending;
            },
          }),
        ),
      ]);
      const failed = settled.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      const [feed, pushed] = settled as [
        PromiseFulfilledResult<Awaited<ReturnType<typeof followFeed>>>,
        PromiseFulfilledResult<Awaited<ReturnType<typeof followOutbox>>>,
      ];
      log.info(
        { applied: feed.value.applied, batches: feed.value.batches, pushed: pushed.value.pushed },
        "stopped",
      );
      return EXIT.ok;
    }

    // once / backfill: push what the outbox holds first, so its changes come back in this drain.
    const pushed = mode === "once" ? await drainOutbox(pushDeps) : undefined;
    const result = await drainFeed(feedDeps);
    await hooks.finish?.(result);
    log.info(
      { ...result, pushed: pushed?.pushed ?? 0 },
      result.caughtUp ? "caught up" : "stopped before the feed was drained",
    );
    const pushLine =
      pushed && (pushed.pushed > 0 || pushed.rejected > 0)
        ? `pushed ${pushed.pushed} outbox change(s)${pushed.rejected ? ` (${pushed.rejected} rejected)` : ""}; `
        : "";
    process.stdout.write(
      result.caughtUp
        ? `${pushLine}applied ${result.applied} change(s) in ${result.batches} batch(es); cursor at seq ${result.lastSeq}\n`
        : `stopped early: ${pushLine}applied ${result.applied} change(s) in ${result.batches} batch(es)\n`,
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof IntegrityError) {
      log.fatal({ kind: e.kind, ...e.details }, `SYNC STOPPED: ${e.message}`);
      process.stderr.write(
        `optout-sync: SYNC STOPPED — ${e.message}.\n` +
          "Nothing after the last applied seq was written. The edge's ledger must be repaired or the\n" +
          "database restored before syncing can continue; retrying will not help.\n",
      );
      return EXIT.integrity;
    }
    log.error(errorFields(e), "sync failed");
    process.stderr.write(`optout-sync: ${describeError(e).message}\n`);
    return EXIT.failed;
  } finally {
    shutdown.dispose();
    http?.server.close();
    http?.server.closeAllConnections();
    await database?.close().catch((e) => log.warn(errorFields(e), "closing the database failed"));
  }
}
