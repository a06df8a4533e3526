/**
 * The Cron Trigger's work: settle `not_opened` deadlines that fell due (docs/adr/0006).
 *
 * A run works in bounded batches so it stays inside one invocation's limits (1000 D1 queries,
 * 1000 KV operations — one per address a firing blocks — and its wall-clock time):
 *  1. Take back claims whose run died (lease expired): they become pending again.
 *  2. Claim up to `batchSize` due pending deadlines, a fair share from each account that has
 *     some (so one account's backlog never starves another's), each share in one atomic
 *     UPDATE ... RETURNING: two overlapping runs never claim the same row.
 *  3. Read the claimed deadlines' rules, messages, events and earlier firings in one read batch;
 *     decide each with core `settleDeadline` (the clock is the run's scheduled time).
 *  4. Write the firings' ledger events, the firing rows and every deadline's final status in ONE
 *     batch (the ledger append's). A firing row per (rule, message) is the primary key: a deadline
 *     taken over after a crash finds it and is settled without firing again.
 * It stops after `maxBatches`, after `budgetMs`, or when nothing more is due; the next minute's
 * run continues.
 */
import {
  type AccountDue,
  type DeadlineDecision,
  type MessageEventType,
  OPENING_EVENTS,
  settleDeadline,
  shareDeadlineClaims,
  type TriggerEvent,
} from "@optout/core";
import type { Db } from "../db/client.ts";
import { rowsOf } from "../db/json-rows.ts";
import { appendChanges } from "../ledger/append.ts";
import { errorName, log } from "../lib/log.ts";
import { type Firing, firingChange, firingStatements } from "./firing.ts";
import { RULE_COLUMNS, ruleFromRow } from "./rules.ts";

export interface CronLimits {
  /** Deadlines claimed per batch; each firing costs one KV write, so batches × size stays < 1000. */
  batchSize: number;
  maxBatches: number;
  /** No new batch starts after this much wall-clock time. */
  budgetMs: number;
  /** A claim not settled within this time is taken over by a later run. */
  leaseMs: number;
}

export const CRON_LIMITS: CronLimits = {
  batchSize: 250,
  maxBatches: 3,
  budgetMs: 20_000,
  leaseMs: 5 * 60_000,
};

export interface CronReport {
  /** Claims of dead runs made pending again. */
  released: number;
  claimed: number;
  fired: number;
  cancelled: number;
  skipped: number;
  batches: number;
  /** The last batch was full: more may be due than this run settled. */
  more: boolean;
}

export interface CronDeps {
  db: Db;
  kv: KVNamespace;
}

interface ClaimedDeadline {
  id: number;
  accountId: string;
  ruleId: string;
  messageId: string;
  dueAt: string;
}

export async function runTriggerCron(
  deps: CronDeps,
  now: Date,
  limits: CronLimits = CRON_LIMITS,
): Promise<CronReport> {
  const started = Date.now();
  const d1 = deps.db.$client;
  const nowIso = now.toISOString();
  const report: CronReport = {
    released: 0,
    claimed: 0,
    fired: 0,
    cancelled: 0,
    skipped: 0,
    batches: 0,
    more: false,
  };

  const released = await d1
    .prepare(
      `UPDATE trigger_deadlines SET status = 'pending', claim_id = NULL, claimed_until = NULL
      WHERE status = 'claimed' AND claimed_until <= ?1`,
    )
    .bind(nowIso)
    .run();
  report.released = released.meta.changes ?? 0;
  if (report.released > 0) log.warn("trigger_claims_taken_over", { deadlines: report.released });

  while (report.batches < limits.maxBatches && Date.now() - started < limits.budgetMs) {
    const claimId = crypto.randomUUID();
    const { claimed, more } = await claimDue(d1, claimId, now, limits);
    report.batches++;
    report.claimed += claimed.length;
    report.more = more;
    if (claimed.length === 0) break;
    try {
      const settled = await settleBatch(deps, claimId, claimed, now);
      report.fired += settled.fired;
      report.cancelled += settled.cancelled;
      report.skipped += settled.skipped;
    } catch (err) {
      // Give the batch back at once rather than after the lease; the next run retries it.
      await d1
        .prepare(
          "UPDATE trigger_deadlines SET status = 'pending', claim_id = NULL, claimed_until = NULL WHERE claim_id = ?1",
        )
        .bind(claimId)
        .run();
      log.error("trigger_cron_batch_failed", { deadlines: claimed.length, error: errorName(err) });
      throw err;
    }
    if (!report.more) break;
  }
  if (report.claimed > 0 || report.released > 0)
    log.info("trigger_cron", { ...report, durationMs: Date.now() - started });
  return report;
}

