/**
 * The cron at volume: 10,000 due deadlines settled by their account's writer in bounded batches,
 * with runs overlapping, and none fired twice; one account's backlog never starving another's.
 * Plus the query plans that keep a million pending deadlines off every request path.
 */

import { env } from "cloudflare:workers";
import { verifyChain } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import { createAccount, type TestAccount } from "../../test/helpers.ts";
import { at, createRule, runCron, SECOND, T0 } from "../../test/triggers.ts";
import { eventFromRow } from "../db/rows.ts";
import type { LedgerEventRow } from "../db/schema/index.ts";
import { SETTLE_BATCH } from "../writer/ledger-writer.ts";
import { CRON_LIMITS, type CronReport, runTriggerCron } from "./cron.ts";

const COUNT = 10_000;

describe("draining 10,000 due deadlines", () => {
  let account: TestAccount;
  let ruleId: string;

  beforeAll(async () => {
    account = await createAccount();
    ruleId = (await createRule(account, { name: "ghosted", on: { type: "not_opened", withinSeconds: 60 } }))
      .id;
    // Seeded in SQL, one statement per table: 10,000 messages sent at T0 + i ms, each with its
    // sent event and its pending deadline 60 s later (what POST /v1/events would have written).
    const seq = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${COUNT - 1})`;
    const sentAt = `strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0 + i / 1000.0, 'unixepoch')`;
    const dueAt = `strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0 + 60 + i / 1000.0, 'unixepoch')`;
    const addr = `'+1415555' || printf('%04d', i)`;
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO messages (message_id, account_id, address, sender, channel, campaign, created_at)
        ${seq} SELECT 'bulk-' || i, ?1, ${addr}, 'ACME', 'sms', NULL, ${sentAt} FROM n`,
      ).bind(account.id, T0),
      env.DB.prepare(
        `INSERT INTO message_events (account_id, message_id, type, occurred_at, recorded_at, origin)
        ${seq} SELECT ?1, 'bulk-' || i, 'sent', ${sentAt}, ${sentAt}, 'api' FROM n`,
      ).bind(account.id, T0),
      env.DB.prepare(
        `INSERT INTO trigger_deadlines (account_id, rule_id, message_id, due_at, status, created_at)
        ${seq} SELECT ?1, ?3, 'bulk-' || i, ${dueAt}, 'pending', ${sentAt} FROM n`,
      ).bind(account.id, T0, ruleId),
    ]);
    // A few opened in time: those must be cancelled, not fired.
    await env.DB.prepare(
      `INSERT INTO message_events (account_id, message_id, type, occurred_at, recorded_at, origin)
      SELECT ?1, 'bulk-' || value, 'opened', ?2, ?2, 'api' FROM json_each(?3)`,
    )
      .bind(account.id, at(30 * SECOND), JSON.stringify([0, 1, 2, 4999, 9999]))
      .run();
  });

  it("settles every deadline once, in bounded batches, even with runs overlapping", async () => {
    const { n: pending } = (await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM trigger_deadlines WHERE status = 'pending' AND message_id LIKE 'bulk-%'",
    ).first<{ n: number }>())!;
    expect(pending).toBe(COUNT);

    const deps = { env };
    // Nothing is due yet a minute before the first deadline.
    expect((await runTriggerCron(deps, new Date(T0))).fired).toBe(0);

    // Small rounds, so the backlog takes several runs, and two runs at once (a slow run
    // overlapping the next minute's): their writer serializes them, nothing is settled twice.
    const limits = { ...CRON_LIMITS, batchesPerRound: 2, budgetMs: 0 };
    const reports: CronReport[] = [];
    const now = new Date(T0 + 120 * SECOND);
    for (let round = 0; round < 20; round++) {
      const pair = await Promise.all([runTriggerCron(deps, now, limits), runTriggerCron(deps, now, limits)]);
      reports.push(...pair);
      if (pair.every((r) => r.fired + r.cancelled === 0)) break;
    }
    for (const r of reports) {
      expect(r.rounds).toBeLessThanOrEqual(1);
      expect(r.fired + r.cancelled + r.skipped).toBeLessThanOrEqual(2 * SETTLE_BATCH);
    }
    // Several runs were needed, and together they settled each deadline exactly once.
    expect(reports.filter((r) => r.fired > 0).length).toBeGreaterThanOrEqual(
      Math.ceil(COUNT / (2 * SETTLE_BATCH)),
    );
    expect(reports.reduce((s, r) => s + r.fired, 0)).toBe(COUNT - 5);
    expect(reports.reduce((s, r) => s + r.cancelled, 0)).toBe(5);

    const [statuses, firings, ledger] = await env.DB.batch([
      env.DB.prepare(
        "SELECT status, COUNT(*) AS n FROM trigger_deadlines WHERE message_id LIKE 'bulk-%' GROUP BY status ORDER BY status",
      ),
      env.DB.prepare(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT message_id) AS messages, SUM(appended) AS appended FROM trigger_firings WHERE rule_id = ?",
      ).bind(ruleId),
      env.DB.prepare(
        `SELECT seq, account_seq AS accountSeq, id, account_id AS accountId, address, channel, scope_key AS scopeKey, action, source,
          occurred_at AS occurredAt, recorded_at AS recordedAt, evidence, prev_hash AS prevHash, hash
        FROM ledger_events WHERE account_id = ? ORDER BY seq`,
      ).bind(account.id),
    ]);
    expect(statuses!.results).toEqual([
      { status: "cancelled", n: 5 },
      { status: "fired", n: COUNT - 5 },
    ]);
    expect(firings!.results[0]).toEqual({ n: COUNT - 5, messages: COUNT - 5, appended: COUNT - 5 });

    // One opt_out per message and per address, none twice, and the account's chain verifies.
    const events = (ledger!.results as LedgerEventRow[]).map(eventFromRow);
    expect(events).toHaveLength(COUNT - 5);
    expect(new Set(events.map((e) => (e.evidence as { messageId: string }).messageId)).size).toBe(COUNT - 5);
    const { n: addresses } = (await env.DB.prepare(
      "SELECT COUNT(DISTINCT address) AS n FROM ledger_events WHERE account_id = ?",
    )
      .bind(account.id)
      .first<{ n: number }>())!;
    expect(addresses).toBe(COUNT - 5);
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM blocklist_entries WHERE account_id = ? AND active = 1")
        .bind(account.id)
        .first<{ n: number }>())!.n,
    ).toBe(COUNT - 5);
    const chain = await verifyChain(events);
    expect(chain).toMatchObject({ ok: true, count: COUNT - 5 });

    // Another cron run finds nothing left to do.
    await runCron(T0 + 180 * SECOND);
    const last = await runTriggerCron(deps, new Date(T0 + 240 * SECOND));
    expect(last).toMatchObject({ accounts: 0, fired: 0, cancelled: 0 });
  }, 120_000);
});

