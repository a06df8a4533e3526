/**
 * The one way anything changes state at the edge: append consent events to the hash-chained
 * ledger and move the blocklist entries they govern, in ONE D1 batch. Every writer (API, sync
 * apply, and later keyword webhooks, links, triggers) goes through `appendChanges`.
 *
 * D1 has no interactive transactions, so appends are optimistic (docs/adr/0001):
 *  1. Read a snapshot in one read batch: the ledger's max seq, each account's chain head (hash of
 *     its last event, else GENESIS_HASH), the entries the changes touch, and sync ids seen.
 *  2. Plan in memory, change by change: skip no-ops, give each event seq = max + 1, link it to its
 *     account's head, seal it (core `sealEvent`), and move the entry only if the event
 *     `supersedes` the entry's current winning event (latest occurredAt, ties by seq).
 *  3. Write the plan as one `db.batch`: ledger rows with explicit seq, entry upserts, the accounts'
 *     new heads, sync ids. If another writer committed since step 1, its rows hold our seq (PRIMARY
 *     KEY) or our account's prevHash (UNIQUE(account_id, prev_hash)), so our whole batch fails
 *     atomically: no gap, no fork. Then go back to 1 — the re-read may turn an add into a no-op.
 *  4. After the commit, write KV for the addresses whose state moved. The snapshot read every
 *     entry of those addresses, and success means it was current, so their active entries after
 *     the commit are known without reading D1 again.
 * Within one isolate, appends take turns (steps 1–3); see `appendChanges`.
 * Success therefore implies nobody wrote between our read and our write: the snapshot was current.
 */
import {
  type ActiveEntry,
  type Channel,
  type ConsentAction,
  type ConsentEvent,
  type ConsentSource,
  type Evidence,
  entryKey,
  GENESIS_HASH,
  newId,
  parseScopeKey,
  type Scope,
  scopeKey,
  sealEvent,
  supersedes,
} from "@optout/core";
import type { Db } from "../db/client.ts";
import { jsonChunks, jsonFields } from "../db/json-rows.ts";
import { activeEntryFromRow, ENTRY_COLUMNS, type EntryView, entryFromRow } from "../db/rows.ts";
import type { BlocklistEntryRow } from "../db/schema/index.ts";
import { writeActiveToKv } from "../kv/active-entries.ts";
import { ApiError } from "../lib/errors.ts";
import { log } from "../lib/log.ts";

export interface ChangeRequest {
  accountId: string;
  /** Already normalized (core `normalizeAddress`). */
  address: string;
  channel: Channel;
  scope: Scope;
  action: ConsentAction;
  source: ConsentSource;
  /** ISO instant in UTC (`...Z`); when the person acted. */
  occurredAt: string;
  evidence: Evidence;
  reason?: string | null;
  /**
   * API semantics: if the entry is already in the asked-for state (active for opt_out, absent or
   * inactive for opt_in), append nothing. Without it every change is recorded (audit).
   */
  skipIfUnchanged?: boolean;
  /** Idempotency key of a change from the primary database (POST /v1/sync/apply). */
  syncChangeId?: string;
}

export type ChangeOutcome =
  /** An event was appended. `applied`: it became the entry's state (else an older change, kept for audit). */
  | { status: "appended"; event: ConsentEvent; applied: boolean; entry: EntryView }
  /** `skipIfUnchanged` and the entry was already in that state: nothing appended. */
  | { status: "unchanged"; entry: EntryView | null }
  /** `syncChangeId` was recorded before: the answer it got then, nothing appended. */
  | { status: "replayed"; seq: number; applied: boolean };

export interface AppendDeps {
  db: Db;
  kv: KVNamespace;
  now?: () => Date;
}

/** Enough for this many writers racing on one account: each failed attempt means another committed. */
export const MAX_APPEND_ATTEMPTS = 20;

export interface AppendOptions {
  /**
   * More statements for the same batch, built from this attempt's outcomes (called again on every
   * retry), so a caller's own rows commit with the ledger events or not at all. They are written
   * even when every change is a no-op. A UNIQUE violation among them counts as a lost race: the
   * append re-reads and retries, so they must not violate one that a re-read cannot resolve.
   */
  alsoWrite?: (d1: D1Database, outcomes: readonly ChangeOutcome[]) => D1PreparedStatement[];
}

