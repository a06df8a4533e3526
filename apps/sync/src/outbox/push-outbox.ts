import type { SyncChange } from "@optout/core";
import type { Db } from "../db/client.ts";
import {
  markOutboxSent,
  noteOutboxFailure,
  type PendingOutboxRow,
  readPendingOutbox,
  rejectOutboxRow,
} from "../db/queries/outbox.ts";
import type { EdgeClient } from "../edge-client.ts";
import { EdgeHttpError, type ErrorKind } from "../errors.ts";
import { describeError, type Logger } from "../log.ts";
import { type RetryPolicy, sleep, withRetry } from "../retry.ts";
import { pushableChange } from "./pushable-change.ts";

export interface PushReport {
  fromId: number;
  toId: number;
  count: number;
  /** Rows that became sent by this push (less than count if another pusher got there first). */
  marked: number;
  pushMs: number;
}

export interface OutboxPushDeps {
  db: Db;
  edge: Pick<EdgeClient, "apply">;
  log: Logger;
  batchSize: number;
  retry: RetryPolicy;
  signal: AbortSignal;
  onPush?: (report: PushReport) => void;
  onReject?: (count: number) => void;
  onRetry?: (kind: ErrorKind, attempt: number, delayMs: number) => void;
}

export interface PushResult {
  pushed: number;
  rejected: number;
  batches: number;
  /** False when stopped before the outbox was empty. */
  drained: boolean;
}

function toChange(row: PendingOutboxRow, now: Date) {
  return pushableChange(now).safeParse({
    id: row.changeId,
    accountId: row.accountId,
    address: row.address,
    channel: row.channel,
    scope: row.scope,
    action: row.action,
    occurredAt: row.occurredAt,
    ...(row.reason ? { reason: row.reason } : {}),
  });
}

/**
 * Which change a 400 from /v1/sync/apply blames (its message starts with `changes.<i>.`), and
 * why, with the position in this batch left out.
 */
function blamed(error: EdgeHttpError): { index: number; why: string } | undefined {
  try {
    const e = (JSON.parse(error.body) as { error?: { code?: string; message?: string } }).error;
    const match = /^changes\.(\d+)\.?(.*)$/s.exec(e?.message ?? "");
    if (!match) return undefined;
    return { index: Number(match[1]), why: `edge refused it (${e?.code ?? "400"}): ${match[2]}` };
  } catch {
    return undefined;
  }
}

/**
 * Pushes the outbox to the edge until it is empty: the oldest pending rows, in id order, one
 * `POST /v1/sync/apply` per batch; the rows are marked sent (with the edge's seq) only after the
 * edge answered. A crash between the answer and the mark resends them next time, which the edge
 * records once (idempotent by change id) — so every outbox row reaches the ledger exactly once.
 *
 * A row the edge can never accept (unknown account, unreadable address — a 400 that names it)
 * or that fails validation here (pushable-change.ts: core's SyncChange, and an `occurredAt` not
 * beyond the edge's clock skew) is marked rejected, with the reason in `last_error`, and skipped:
 * one bad row must not hold up every change behind it. Other errors are retried.
 */
export async function drainOutbox(deps: OutboxPushDeps): Promise<PushResult> {
  const { db, edge, log, signal } = deps;
  const totals: PushResult = { pushed: 0, rejected: 0, batches: 0, drained: false };

  const reject = async (row: PendingOutboxRow, error: string) => {
    await rejectOutboxRow(db, { id: row.id, error });
    totals.rejected++;
    deps.onReject?.(1);
    log.error({ outboxId: row.id, changeId: row.changeId, reason: error }, "outbox row rejected; skipped");
  };

  const step = async (): Promise<boolean> => {
    const rows = await readPendingOutbox(db, { limit: deps.batchSize });
    if (rows.length === 0) return true;
    // Rows that fail validation here are rejected on the spot; the valid ones behind them go now.
    const now = new Date();
    const batch: Array<{ row: PendingOutboxRow; change: SyncChange }> = [];
    for (const row of rows) {
      const parsed = toChange(row, now);
      if (parsed.success) {
        batch.push({ row, change: parsed.data });
        continue;
      }
      const issue = parsed.error.issues[0];
      await reject(row, `invalid: ${issue?.path.join(".")}: ${issue?.message}`);
    }
    if (batch.length === 0) return false; // read again without them
    const t0 = performance.now();
    let results: Awaited<ReturnType<EdgeClient["apply"]>>;
    try {
      // Not aborted by the stop signal: a push in flight completes and is marked, like a batch.
      results = await edge.apply(batch.map((b) => b.change));
    } catch (e) {
      if (e instanceof EdgeHttpError && e.status === 400) {
        const blame = blamed(e);
        const row = blame === undefined ? undefined : batch[blame.index]?.row;
        if (row && blame) {
          await reject(row, blame.why);
          return false;
        }
      }
      await noteOutboxFailure(db, {
        ids: batch.map((b) => b.row.id),
        error: describeError(e).message,
      }).catch(() => {});
      throw e;
    }
    const pushMs = performance.now() - t0;
    const marked = await markOutboxSent(db, {
      acks: results.map((r, i) => ({ id: batch[i]!.row.id, seq: r.seq })),
    });
    const report: PushReport = {
      fromId: batch[0]!.row.id,
      toId: batch.at(-1)!.row.id,
      count: batch.length,
      marked,
      pushMs: Math.round(pushMs),
    };
    totals.pushed += batch.length;
    totals.batches++;
    log.info(report, "pushed outbox batch");
    deps.onPush?.(report);
    return rows.length < deps.batchSize;
  };

  for (;;) {
    const done = await withRetry(step, deps.retry, { log, signal, onRetry: deps.onRetry });
    if (done === undefined || signal.aborted) return totals;
    if (done) return { ...totals, drained: true };
  }
}

/** Pushes the outbox until stopped: drain, wait `pollIntervalMs`, drain again. */
export async function followOutbox(
  deps: OutboxPushDeps & { pollIntervalMs: number; onDrained?: () => Promise<void> },
): Promise<PushResult> {
  const totals: PushResult = { pushed: 0, rejected: 0, batches: 0, drained: false };
  while (!deps.signal.aborted) {
    const r = await drainOutbox(deps);
    totals.pushed += r.pushed;
    totals.rejected += r.rejected;
    totals.batches += r.batches;
    if (!r.drained) break;
    await deps.onDrained?.().catch(() => {});
    await sleep(deps.pollIntervalMs, deps.signal);
  }
  return totals;
}
