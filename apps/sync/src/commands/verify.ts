import { type ConsentEvent, converge, MAX_PAGE, scopeKey } from "@optout/core";
import { sql } from "drizzle-orm";
import { type Config, describeDatabase, requireSyncToken } from "../config.ts";
import { type Db, rowsOf } from "../db/client.ts";
import { openDatabase } from "../db/open.ts";
import { readCursor } from "../db/queries/cursor.ts";
import { outboxStats } from "../db/queries/outbox.ts";
import { EdgeClient } from "../edge-client.ts";
import { EXIT } from "../errors.ts";
import { FEED_CURSOR } from "../feed/sync-feed.ts";
import { describeError, type Logger } from "../log.ts";
import { withRetry } from "../retry.ts";
import { retryPolicy } from "./sync.ts";

interface AccountSummary {
  count: number;
  headSeq: number;
  headHash: string;
}

export interface VerifyReport {
  edgeHeadSeq: number;
  primaryCursor: number;
  accounts: number;
  events: number;
  differences: string[];
  outbox: { pending: number; rejected: number };
}

/** Per account: event count and the last event's seq and hash, from the edge's whole feed. */
async function readEdge(edge: EdgeClient, log: Logger, config: Config) {
  const accounts = new Map<string, AccountSummary>();
  const entries = new Map<string, { active: boolean; seq: number }>();
  const winners: ConsentEvent[] = [];
  let head = 0;
  for (let after = 0; ; ) {
    const page = await withRetry(
      () => edge.changes({ after, limit: MAX_PAGE }),
      retryPolicy("once", config),
      {
        log,
      },
    );
    if (!page) throw new Error("stopped");
    for (const e of page.changes) {
      const a = accounts.get(e.accountId) ?? { count: 0, headSeq: 0, headHash: "" };
      a.count++;
      a.headSeq = e.seq;
      a.headHash = e.hash;
      accounts.set(e.accountId, a);
    }
    // Fold as we go, so memory holds one event per entry, not the whole feed.
    winners.push(...page.changes);
    const folded = converge(winners);
    winners.length = 0;
    winners.push(...folded.values());
    head = page.changes.at(-1)?.seq ?? head;
    if (!page.hasMore || page.changes.length === 0) break;
    after = head;
  }
  for (const e of winners)
    entries.set(`${e.accountId}\u0000${e.address}\u0000${e.channel}\u0000${scopeKey(e.scope)}`, {
      active: e.action === "opt_out",
      seq: e.seq,
    });
  return { accounts, entries, head };
}

async function readPrimary(db: Db) {
  const accounts = new Map<string, AccountSummary>();
  const summary = await db.execute(sql`
    select l.account_id as "accountId", c.n as count, l.seq as "headSeq", l.hash as "headHash"
    from (select account_id, count(*)::int as n, max(seq) as last from optout.ledger_events group by account_id) c
    join optout.ledger_events l on l.seq = c.last`);
  for (const r of rowsOf<{ accountId: string; count: number; headSeq: string | number; headHash: string }>(
    summary,
  )) {
    accounts.set(r.accountId, { count: r.count, headSeq: Number(r.headSeq), headHash: r.headHash });
  }
  const entries = new Map<string, { active: boolean; seq: number }>();
  const rows = await db.execute(sql`
    select account_id as "accountId", address, channel, scope_key as "scopeKey", active, seq
    from optout.blocklist_entries`);
  for (const r of rowsOf<{
    accountId: string;
    address: string;
    channel: string;
    scopeKey: string;
    active: boolean;
    seq: string | number;
  }>(rows)) {
    entries.set(`${r.accountId}\u0000${r.address}\u0000${r.channel}\u0000${r.scopeKey}`, {
      active: r.active,
      seq: Number(r.seq),
    });
  }
  return { accounts, entries };
}

/** Renders an entryKey-style key for people, without the address (logs and output carry none). */
function describeEntry(key: string): string {
  const [accountId, , channel, scope] = key.split("\u0000");
  return `account ${accountId}, channel ${channel}, scope ${scope}`;
}

/**
 * Compares the edge with the primary database: per account the number of ledger events and
 * the head (last seq and hash); the cursor against the edge's head; and every blocklist entry's
 * state (the edge's state recomputed from its feed by the core ordering rule, against
 * `optout.blocklist_entries`). Every difference is listed.
 */
