/**
 * The Cron Trigger's work, once a minute:
 *  1. `not_opened` deadlines that fell due are settled by their accounts' writers (docs/adr/0006,
 *     0010), all accounts at once, in rounds: every account with due deadlines gets a round's
 *     batches before any account gets a second round, so one account's backlog never keeps
 *     another's due deadline waiting. Each writer settles in its own commits, beside its live
 *     traffic, and writes KV itself: the run is bound by its time budget, not by one
 *     invocation's KV limit.
 *  2. KV debts a writer left in kv_outbox for longer than a minute (it died between its commit
 *     and its KV writes, and its alarm did not run) are paid by that writer, from D1.
 *  3. Rows that only grow with traffic are swept after the retention period: settled deadlines,
 *     message events, messages (all of whose deadlines fell due long before) and provider event
 *     receipts. The ledger is never swept.
 */
import { DEFAULT_RETENTION_DAYS, readConfig } from "../config.ts";
import { errorName, log } from "../lib/log.ts";
import { repairConfirmations } from "../writer/confirmation-sender.ts";
import type { SettleReport } from "../writer/ledger-writer.ts";

export interface CronLimits {
  /** Batches (SETTLE_BATCH deadlines each) an account's writer settles per round. */
  batchesPerRound: number;
  /** Accounts settling at once. */
  concurrency: number;
  /** No round after the first starts after this much wall-clock time; the next minute's run continues. */
  budgetMs: number;
  /** Rows deleted per table per statement; statements repeat while rows are left and time lasts. */
  sweepBatch: number;
  /** The sweep always gets at least this long, whatever settling took. */
  sweepMinMs: number;
}

export const CRON_LIMITS: CronLimits = {
  batchesPerRound: 4,
  concurrency: 16,
  budgetMs: 45_000,
  sweepBatch: 5000,
  sweepMinMs: 10_000,
};

/** A writer that left KV unpaid this long is asked again by the cron. */
const KV_DEBT_AGE_MS = 60_000;

export interface CronReport {
  /** Accounts that had due deadlines. */
  accounts: number;
  rounds: number;
  fired: number;
  cancelled: number;
  skipped: number;
  /** Some account had more due when the budget ran out. */
  more: boolean;
  kvRepaired: number;
  swept: { deadlines: number; events: number; messages: number };
}

export interface CronDeps {
  env: Pick<Env, "DB" | "LEDGER_WRITER">;
  retentionDays?: number;
}

const writerOf = (env: CronDeps["env"], accountId: string) =>
  env.LEDGER_WRITER.get(env.LEDGER_WRITER.idFromName(accountId));

/** Runs `work` on every item, at most `limit` at a time, in order of the items. */
async function eachLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
    }),
  );
  return results;
}

export async function runTriggerCron(
  deps: CronDeps,
  now: Date,
  limits: CronLimits = CRON_LIMITS,
): Promise<CronReport> {
  const started = Date.now();
  const { env } = deps;
  const nowIso = now.toISOString();
  const report: CronReport = {
    accounts: 0,
    rounds: 0,
    fired: 0,
    cancelled: 0,
    skipped: 0,
    more: false,
    kvRepaired: 0,
    swept: { deadlines: 0, events: 0, messages: 0 },
  };

  let accounts = await accountsWithDueDeadlines(env.DB, nowIso);
  report.accounts = accounts.length;
  // The first round always runs; later ones while the budget lasts.
  while (accounts.length > 0 && (report.rounds === 0 || Date.now() - started < limits.budgetMs)) {
    report.rounds++;
    const reports = await eachLimited(accounts, limits.concurrency, async (accountId) => {
      try {
        return await writerOf(env, accountId).settleDue(accountId, nowIso, limits.batchesPerRound);
      } catch (err) {
        // One account's trouble is its own: the others settle, and the next run retries it.
        log.error("trigger_settle_failed", { accountId, error: errorName(err) });
        return { fired: 0, cancelled: 0, skipped: 0, batches: 0, more: false } satisfies SettleReport;
      }
    });
    for (const r of reports) {
      report.fired += r.fired;
      report.cancelled += r.cancelled;
      report.skipped += r.skipped;
    }
    accounts = accounts.filter((_, i) => reports[i]!.more);
    report.more = accounts.length > 0;
  }

  // Debts are aged by the wall clock their rows were written with, not the scheduled time.
  report.kvRepaired = await repairKvDebts(env, new Date());
  // Confirmations owed through send APIs that their writers' alarms left unsent.
  const confirmationWriters = await repairConfirmations(
    env,
    new Date(),
    deps.retentionDays ?? DEFAULT_RETENTION_DAYS,
  );
  if (confirmationWriters > 0) log.info("confirmations_repaired", { accounts: confirmationWriters });
  report.swept = await sweep(
    env.DB,
    now,
    deps.retentionDays ?? DEFAULT_RETENTION_DAYS,
    limits.sweepBatch,
    Math.max(limits.sweepMinMs, limits.budgetMs - (Date.now() - started)),
  );
  if (report.accounts > 0 || report.kvRepaired > 0 || Object.values(report.swept).some((n) => n > 0))
    log.info("trigger_cron", {
      ...report,
      swept: undefined,
      sweptDeadlines: report.swept.deadlines,
      sweptEvents: report.swept.events,
      sweptMessages: report.swept.messages,
      durationMs: Date.now() - started,
    });
  return report;
}