/**
 * Claims a fair share of due deadlines from every account that has some (core
 * `shareDeadlineClaims`): one account's backlog never pushes another's due deadline out of the
 * run. Each account's share is one atomic UPDATE ... RETURNING; SQLite runs each atomically, so
 * overlapping runs never claim the same row. `more`: some account may have more due.
 */
async function claimDue(
  d1: D1Database,
  claimId: string,
  now: Date,
  limits: CronLimits,
): Promise<{ claimed: ClaimedDeadline[]; more: boolean }> {
  const nowIso = now.toISOString();
  // A skip scan over trigger_deadlines_pending_account_due_idx: one index seek per account with
  // pending deadlines (for the next account id, then its earliest due), never a walk of the rows.
  const { results: accounts } = await d1
    .prepare(
      `WITH RECURSIVE pending(accountId) AS (
        SELECT MIN(account_id) FROM trigger_deadlines WHERE status = 'pending'
        UNION ALL
        SELECT (SELECT MIN(account_id) FROM trigger_deadlines WHERE status = 'pending' AND account_id > pending.accountId)
        FROM pending WHERE pending.accountId IS NOT NULL
      )
      SELECT accountId, firstDueAt FROM (
        SELECT accountId, (SELECT MIN(due_at) FROM trigger_deadlines
          WHERE status = 'pending' AND account_id = pending.accountId) AS firstDueAt
        FROM pending WHERE accountId IS NOT NULL
      ) WHERE firstDueAt <= ?1`,
    )
    .bind(nowIso)
    .all<AccountDue>();
  const shares = shareDeadlineClaims(accounts, limits.batchSize);
  if (shares.length === 0) return { claimed: [], more: false };
  const claimedUntil = new Date(now.getTime() + limits.leaseMs).toISOString();
  const results = await d1.batch<ClaimedDeadline>(
    shares.map(({ accountId, limit }) =>
      d1
        .prepare(
          `UPDATE trigger_deadlines SET status = 'claimed', claim_id = ?1, claimed_until = ?2
          WHERE id IN (SELECT id FROM trigger_deadlines
            WHERE status = 'pending' AND account_id = ?3 AND due_at <= ?4 ORDER BY due_at LIMIT ?5)
          RETURNING id, account_id AS accountId, rule_id AS ruleId, message_id AS messageId, due_at AS dueAt`,
        )
        .bind(claimId, claimedUntil, accountId, nowIso, limit),
    ),
  );
  const claimed = results.flatMap((r) => r.results);
  const more =
    accounts.length > shares.length || results.some((r, i) => r.results.length === shares[i]!.limit);
  return { claimed, more };
}

type Settlement = { status: "fired" | "cancelled" | "skipped"; reason: string | null };

