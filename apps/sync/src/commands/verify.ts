import { type ConsentEvent, canonicalJson, converge, MAX_PAGE, scopeKey } from "@optout/core";
import { sql } from "drizzle-orm";
import { type Config, describeDatabase, requireSyncToken } from "../config.ts";
import { type Db, rowsOf } from "../db/client.ts";
import { openDatabase } from "../db/open.ts";
import { readCursor } from "../db/queries/cursor.ts";
import { entryEvents } from "../db/queries/entries.ts";
import { eventFromLedgerRow, readLedger } from "../db/queries/ledger.ts";
import { outboxStats } from "../db/queries/outbox.ts";
import { EdgeClient } from "../edge-client.ts";
import { EXIT } from "../errors.ts";
import { FEED_CURSOR } from "../feed/sync-feed.ts";
import { describeError, type Logger } from "../log.ts";
import { type RetryPolicy, withRetry } from "../retry.ts";
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

/**
 * A read of either store, tried again on a transient failure with the policy `once` uses: a
 * database or an edge that is briefly unreachable or slow must not read as "verify failed".
 * The reads change nothing, so repeating one is safe.
 */
async function retried<T>(read: () => Promise<T>, retry: RetryPolicy, log: Logger): Promise<T> {
  const result = await withRetry(async () => ({ value: await read() }), retry, { log });
  if (!result) throw new Error("stopped"); // only a stop signal ends withRetry early; none is given
  return result.value;
}

/** Ledger events whose content differs are listed up to this many; the rest are counted. */
const MAX_LISTED_EVENTS = 20;

/** The top-level fields in which two events differ (names only: values may be addresses). */
function differingFields(a: ConsentEvent, b: ConsentEvent): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return fields.filter(
    (f) =>
      canonicalJson((a as Record<string, unknown>)[f] ?? null) !==
      canonicalJson((b as Record<string, unknown>)[f] ?? null),
  );
}

/**
 * Reads the edge's whole feed: per account the event count and the last event's seq and hash,
 * each entry's state by the ordering rule, and every event compared field by field with the
 * primary's copy of it (`eventFromLedgerRow`, which must give back exactly what the edge sealed).
 * Accounts and entries are keyed by their text as the primary's columns store it (db/storable.ts).
 */
async function readEdge(db: Db, edge: EdgeClient, log: Logger, retry: RetryPolicy) {
  const accounts = new Map<string, AccountSummary>();
  const entries = new Map<string, { active: boolean; seq: number }>();
  const winners: ConsentEvent[] = [];
  const altered: string[] = [];
  let alteredCount = 0;
  let head = 0;
  for (let after = 0; ; ) {
    const page = await retried(() => edge.changes({ after, limit: MAX_PAGE }), retry, log);
    const rows = await retried(
      () => readLedger(db, { afterSeq: after, limit: page.changes.length }),
      retry,
      log,
    );
    const stored = new Map(rows.map((r) => [r.seq, r]));
    const asStored = entryEvents(page.changes);
    for (const [i, e] of page.changes.entries()) {
      const accountId = asStored[i]!.accountId;
      const a = accounts.get(accountId) ?? { count: 0, headSeq: 0, headHash: "" };
      a.count++;
      a.headSeq = e.seq;
      a.headHash = e.hash;
      accounts.set(accountId, a);
      const row = stored.get(e.seq);
      if (!row) continue; // a missing row shows in the account's count
      const fields = differingFields(e, eventFromLedgerRow(row));
      if (fields.length === 0) continue;
      if (++alteredCount <= MAX_LISTED_EVENTS)
        altered.push(
          `ledger seq ${e.seq} (account ${accountId}): the primary's copy differs in ${fields.join(", ")}`,
        );
    }
    // Fold as we go, so memory holds one event per entry, not the whole feed.
    winners.push(...asStored);
    const folded = converge(winners);
    winners.length = 0;
    winners.push(...folded.values());
    head = page.changes.at(-1)?.seq ?? head;
    if (!page.hasMore || page.changes.length === 0) break;
    after = head;
  }
  if (alteredCount > MAX_LISTED_EVENTS)
    altered.push(`… and ${alteredCount - MAX_LISTED_EVENTS} more ledger event(s) whose copy differs`);
  for (const e of winners)
    entries.set(`${e.accountId}\u0000${e.address}\u0000${e.channel}\u0000${scopeKey(e.scope)}`, {
      active: e.action === "opt_out",
      seq: e.seq,
    });
  return { accounts, entries, head, altered };
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
 * the head (last seq and hash); every ledger event the primary holds, field by field; the cursor
 * against the edge's head; and every blocklist entry's state (the edge's state recomputed from
 * its feed by the core ordering rule, against `optout.blocklist_entries`). Every difference is
 * listed (ledger events beyond the first 20 that differ are counted).
 */
export async function verifyStores(config: Config, log: Logger): Promise<VerifyReport> {
  const token = requireSyncToken(config);
  const edge = new EdgeClient({ baseUrl: config.edgeUrl, token, timeoutMs: config.requestTimeoutMs });
  // Reading every entry is one long query on a large database: PG_STATEMENT_TIMEOUT_MS guards
  // the daemon's batches, not this one-off comparison.
  const target =
    config.database.kind === "postgres" ? { ...config.database, statementTimeoutMs: 0 } : config.database;
  const retry = retryPolicy("once", config);
  const database = await retried(() => openDatabase(target, { log, maxConnections: 1 }), retry, log);
  try {
    return await compareStores(database.db, { edge, log, retry });
  } finally {
    await database.close();
  }
}

/** The comparison behind `verify`, on an open database. */
export async function compareStores(
  db: Db,
  params: { edge: EdgeClient; log: Logger; retry: RetryPolicy },
): Promise<VerifyReport> {
  const { log, retry } = params;
  const primary = await retried(() => readPrimary(db), retry, log);
  const cursor = (await retried(() => readCursor(db, { name: FEED_CURSOR }), retry, log))?.lastSeq ?? 0;
  const outbox = await retried(() => outboxStats(db), retry, log);
  const fromEdge = await readEdge(db, params.edge, log, retry);
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
  differences.push(...fromEdge.altered);
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
      `compared  ${report.events} event(s) in ${report.accounts} account(s) field by field, every blocklist entry`,
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