/**
 * The accounts with pending deadlines due at `now`, earliest due first: a skip scan over
 * trigger_deadlines_pending_account_due_idx, one index seek per account with pending deadlines,
 * never a walk of the rows.
 */
async function accountsWithDueDeadlines(d1: D1Database, nowIso: string): Promise<string[]> {
  const { results } = await d1
    .prepare(
      `WITH RECURSIVE pending(accountId) AS (
        SELECT MIN(account_id) FROM trigger_deadlines WHERE status = 'pending'
        UNION ALL
        SELECT (SELECT MIN(account_id) FROM trigger_deadlines WHERE status = 'pending' AND account_id > pending.accountId)
        FROM pending WHERE pending.accountId IS NOT NULL
      )
      SELECT accountId FROM (
        SELECT accountId, (SELECT MIN(due_at) FROM trigger_deadlines
          WHERE status = 'pending' AND account_id = pending.accountId) AS firstDueAt
        FROM pending WHERE accountId IS NOT NULL
      ) WHERE firstDueAt <= ?1 ORDER BY firstDueAt`,
    )
    .bind(nowIso)
    .all<{ accountId: string }>();
  return results.map((r) => r.accountId);
}

async function repairKvDebts(env: CronDeps["env"], now: Date): Promise<number> {
  const { results } = await env.DB.prepare(
    "SELECT DISTINCT account_id AS accountId FROM kv_outbox WHERE created_at <= ?1 LIMIT 100",
  )
    .bind(new Date(now.getTime() - KV_DEBT_AGE_MS).toISOString())
    .all<{ accountId: string }>();
  const paid = await eachLimited(results, 16, async ({ accountId }) => {
    try {
      return await writerOf(env, accountId).repairKv(accountId);
    } catch (err) {
      log.error("kv_repair_failed", { accountId, error: errorName(err) });
      return 0;
    }
  });
  return paid.reduce((a, b) => a + b, 0);
}

/**
 * Deletes, oldest first, rows that outlived the retention period: batches of `batch` per table,
 * repeated while a table has more and `budgetMs` lasts. A campaign day can write tens of millions
 * of event rows; a fixed batch per run could never keep up (60 × 5,000 is 300,000 an hour).
 */
async function sweep(d1: D1Database, now: Date, retentionDays: number, batch: number, budgetMs: number) {
  const started = Date.now();
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const swept = { deadlines: 0, events: 0, messages: 0, receipts: 0 };
  const statements = {
    deadlines: d1
      .prepare(
        `DELETE FROM trigger_deadlines WHERE id IN (SELECT id FROM trigger_deadlines
          WHERE settled_at IS NOT NULL AND settled_at < ?1 ORDER BY settled_at LIMIT ?2)`,
      )
      .bind(cutoff, batch),
    events: d1
      .prepare(
        `DELETE FROM message_events WHERE id IN (SELECT id FROM message_events
          WHERE recorded_at < ?1 ORDER BY recorded_at LIMIT ?2)`,
      )
      .bind(cutoff, batch),
    // Every deadline of a message this old fell due long ago (events are taken from 31 days back,
    // rules wait at most 30): the retention period (at least 62 days) outlives them all.
    messages: d1
      .prepare(
        `DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages
          WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)`,
      )
      .bind(cutoff, batch),
    // Provider event receipts outlive every provider's redelivery by weeks.
    receipts: d1
      .prepare(
        `DELETE FROM provider_event_receipts WHERE rowid IN (SELECT rowid FROM provider_event_receipts
          WHERE recorded_at < ?1 ORDER BY recorded_at LIMIT ?2)`,
      )
      .bind(cutoff, batch),
  };
  let left = Object.keys(statements) as (keyof typeof statements)[];
  while (left.length > 0) {
    const results = await d1.batch<Record<string, unknown>>(left.map((table) => statements[table]));
    const deleted = results.map((r) => r.meta.changes ?? 0);
    left.forEach((table, i) => {
      swept[table] += deleted[i]!;
    });
    left = left.filter((_, i) => deleted[i] === batch);
    if (Date.now() - started >= budgetMs) break;
  }
  return swept;
}

/** The Worker's `scheduled` handler: the Cron Trigger, or `/__scheduled` under `wrangler dev --test-scheduled`. */
export async function handleScheduled(controller: ScheduledController, env: Env): Promise<CronReport> {
  // The scheduled time is the clock: tests (and `/__scheduled?time=`) move it.
  const { RETENTION_DAYS } = readConfig(env);
  return runTriggerCron({ env, retentionDays: RETENTION_DAYS }, new Date(controller.scheduledTime));
}