async function settleBatch(deps: CronDeps, claimId: string, claimed: readonly ClaimedDeadline[], now: Date) {
  const d1 = deps.db.$client;
  const pairs = (f: (d: ClaimedDeadline) => [string, string]) => JSON.stringify(claimed.map(f));
  const [ruleRows, messageRows, eventRows, firingRows] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare(`SELECT ${RULE_COLUMNS} FROM trigger_rules r WHERE r.id IN (SELECT value FROM json_each(?1))`)
      .bind(JSON.stringify([...new Set(claimed.map((d) => d.ruleId))])),
    d1
      .prepare(
        `SELECT m.account_id AS accountId, m.message_id AS messageId, m.address, m.sender, m.channel, m.campaign
        FROM (SELECT DISTINCT value AS pair FROM json_each(?1)) j
        JOIN messages m ON m.account_id = json_extract(j.pair, '$[0]') AND m.message_id = json_extract(j.pair, '$[1]')`,
      )
      .bind(pairs((d) => [d.accountId, d.messageId])),
    d1
      .prepare(
        `SELECT e.account_id AS accountId, e.message_id AS messageId, e.type AS type, e.occurred_at AS occurredAt, e.origin AS origin
        FROM (SELECT DISTINCT value AS pair FROM json_each(?1)) j
        JOIN message_events e ON e.account_id = json_extract(j.pair, '$[0]')
          AND e.message_id = json_extract(j.pair, '$[1]')
        WHERE e.type IN ('sent', 'delivered', 'opened', 'clicked')`,
      )
      .bind(pairs((d) => [d.accountId, d.messageId])),
    d1
      .prepare(
        `SELECT f.rule_id AS ruleId, f.message_id AS messageId FROM json_each(?1) j
        JOIN trigger_firings f ON f.rule_id = json_extract(j.value, '$[0]') AND f.message_id = json_extract(j.value, '$[1]')`,
      )
      .bind(pairs((d) => [d.ruleId, d.messageId])),
  ]);
  const rules = new Map(
    rowsOf<Parameters<typeof ruleFromRow>[0]>(ruleRows).map((r) => [r.id, ruleFromRow(r)]),
  );
  // Message ids are per account: every map of messages or events is keyed by both.
  const messageKey = (m: { accountId: string; messageId: string }) =>
    JSON.stringify([m.accountId, m.messageId]);
  const messages = new Map(
    rowsOf<{
      accountId: string;
      messageId: string;
      address: string;
      sender: string | null;
      channel: TriggerEvent["channel"];
      campaign: string | null;
    }>(messageRows).map((m) => [messageKey(m), m]),
  );
  const events = new Map<
    string,
    Map<MessageEventType, { occurredAt: string; origin: TriggerEvent["origin"] }>
  >();
  for (const e of rowsOf<{
    accountId: string;
    messageId: string;
    type: MessageEventType;
    occurredAt: string;
    origin: TriggerEvent["origin"];
  }>(eventRows)) {
    const byType = events.get(messageKey(e)) ?? new Map();
    byType.set(e.type, e);
    events.set(messageKey(e), byType);
  }
  const alreadyFired = new Set(
    rowsOf<{ ruleId: string; messageId: string }>(firingRows).map((f) =>
      JSON.stringify([f.ruleId, f.messageId]),
    ),
  );

  const settlements = new Map<number, Settlement>();
  const firings: Firing[] = [];
  const firingDeadlines: number[] = [];
  const release: number[] = [];
  for (const deadline of claimed) {
    if (alreadyFired.has(JSON.stringify([deadline.ruleId, deadline.messageId]))) {
      settlements.set(deadline.id, { status: "fired", reason: "already_fired" });
      continue;
    }
    const rule = rules.get(deadline.ruleId) ?? null;
    const byType = events.get(messageKey(deadline));
    const decision: DeadlineDecision = settleDeadline(
      { dueAt: deadline.dueAt, rule, firstOpen: firstOpen(byType) },
      now,
    );
    switch (decision.action) {
      case "wait":
        release.push(deadline.id);
        break;
      case "skip":
        settlements.set(deadline.id, { status: "skipped", reason: decision.reason });
        break;
      case "cancel":
        settlements.set(deadline.id, { status: "cancelled", reason: decision.reason });
        break;
      case "fire": {
        const message = messages.get(messageKey(deadline));
        const after = rule?.on.type === "not_opened" ? byType?.get(rule.on.after) : undefined;
        if (!rule || !message || !after || rule.on.type !== "not_opened") {
          // Cannot happen while deadlines are only written with their message and event.
          settlements.set(deadline.id, { status: "skipped", reason: "event_missing" });
          break;
        }
        firings.push({
          rule,
          messageId: deadline.messageId,
          address: message.address,
          dueAt: deadline.dueAt,
          event: {
            type: rule.on.after,
            messageId: deadline.messageId,
            address: message.address,
            sender: message.sender,
            channel: message.channel,
            occurredAt: after.occurredAt,
            campaign: message.campaign,
            origin: after.origin,
          },
        });
        firingDeadlines.push(deadline.id);
        break;
      }
    }
  }

  const settledAt = now.toISOString();
  const statusWrites = (fired: readonly number[]) => {
    const all = new Map(settlements);
    for (const id of fired) all.set(id, { status: "fired", reason: null });
    return settleStatements(deps.db.$client, claimId, all, release, settledAt);
  };
  if (firings.length > 0) {
    await appendChanges({ db: deps.db, kv: deps.kv, now: () => now }, firings.map(firingChange), {
      alsoWrite: (db, planned) => [
        ...firingStatements(db, firings, planned, settledAt),
        ...statusWrites(firingDeadlines),
      ],
    });
  } else {
    await d1.batch(statusWrites([]));
  }
  let cancelled = 0;
  let skipped = 0;
  for (const s of settlements.values()) {
    if (s.status === "cancelled") cancelled++;
    if (s.status === "skipped") skipped++;
  }
  return { fired: firings.length, cancelled, skipped };
}