// Appends in one isolate take turns. They all race for the same next seq, so running them at once
// only turns all but one into lost races: each loser pays another read and write round trip, and
// under a burst (a campaign's clicks and STOPs) some give up with 503. Waiting here costs one
// commit's time instead. Appends in other isolates still race optimistically, as above.
let appendTurn: Promise<unknown> = Promise.resolve();

export function appendChanges(
  deps: AppendDeps,
  changes: readonly ChangeRequest[],
  options: AppendOptions = {},
): Promise<ChangeOutcome[]> {
  if (changes.length === 0) return Promise.resolve([]);
  const committed = appendTurn.then(() => commitChanges(deps, changes, options));
  appendTurn = committed.catch(() => undefined);
  // KV is written after the turn: it is a view, repaired on a miss and bounded by its TTL.
  return committed.then(async ({ outcomes, kvViews }) => {
    for (const [accountId, views] of kvViews) await writeActiveToKv(deps.kv, accountId, views);
    return outcomes;
  });
}

async function commitChanges(
  deps: AppendDeps,
  changes: readonly ChangeRequest[],
  options: AppendOptions,
): Promise<Pick<Plan, "outcomes" | "kvViews">> {
  const now = deps.now ?? (() => new Date());
  for (let attempt = 1; ; attempt++) {
    const snapshot = await readSnapshot(deps.db.$client, changes);
    const plan = await planAppend(deps.db.$client, snapshot, changes, now().toISOString());
    const statements = [...plan.statements, ...(options.alsoWrite?.(deps.db.$client, plan.outcomes) ?? [])];
    if (statements.length === 0) return plan;
    try {
      await deps.db.$client.batch(statements);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (attempt >= MAX_APPEND_ATTEMPTS) {
        log.warn("ledger_append_gave_up", { attempts: attempt, changes: changes.length });
        throw new ApiError(503, "busy", "too many concurrent changes; retry shortly");
      }
      // Jittered, growing pause so racing writers stop meeting each other.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));
      continue;
    }
    if (attempt > 1) log.info("ledger_append_retried", { attempts: attempt });
    return plan;
  }
}

// ---------- 1. snapshot ----------

interface Snapshot {
  maxSeq: number;
  /** accountId → hash of its last event (GENESIS_HASH before the first); only known accounts. */
  heads: Map<string, string>;
  /** entryKey → current row. */
  entries: Map<string, BlocklistEntryRow>;
  /** sync change id → what it got. */
  synced: Map<string, { seq: number; applied: boolean }>;
}

async function readSnapshot(d1: D1Database, changes: readonly ChangeRequest[]): Promise<Snapshot> {
  const accountIds = [...new Set(changes.map((c) => c.accountId))];
  // Every entry of each address a change touches (not only the changed keys): after the commit
  // they give the address's active entries for KV without another read.
  const addresses = [
    ...new Map(changes.map((c) => [`${c.accountId} ${c.address}`, [c.accountId, c.address]])).values(),
  ];
  const syncIds = changes.flatMap((c) => (c.syncChangeId ? [c.syncChangeId] : []));

  // One read batch = one consistent view (D1 runs a batch as a single transaction).
  const [maxRows, headRows, entryRows, syncRows] = await d1.batch<Record<string, unknown>>([
    d1.prepare("SELECT COALESCE(MAX(seq), 0) AS maxSeq FROM ledger_events"),
    d1
      .prepare(
        `SELECT a.id AS accountId,
          (SELECT l.hash FROM ledger_events l WHERE l.account_id = a.id ORDER BY l.seq DESC LIMIT 1) AS hash
        FROM accounts a WHERE a.id IN (SELECT value FROM json_each(?))`,
      )
      .bind(JSON.stringify(accountIds)),
    d1
      .prepare(
        `SELECT ${ENTRY_COLUMNS} FROM json_each(?) j
        JOIN blocklist_entries e ON e.account_id = json_extract(j.value, '$[0]')
          AND e.address = json_extract(j.value, '$[1]')`,
      )
      .bind(JSON.stringify(addresses)),
    d1
      .prepare(
        `SELECT change_id AS changeId, seq, applied FROM sync_applied
        WHERE change_id IN (SELECT value FROM json_each(?))`,
      )
      .bind(JSON.stringify(syncIds)),
  ]);
  const rows = <T>(result: D1Result<Record<string, unknown>> | undefined) => (result?.results ?? []) as T[];

  const entries = new Map<string, BlocklistEntryRow>();
  for (const row of rows<BlocklistEntryRow>(entryRows)) {
    const normalized = { ...row, active: Boolean(row.active) };
    entries.set(entryKey({ ...normalized, scope: parseScopeKey(row.scopeKey) }), normalized);
  }
  return {
    maxSeq: rows<{ maxSeq: number }>(maxRows)[0]?.maxSeq ?? 0,
    heads: new Map(
      rows<{ accountId: string; hash: string | null }>(headRows).map((r) => [
        r.accountId,
        r.hash ?? GENESIS_HASH,
      ]),
    ),
    entries,
    synced: new Map(
      rows<{ changeId: string; seq: number; applied: number }>(syncRows).map((r) => [
        r.changeId,
        { seq: r.seq, applied: Boolean(r.applied) },
      ]),
    ),
  };
}