export async function verifyStores(config: Config, log: Logger): Promise<VerifyReport> {
  const token = requireSyncToken(config);
  const edge = new EdgeClient({ baseUrl: config.edgeUrl, token, timeoutMs: config.requestTimeoutMs });
  // Reading every entry is one long query on a large database: PG_STATEMENT_TIMEOUT_MS guards
  // the daemon's batches, not this one-off comparison.
  const target =
    config.database.kind === "postgres" ? { ...config.database, statementTimeoutMs: 0 } : config.database;
  const database = await openDatabase(target, { log, maxConnections: 1 });
  try {
    const primary = await readPrimary(database.db);
    const cursor = (await readCursor(database.db, { name: FEED_CURSOR }))?.lastSeq ?? 0;
    const outbox = await outboxStats(database.db);
    const fromEdge = await readEdge(edge, log, config);
    const differences: string[] = [];
    if (cursor !== fromEdge.head) {
      differences.push(
        cursor < fromEdge.head
          ? `cursor: the primary is at seq ${cursor}, the edge at ${fromEdge.head} (${fromEdge.head - cursor} change(s) not applied yet)`
          : `cursor: the primary is at seq ${cursor}, AHEAD of the edge's head ${fromEdge.head} (was the edge reset?)`,
      );
    }
    const accountIds = [...new Set([...fromEdge.accounts.keys(), ...primary.accounts.keys()])].sort();
    for (const id of accountIds) {
      const e = fromEdge.accounts.get(id);
      const p = primary.accounts.get(id);
      if (!p) {
        differences.push(`account ${id}: ${e!.count} event(s) at the edge, none in the primary`);
        continue;
      }
      if (!e) {
        differences.push(`account ${id}: ${p.count} event(s) in the primary, none at the edge`);
        continue;
      }
      if (e.count !== p.count)
        differences.push(`account ${id}: ${e.count} event(s) at the edge, ${p.count} in the primary`);
      if (e.headSeq !== p.headSeq || e.headHash !== p.headHash) {
        differences.push(
          `account ${id}: ledger head differs — edge seq ${e.headSeq} hash ${e.headHash.slice(0, 16)}…, primary seq ${p.headSeq} hash ${p.headHash.slice(0, 16)}…`,
        );
      }
    }
    const keys = new Set([...fromEdge.entries.keys(), ...primary.entries.keys()]);
    for (const key of [...keys].sort()) {
      const e = fromEdge.entries.get(key);
      const p = primary.entries.get(key);
      if (e && p && e.active === p.active && e.seq === p.seq) continue;
      const state = (s?: { active: boolean; seq: number }) =>
        s ? `${s.active ? "blocked" : "not blocked"} (seq ${s.seq})` : "absent";
      differences.push(`entry (${describeEntry(key)}): edge ${state(e)}, primary ${state(p)}`);
    }
    const events = [...fromEdge.accounts.values()].reduce((n, a) => n + a.count, 0);
    return {
      edgeHeadSeq: fromEdge.head,
      primaryCursor: cursor,
      accounts: accountIds.length,
      events,
      differences,
      outbox: { pending: outbox.pending, rejected: outbox.rejected },
    };
  } finally {
    await database.close();
  }
}

export async function verifyCommand(
  config: Config,
  log: Logger,
  options: { json: boolean },
): Promise<number> {
  let report: VerifyReport;
  try {
    report = await verifyStores(config, log);
  } catch (e) {
    process.stderr.write(`optout-sync: verify failed: ${describeError(e).message}\n`);
    return EXIT.failed;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [
      `edge      ${config.edgeUrl} (head seq ${report.edgeHeadSeq})`,
      `database  ${describeDatabase(config.database)} (cursor seq ${report.primaryCursor})`,
      `compared  ${report.events} event(s) in ${report.accounts} account(s), every blocklist entry`,
      `outbox    ${report.outbox.pending} pending, ${report.outbox.rejected} rejected`,
      report.differences.length === 0
        ? "result    no difference"
        : `result    ${report.differences.length} difference(s):`,
      ...report.differences.map((d) => `  - ${d}`),
      "",
    ];
    process.stdout.write(lines.join("\n"));
  }
  return report.differences.length === 0 ? EXIT.ok : EXIT.differences;
}
