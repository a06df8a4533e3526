/**
 * `LedgerWriter`: the single writer of one account's chain (a Durable Object per account, named
 * by the account id). Every state change of the account reaches it as a `WriteOp`; the ops that
 * arrive while a commit is in flight are planned together and written as the next D1 batch
 * (group commit), and each caller is answered when its batch has committed. Nothing races: the
 * chain head and the entries are the writer's own, and feed positions are assigned by D1 inside
 * the committing transaction. See docs/adr/0010.
 */
import { DurableObject } from "cloudflare:workers";
import { rowsOf } from "../db/json-rows.ts";
import { errorName, log, safeErrorText } from "../lib/log.ts";
import { RULE_COLUMNS, ruleFromRow } from "../triggers/rules.ts";
import { ConfirmationSender } from "./confirmation-sender.ts";
import type { Committed } from "./group.ts";
import { GroupPlan } from "./group.ts";
import { AccountKnowledge, activeOf, type Needs, noNeeds } from "./knowledge.ts";
import { KvFlusher } from "./kv-flush.ts";
import type { DueDeadline, WriteAnswer, WriteOp } from "./ops.ts";
import { type Planned, planOp, prefetchOf } from "./plan-ops.ts";

interface Queued {
  op: WriteOp;
  resolve: (answer: WriteAnswer) => void;
}

/** Deadlines settled per batch: a read and a commit each. */
export const SETTLE_BATCH = 500;

export interface SettleReport {
  fired: number;
  cancelled: number;
  skipped: number;
  batches: number;
  /** The last batch was full: more may be due. */
  more: boolean;
}

/** How much one group may carry (ledger changes, events and messages, roughly): D1's batch size. */
export const MAX_GROUP_WEIGHT = 2000;
/** Plans after which a guard that keeps failing is not an assumption but a fault. */
const MAX_ATTEMPTS = 3;
/** The alarm that pays KV debts a crash left behind. */
const KV_BACKSTOP_MS = 20_000;
/** The alarm that continues KV writes an event's budget cut short. */
const KV_CONTINUE_MS = 100;
/**
 * KV keys an import may leave owed before its next rows are answered: an import goes no faster
 * than KV takes its writes, so the writer's memory stays bounded and KV stays seconds behind.
 */
export const IMPORT_KV_BACKLOG = 4000;

function weightOf(op: WriteOp): number {
  switch (op.kind) {
    case "changes":
      return op.items.length;
    case "inbound":
      return op.messages.length * 3;
    case "review":
      return 3;
    case "link_opt_out":
    case "link_undo":
      return 2;
    case "events":
      return op.events.length * 2;
    case "provider_events":
      return (op.events.length + op.optOuts.length) * 2 + 1;
    case "settle":
      return op.deadlines.length * 2;
    case "import":
      return op.chunk.items.length + 1;
  }
}

/** A failure the writer caused by relying on something that was not so: plan again from a read. */
export function isAssumptionFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (
      /writer_assumption_failed|UNIQUE constraint failed|PRIMARY KEY|inbound_messages_recorded_once/i.test(
        e.message,
      )
    )
      return true;
  }
  return false;
}