// ---------- 2. plan ----------

interface Plan {
  outcomes: ChangeOutcome[];
  statements: D1PreparedStatement[];
  /** accountId → address → its active entries after the commit, for addresses whose entries moved. */
  kvViews: Map<string, Map<string, ActiveEntry[]>>;
}

async function planAppend(
  d1: D1Database,
  snapshot: Snapshot,
  changes: readonly ChangeRequest[],
  recordedAt: string,
): Promise<Plan> {
  const { heads, entries, synced } = snapshot;
  let seq = snapshot.maxSeq;
  const outcomes: ChangeOutcome[] = [];
  const events: ConsentEvent[] = [];
  const movedEntries = new Map<string, BlocklistEntryRow>();
  const syncRows: [string, number, 0 | 1][] = [];
  const touched = new Map<string, Set<string>>();

  for (const change of changes) {
    const head = heads.get(change.accountId);
    // Callers check accounts exist; this guards the FOREIGN KEY rather than failing the batch.
    if (head === undefined) throw new ApiError(400, "invalid_input", "accountId: unknown account");

    if (change.syncChangeId) {
      const before = synced.get(change.syncChangeId);
      if (before) {
        outcomes.push({ status: "replayed", ...before });
        continue;
      }
    }

    const key = entryKey(change);
    const current = entries.get(key);
    const wantActive = change.action === "opt_out";
    if (change.skipIfUnchanged && (current?.active ?? false) === wantActive) {
      outcomes.push({ status: "unchanged", entry: current ? entryFromRow(current) : null });
      continue;
    }

    seq += 1;
    const event = await sealEvent({
      seq,
      id: newId("evt"),
      accountId: change.accountId,
      address: change.address,
      channel: change.channel,
      scope: change.scope,
      action: change.action,
      source: change.source,
      occurredAt: change.occurredAt,
      recordedAt,
      evidence: change.evidence,
      prevHash: head,
    });
    heads.set(change.accountId, event.hash);
    events.push(event);

    const applied = supersedes(event, current);
    let state = current;
    if (applied) {
      state = {
        id: current?.id ?? 0,
        accountId: change.accountId,
        address: change.address,
        channel: change.channel,
        scopeKey: scopeKey(change.scope),
        active: wantActive,
        source: change.source,
        reason: change.reason ?? null,
        occurredAt: change.occurredAt,
        seq,
        createdAt: current?.createdAt ?? recordedAt,
        updatedAt: recordedAt,
      };
      entries.set(key, state);
      movedEntries.set(key, state);
      const addresses = touched.get(change.accountId) ?? new Set<string>();
      touched.set(change.accountId, addresses.add(change.address));
    }
    if (change.syncChangeId) {
      synced.set(change.syncChangeId, { seq, applied });
      syncRows.push([change.syncChangeId, seq, applied ? 1 : 0]);
    }
    // `state` is set: either the event applied, or it lost to an existing (newer) entry.
    outcomes.push({ status: "appended", event, applied, entry: entryFromRow(state!) });
  }

  if (events.length === 0) return { outcomes, statements: [], kvViews: new Map() };
  return {
    outcomes,
    kvViews: activeViews(entries, touched),
    statements: [
      ...insertEvents(d1, events),
      ...upsertEntries(d1, [...movedEntries.values()]),
      updateHeads(d1, events),
      ...(syncRows.length ? insertSyncApplied(d1, syncRows, recordedAt) : []),
    ],
  };
}