describe("one account's backlog never starves another's due deadline", () => {
  it("a run settles the other account's deadline even with thousands overdue ahead of it", async () => {
    // Finding: 1000 `sent` events dated long ago × 20 rules from one account scheduled 20,000
    // overdue deadlines, and the cron (oldest first, 750 a run) left every other account's due
    // deadline waiting behind them for over two hours.
    const noisy = await createAccount();
    const quiet = await createAccount();
    const noisyRule = (await createRule(noisy, { name: "n", on: { type: "not_opened", withinSeconds: 60 } }))
      .id;
    const quietRule = (await createRule(quiet, { name: "q", on: { type: "not_opened", withinSeconds: 60 } }))
      .id;
    const backlog = 3 * SETTLE_BATCH * CRON_LIMITS.batchesPerRound;
    const seq = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${backlog - 1})`;
    const old = at(-20 * 86_400 * SECOND);
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO messages (account_id, message_id, address, sender, channel, created_at)
        ${seq} SELECT ?1, 'noisy-' || i, '+1415556' || printf('%04d', i), 'ACME', 'sms', ?2 FROM n`,
      ).bind(noisy.id, old),
      env.DB.prepare(
        `INSERT INTO message_events (account_id, message_id, type, occurred_at, recorded_at, origin)
        ${seq} SELECT ?1, 'noisy-' || i, 'sent', ?2, ?2, 'api' FROM n`,
      ).bind(noisy.id, old),
      env.DB.prepare(
        `INSERT INTO trigger_deadlines (account_id, rule_id, message_id, due_at, status, created_at)
        ${seq} SELECT ?1, ?2, 'noisy-' || i, ?3, 'pending', ?3 FROM n`,
      ).bind(noisy.id, noisyRule, old),
    ]);
    // The quiet account's message: sent at T0, never opened, due a minute later.
    const { recordEvents, event } = await import("../../test/triggers.ts");
    await recordEvents(quiet, [event({ type: "sent", messageId: "quiet-1", address: "+14155550777" })]);

    // A run that has time for only one round: the quiet account still gets its deadline settled.
    const report = await runTriggerCron({ env }, new Date(T0 + 120 * SECOND), {
      ...CRON_LIMITS,
      budgetMs: 0,
    });
    expect(report.more).toBe(true);
    const quietDeadline = await env.DB.prepare(
      "SELECT status FROM trigger_deadlines WHERE account_id = ? AND rule_id = ?",
    )
      .bind(quiet.id, quietRule)
      .first<{ status: string }>();
    expect(quietDeadline).toEqual({ status: "fired" });
    // And the noisy account's backlog still moved: it got the rest of the run.
    const settled = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM trigger_deadlines WHERE account_id = ? AND status = 'fired'",
    )
      .bind(noisy.id)
      .first<{ n: number }>();
    expect(settled!.n).toBe(report.fired - 1);
    expect(settled!.n).toBe(SETTLE_BATCH * CRON_LIMITS.batchesPerRound);
  }, 60_000);
});

