import { type Config, describeDatabase, requireSyncToken } from "../config.ts";
import { type Database, openDatabase } from "../db/open.ts";
import { EdgeClient } from "../edge-client.ts";
import { EXIT, IntegrityError } from "../errors.ts";
import { drainFeed, type FeedSyncDeps, followFeed } from "../feed/sync-feed.ts";
import { describeError, errorFields, type Logger } from "../log.ts";
import { type RetryPolicy, withRetry } from "../retry.ts";
import { handleShutdownSignals } from "../shutdown.ts";

export function retryPolicy(mode: "run" | "once", config: Config): RetryPolicy {
  // A daemon outlasts any outage; a one-shot run gives up after about a minute.
  return mode === "run"
    ? { baseDelayMs: 500, maxDelayMs: config.retryMaxDelayMs, maxAttempts: Number.POSITIVE_INFINITY }
    : { baseDelayMs: 500, maxDelayMs: Math.min(config.retryMaxDelayMs, 16_000), maxAttempts: 8 };
}

/** `run` and `once`: open the database, then follow or drain the feed until done or stopped. */
export async function syncCommand(mode: "run" | "once", config: Config, log: Logger): Promise<number> {
  const token = requireSyncToken(config);
  const shutdown = handleShutdownSignals(log, config.shutdownTimeoutMs);
  const retry = retryPolicy(mode, config);
  let database: Database | undefined;
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
    });
    if (!database) return EXIT.ok; // stopped before the database came up
    const deps: FeedSyncDeps = {
      db: database.db,
      edge: new EdgeClient({ baseUrl: config.edgeUrl, token, timeoutMs: config.requestTimeoutMs }),
      log,
      batchSize: config.batchSize,
      retry,
      signal: shutdown.signal,
    };
    if (mode === "run") {
      const result = await followFeed({ ...deps, pollIntervalMs: config.pollIntervalMs });
      log.info({ applied: result.applied, batches: result.batches }, "stopped");
      return EXIT.ok;
    }
    const result = await drainFeed(deps);
    log.info({ ...result }, result.caughtUp ? "caught up" : "stopped before the feed was drained");
    process.stdout.write(
      result.caughtUp
        ? `applied ${result.applied} change(s) in ${result.batches} batch(es); cursor at seq ${result.lastSeq}\n`
        : `stopped early: applied ${result.applied} change(s) in ${result.batches} batch(es)\n`,
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
    await database?.close().catch((e) => log.warn(errorFields(e), "closing the database failed"));
  }
}