/** The earliest `opened` or `clicked` of the message, if any. */
function firstOpen(byType: Map<MessageEventType, { occurredAt: string }> | undefined) {
  let first: { type: "opened" | "clicked"; occurredAt: string } | null = null;
  for (const type of OPENING_EVENTS) {
    const e = byType?.get(type);
    if (e && (first === null || e.occurredAt < first.occurredAt)) first = { type, occurredAt: e.occurredAt };
  }
  return first;
}

/** One UPDATE per (status, reason), each only for rows this run still holds (its claim id). */
function settleStatements(
  d1: D1Database,
  claimId: string,
  settlements: ReadonlyMap<number, Settlement>,
  release: readonly number[],
  settledAt: string,
): D1PreparedStatement[] {
  const groups = new Map<string, number[]>();
  for (const [id, s] of settlements) {
    const key = JSON.stringify([s.status, s.reason]);
    groups.set(key, [...(groups.get(key) ?? []), id]);
  }
  const statements = [...groups].map(([key, ids]) => {
    const [status, reason] = JSON.parse(key) as [string, string | null];
    return d1
      .prepare(
        `UPDATE trigger_deadlines SET status = ?1, settled_reason = ?2, settled_at = ?3, claim_id = NULL,
          claimed_until = NULL
        WHERE id IN (SELECT value FROM json_each(?4)) AND claim_id = ?5`,
      )
      .bind(status, reason, settledAt, JSON.stringify(ids), claimId);
  });
  if (release.length > 0) {
    statements.push(
      d1
        .prepare(
          `UPDATE trigger_deadlines SET status = 'pending', claim_id = NULL, claimed_until = NULL
          WHERE id IN (SELECT value FROM json_each(?1)) AND claim_id = ?2`,
        )
        .bind(JSON.stringify(release), claimId),
    );
  }
  return statements;
}

/** The Worker's `scheduled` handler: the Cron Trigger, or `/__scheduled` under `wrangler dev --test-scheduled`. */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  db: Db,
): Promise<CronReport> {
  // The scheduled time is the clock: tests (and `/__scheduled?time=`) move it.
  return runTriggerCron({ db, kv: env.KV }, new Date(controller.scheduledTime));
}