describe("pending deadlines stay off request paths", () => {
  const plan = async (sql: string, ...params: unknown[]) => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return results.map((r) => r.detail).join("\n");
  };

  it("finding accounts with due deadlines and each one's due batch walk the partial index on (account, due time)", async () => {
    const accounts = await plan(
      `SELECT MIN(account_id) FROM trigger_deadlines WHERE status = 'pending' AND account_id > ?1`,
      "acc",
    );
    const firstDue = await plan(
      `SELECT MIN(due_at) FROM trigger_deadlines WHERE status = 'pending' AND account_id = ?1`,
      "acc",
    );
    const batch = await plan(
      `SELECT * FROM trigger_deadlines WHERE status = 'pending' AND account_id = ?1 AND due_at <= ?2
      ORDER BY due_at LIMIT ?3`,
      "acc",
      at(0),
      500,
    );
    for (const detail of [accounts, firstDue, batch]) {
      expect(detail).toContain("trigger_deadlines_pending_account_due_idx");
      expect(detail).not.toMatch(/SCAN trigger_deadlines(?! USING)/);
      expect(detail).not.toContain("TEMP B-TREE");
    }
  });

  it("scheduling a deadline from POST /v1/events is a unique-index lookup, not a scan", async () => {
    const detail = await plan(
      `SELECT id FROM trigger_deadlines WHERE rule_id = ?1 AND message_id = ?2`,
      "trg_x",
      "msg_x",
    );
    expect(detail).toContain("trigger_deadlines_rule_message_uq");
  });

  it("event and message lookups of POST /v1/events use their indexes", async () => {
    expect(
      await plan(
        `SELECT message_id FROM message_events WHERE account_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
        "acc",
        "[]",
      ),
    ).toContain("message_events_account_message_type_uq");
    expect(
      await plan(
        `SELECT address FROM messages WHERE account_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
        "acc",
        "[]",
      ),
    ).toMatch(/USING (INDEX sqlite_autoindex_messages_1|PRIMARY KEY) \(account_id=\? AND message_id=\?\)/);
  });
});