/**
 * The active entries of each touched address once the plan is committed, as `readActiveFromD1`
 * would read them (ordered by seq): `entries` holds every entry of those addresses (the snapshot)
 * with the plan's moves applied.
 */
function activeViews(
  entries: ReadonlyMap<string, BlocklistEntryRow>,
  touched: ReadonlyMap<string, ReadonlySet<string>>,
): Map<string, Map<string, ActiveEntry[]>> {
  const views = new Map<string, Map<string, ActiveEntry[]>>();
  for (const [accountId, addresses] of touched) {
    views.set(accountId, new Map([...addresses].map((a) => [a, []])));
  }
  for (const row of entries.values()) {
    if (!row.active) continue;
    views.get(row.accountId)?.get(row.address)?.push(activeEntryFromRow(row));
  }
  for (const byAddress of views.values()) {
    for (const active of byAddress.values()) active.sort((a, b) => a.seq - b.seq);
  }
  return views;
}

// ---------- 3. statements (each a constant number of bound parameters, via json_each) ----------

function insertEvents(d1: D1Database, events: readonly ConsentEvent[]) {
  const rows = events.map((e) => ({
    ...e,
    scopeKey: scopeKey(e.scope),
    evidence: JSON.stringify(e.evidence),
  }));
  const sql = `INSERT INTO ledger_events (seq, id, account_id, address, channel, scope_key, action, source,
      occurred_at, recorded_at, evidence, prev_hash, hash)
    SELECT ${jsonFields("seq", "id", "accountId", "address", "channel", "scopeKey", "action", "source", "occurredAt", "recordedAt", "evidence", "prevHash", "hash")}
    FROM json_each(?)`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json));
}

function upsertEntries(d1: D1Database, rows: readonly BlocklistEntryRow[]) {
  const values = rows.map((r) => ({ ...r, active: r.active ? 1 : 0 }));
  // `WHERE true` resolves SQLite's parsing ambiguity between a SELECT's join and ON CONFLICT.
  const sql = `INSERT INTO blocklist_entries (account_id, address, channel, scope_key, active, source, reason,
      occurred_at, seq, created_at, updated_at)
    SELECT ${jsonFields("accountId", "address", "channel", "scopeKey", "active", "source", "reason", "occurredAt", "seq", "createdAt", "updatedAt")}
    FROM json_each(?) WHERE true
    ON CONFLICT (account_id, address, channel, scope_key) DO UPDATE SET
      active = excluded.active, source = excluded.source, reason = excluded.reason,
      occurred_at = excluded.occurred_at, seq = excluded.seq, updated_at = excluded.updated_at`;
  return jsonChunks(values).map((json) => d1.prepare(sql).bind(json));
}

function updateHeads(d1: D1Database, events: readonly ConsentEvent[]) {
  const heads = new Map<string, string>();
  for (const e of events) heads.set(e.accountId, e.hash);
  return d1
    .prepare(
      `UPDATE accounts SET ledger_head_hash =
        (SELECT json_extract(value, '$[1]') FROM json_each(?1) WHERE json_extract(value, '$[0]') = accounts.id)
      WHERE id IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))`,
    )
    .bind(JSON.stringify([...heads]));
}

function insertSyncApplied(d1: D1Database, rows: readonly [string, number, 0 | 1][], recordedAt: string) {
  const sql = `INSERT INTO sync_applied (change_id, seq, applied, recorded_at)
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), ?2
    FROM json_each(?1)`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json, recordedAt));
}

/** A lost race shows up as a UNIQUE/PRIMARY KEY violation, possibly wrapped by drizzle. */
function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/UNIQUE constraint failed|PRIMARY KEY/i.test(e.message)) return true;
  }
  return false;
}