export class LedgerWriter extends DurableObject<Env> {
  private knowledge: AccountKnowledge | undefined;
  private readonly queue: Queued[] = [];
  private running = false;
  private readonly kv: KvFlusher;
  /** Confirmations owed through send APIs, sent after their commits (confirmation-sender.ts). */
  private readonly confirmations: ConfirmationSender;
  /** When the alarm is set to ring (ms), as far as this instance knows; null when none. */
  private alarmAt: number | null = null;
  private settling: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Out of KV budget for this event: the next event (a request, or this alarm) continues.
    this.kv = new KvFlusher(env.KV, () => void this.armAlarm(KV_CONTINUE_MS));
    this.confirmations = new ConfirmationSender(
      env,
      () => this.knowledge?.accountId,
      (delayMs) => this.armAlarm(delayMs),
    );
  }

  /** Commits one op with whatever else arrives meanwhile; answers once it is in D1. */
  async commit(accountId: string, op: WriteOp): Promise<WriteAnswer> {
    await this.know(accountId);
    this.kv.freshBudget();
    const answer = await this.enqueue(op);
    if (op.kind === "import") await this.kvBelow(IMPORT_KV_BACKLOG);
    return answer;
  }

  /** Waits until at most `max` KV keys are owed (the flush and its alarms make the progress). */
  private async kvBelow(max: number): Promise<void> {
    while (this.kv.pending > max) {
      void this.kv.flush();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private enqueue(op: WriteOp): Promise<WriteAnswer> {
    return new Promise<WriteAnswer>((resolve) => {
      this.queue.push({ op, resolve });
      void this.pump();
    });
  }

  /**
   * Settles the account's `not_opened` deadlines due at `now`, up to `maxBatches` batches of
   * SETTLE_BATCH, through the same queue as every other change (so they never race one).
   * `more`: the last batch was full.
   */
  async settleDue(accountId: string, now: string, maxBatches: number): Promise<SettleReport> {
    await this.know(accountId);
    this.kv.freshBudget();
    // One settlement at a time: two overlapping cron runs would read the same due deadlines.
    const turn = this.settling.then(() => this.settleBatches(now, maxBatches));
    this.settling = turn.catch(() => undefined);
    return turn;
  }

  private async settleBatches(now: string, maxBatches: number): Promise<SettleReport> {
    const report: SettleReport = { fired: 0, cancelled: 0, skipped: 0, batches: 0, more: false };
    for (let batch = 0; batch < maxBatches; batch++) {
      const due = await this.readDue(now);
      if (due.deadlines.length === 0) {
        report.more = false;
        break;
      }
      const answer = await this.enqueue({ kind: "settle", now, ...due });
      if (!answer.ok)
        throw new Error(`settling failed: ${"failed" in answer ? answer.failed : answer.refusal.message}`);
      if (answer.result.kind === "settle") {
        report.fired += answer.result.fired;
        report.cancelled += answer.result.cancelled;
        report.skipped += answer.result.skipped;
      }
      report.batches++;
      report.more = due.deadlines.length === SETTLE_BATCH;
      if (!report.more) break;
    }
    return report;
  }

  /** The account's earliest due deadlines with their rules (deleted ones too) and earlier firings. */
  private async readDue(now: string): Promise<{ rulesVersion: number; deadlines: DueDeadline[] }> {
    const d1 = this.env.DB;
    const accountId = this.knowledge!.accountId;
    // Walks trigger_deadlines_pending_account_due_idx: this account's pending rows in due order.
    const [version, rows] = await d1.batch<Record<string, unknown>>([
      d1.prepare("SELECT trigger_rules_version AS version FROM accounts WHERE id = ?1").bind(accountId),
      d1
        .prepare(
          `SELECT d.id AS deadlineId, d.rule_id AS deadlineRuleId, d.message_id AS messageId, d.due_at AS dueAt,
            f.rule_id IS NOT NULL AS alreadyFired, ${RULE_COLUMNS}
          FROM (SELECT * FROM trigger_deadlines WHERE status = 'pending' AND account_id = ?1 AND due_at <= ?2
            ORDER BY due_at LIMIT ?3) d
          LEFT JOIN trigger_rules r ON r.id = d.rule_id
          LEFT JOIN trigger_firings f ON f.rule_id = d.rule_id AND f.message_id = d.message_id`,
        )
        .bind(accountId, now, SETTLE_BATCH),
    ]);
    const deadlines = rowsOf<
      {
        deadlineId: number;
        deadlineRuleId: string;
        messageId: string;
        dueAt: string;
        alreadyFired: number;
      } & Parameters<typeof ruleFromRow>[0]
    >(rows).map((row) => ({
      id: row.deadlineId,
      ruleId: row.deadlineRuleId,
      messageId: row.messageId,
      dueAt: row.dueAt,
      rule: row.id ? ruleFromRow(row) : null,
      alreadyFired: Boolean(row.alreadyFired),
    }));
    return { rulesVersion: rowsOf<{ version: number }>(version)[0]?.version ?? 0, deadlines };
  }

  /** Resolves once every KV write owed by commits made so far has been made. */
  /** Sends the account's due confirmations (the cron's backstop; the alarm does it too). */
  async deliverConfirmations(accountId: string): Promise<void> {
    await this.know(accountId);
    await this.confirmations.deliver();
  }

  /** Resolves once the commits so far are in and no confirmation is being sent (for tests). */
  async confirmationsSettled(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.confirmations.settled();
  }

  async kvSettled(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.kv.flush();
  }

  /** Pays KV debts left in kv_outbox (by a crash, or puts KV refused), from D1. */
  async repairKv(accountId: string): Promise<number> {
    await this.know(accountId);
    this.kv.freshBudget();
    return this.payOutbox(0);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const accountId = await this.ctx.storage.get<string>("accountId");
    if (!accountId) return;
    await this.know(accountId);
    this.kv.freshBudget();
    // KV writes an earlier event's budget cut short continue here.
    if (this.kv.pending > 0) await this.kv.flush();
    // Rows younger than this are the in-flight flush's own: leave them to it.
    await this.payOutbox(KV_BACKSTOP_MS / 2);
    // Confirmations a crash left unsent, and retries that were waiting for this alarm.
    await this.confirmations.deliver();
    if (this.kv.pending > 0) await this.armAlarm(KV_CONTINUE_MS);
  }

  /** Sets the alarm to ring in `delayMs` unless it already rings sooner. */
  private async armAlarm(delayMs: number): Promise<void> {
    const at = Date.now() + delayMs;
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private async know(accountId: string): Promise<void> {
    if (this.knowledge) {
      if (this.knowledge.accountId !== accountId) throw new Error("one writer serves one account");
      return;
    }
    this.knowledge = new AccountKnowledge(accountId);
    // Remembered for the alarm, which has no caller to say which account this is.
    await this.ctx.storage.put("accountId", accountId);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        let weight = 0;
        let take = 0;
        while (
          take < this.queue.length &&
          (take === 0 || weight + weightOf(this.queue[take]!.op) <= MAX_GROUP_WEIGHT)
        ) {
          weight += weightOf(this.queue[take]!.op);
          take++;
        }
        await this.commitGroup(this.queue.splice(0, take));
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Plans and writes one group. A failed guard means the writer relied on something someone else
   * changed: it forgets what the plan touched, reads it, and plans again. Any other failure splits
   * the group, so one op that cannot commit fails alone.
   */
  private async commitGroup(group: Queued[]): Promise<void> {
    try {
      const answers = await this.tryGroup(group.map((q) => q.op));
      for (const [i, q] of group.entries()) q.resolve(answers[i]!);
    } catch (err) {
      if (group.length > 1) {
        const half = Math.ceil(group.length / 2);
        await this.commitGroup(group.slice(0, half));
        await this.commitGroup(group.slice(half));
        return;
      }
      // Driver messages can quote bound values: logged redacted (no addresses, no message text).
      log.error("writer_commit_failed", { accountId: this.knowledge?.accountId, error: safeErrorText(err) });
      group[0]!.resolve({ ok: false, failed: errorName(err) });
    }
  }

  private async tryGroup(ops: readonly WriteOp[]): Promise<WriteAnswer[]> {
    const knowledge = this.knowledge!;
    const d1 = this.env.DB;
    let reread: Needs | undefined;
    for (let attempt = 1; ; attempt++) {
      await knowledge.read(d1, this.prefetch(ops, reread));
      const g = new GroupPlan(knowledge, new Date());
      const planned: Planned[] = [];
      for (const op of ops) planned.push(await planOp(g, op));
      const batch = g.build(d1, this.kv.takePaid());
      // Armed before the commit: if this object dies between the commit and the KV writes, the
      // alarm wakes it to pay them from kv_outbox.
      if (batch.statements.length > 0) await this.armAlarm(KV_BACKSTOP_MS);
      let results: D1Result<Record<string, unknown>>[] = [];
      try {
        if (batch.statements.length > 0) results = await d1.batch(batch.statements);
      } catch (err) {
        if (!isAssumptionFailure(err) || attempt >= MAX_ATTEMPTS) throw err;
        log.info("writer_replanned", { accountId: knowledge.accountId, attempt });
        knowledge.forget(g.touched);
        reread = g.touched;
        continue;
      }
      const committed = g.settle(batch.seqs(results));
      this.owe(batch.outbox(results), committed);
      // Sent after the commit, outside the caller's request: the webhook is answered meanwhile.
      if (g.confirmationsOwed > 0) this.ctx.waitUntil(this.confirmations.deliver());
      return planned.map((p) => (p.ok ? p.finish(committed) : { ok: false, refusal: p.refusal }));
    }
  }

  /** What must be read before planning: what is unknown and may not be assumed, and after a failed guard, everything the failed plan touched. */
  private prefetch(ops: readonly WriteOp[], reread: Needs | undefined): Needs {
    const k = this.knowledge!;
    const needs = reread ?? noNeeds();
    if (!k.head) needs.head = true;
    for (const op of ops) {
      const want = prefetchOf(op);
      if (want.rules && !k.rules) needs.rules = true;
      for (const id of want.messages ?? []) if (!k.messages.has(id)) needs.messages.add(id);
      for (const a of want.addresses ?? []) if (!k.addresses.has(a)) needs.addresses.add(a);
    }
    return needs;
  }

  private owe(rows: { id: number; kind: "entries" | "link"; subject: string }[], committed: Committed): void {
    const accountId = this.knowledge!.accountId;
    for (const row of rows) {
      if (row.kind === "entries")
        this.kv.owe(accountId, row.subject, activeOf(committed.entriesAfter(row.subject)), [row.id]);
      else this.kv.oweLink(row.subject, [row.id]);
    }
    if (rows.length > 0) this.ctx.waitUntil(this.payAfterFlush());
  }

  /** Flushes, then deletes the paid outbox rows if no commit comes along to carry the delete. */
  private async payAfterFlush(): Promise<void> {
    await this.kv.flush();
    await new Promise((r) => setTimeout(r, 1000));
    if (this.running || this.queue.length > 0) return;
    const paid = this.kv.takePaid();
    if (paid.length === 0) return;
    try {
      await this.env.DB.prepare("DELETE FROM kv_outbox WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(paid))
        .run();
    } catch (err) {
      log.warn("kv_outbox_delete_failed", { error: errorName(err) });
    }
  }

  /**
   * Pays the account's kv_outbox rows older than `minAgeMs` from D1's truth (a crash forgot what
   * the writer owed; KV refused puts for too long). Returns how many rows it paid.
   */
  private async payOutbox(minAgeMs: number): Promise<number> {
    const knowledge = this.knowledge!;
    const d1 = this.env.DB;
    const before = new Date(Date.now() - minAgeMs).toISOString();
    const { results: rows } = await d1
      .prepare(
        `SELECT id, kind, subject FROM kv_outbox WHERE account_id = ?1 AND created_at <= ?2 ORDER BY id LIMIT 1000`,
      )
      .bind(knowledge.accountId, before)
      .all<{ id: number; kind: "entries" | "link"; subject: string }>();
    if (rows.length === 0) return 0;
    const addresses = new Set(rows.filter((r) => r.kind === "entries").map((r) => r.subject));
    await knowledge.read(d1, { ...noNeeds(), addresses });
    for (const row of rows) {
      if (row.kind === "entries")
        this.kv.owe(knowledge.accountId, row.subject, activeOf(knowledge.addresses.get(row.subject)), [
          row.id,
        ]);
      else this.kv.oweLink(row.subject, [row.id]);
    }
    await this.kv.flush();
    const paid = this.kv.takePaid();
    if (paid.length > 0) {
      await d1
        .prepare("DELETE FROM kv_outbox WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(paid))
        .run();
    }
    log.info("kv_outbox_repaired", { accountId: knowledge.accountId, rows: rows.length });
    // More owed than one read takes: the alarm comes back for the rest.
    if (rows.length === 1000) await this.armAlarm(1000);
    return paid.length;
  }
}
