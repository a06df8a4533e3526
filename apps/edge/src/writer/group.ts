/**
 * One group commit: the ops that reached an account's writer while its previous commit was in
 * flight, planned together in arrival order from what the writer knows (each op sees the ones
 * before it), and written as ONE D1 batch: guards, ledger events, entries, the account's head,
 * every op's own rows, and the KV writes owed (kv_outbox).
 */
import {
  type ChainEvent,
  type ChainHead,
  type EntryState,
  entryKey,
  isPendingSeq,
  type LedgerChange,
  type LedgerOutcome,
  newId,
  planChanges,
  type StoredMessage,
  scopeKey,
} from "@optout/core";
import { jsonChunks, jsonFields, rowsOf } from "../db/json-rows.ts";
import type { StoredRule } from "../triggers/rules.ts";
import {
  type AccountKnowledge,
  type AddressEntries,
  addressVersion,
  eventKey,
  type Needs,
  noNeeds,
  receiptKey,
  type StoredEvent,
} from "./knowledge.ts";

/** The seq a committed event got, by its id. */
export interface Committed {
  seqOf(eventId: string): number;
  /** An entry's state once committed (feed positions filled in). */
  entryAfter(entry: EntryState & { eventId?: string }): EntryState;
  /** Every entry of an address once committed. */
  entriesAfter(address: string): AddressEntries;
}

export type StatementBuilder = (d1: D1Database) => D1PreparedStatement[];

export class GroupPlan {
  readonly recordedAt: string;
  head: ChainHead;
  readonly events: ChainEvent[] = [];
  readonly moves = new Map<string, EntryState & { eventId: string }>();
  /** Every key this plan relied on: forgotten and read again if a guard fails. */
  readonly touched: Needs = noNeeds();
  readonly statements: StatementBuilder[] = [];
  readonly kvLinks = new Set<string>();
  /** Confirmations this plan records for the send APIs: the writer delivers them after the commit. */
  confirmationsOwed = 0;
  // What the plan relied on, for the guards.
  private readonly addressVersions = new Map<string, string>();
  private readonly absentMessages = new Set<string>();
  private readonly absentEvents = new Set<string>();
  private rulesVersion: number | undefined;
  // What this plan writes, seen by the ops after it.
  private readonly pendingInbound = new Set<string>();
  private readonly pendingSync = new Set<string>();
  private readonly pendingMessages = new Map<string, StoredMessage>();
  private readonly pendingEvents = new Map<string, StoredEvent>();
  private readonly pendingReceipts = new Map<string, string | null>();
  // Addresses whose KV value this plan need not write (see `append`), and those it must.
  private readonly kvQuiet = new Set<string>();
  private readonly kvLoud = new Set<string>();
  // Imports this plan moves: where each stood (guarded) and where this plan leaves it.
  private readonly importsFrom = new Map<string, number>();
  private readonly importsTo = new Map<string, number>();

  constructor(
    readonly knowledge: AccountKnowledge,
    readonly now: Date,
  ) {
    if (!knowledge.head) throw new Error("the chain head must be known before planning");
    this.head = knowledge.head;
    this.touched.head = true;
    this.recordedAt = now.toISOString();
  }

  get accountId(): string {
    return this.knowledge.accountId;
  }

  // ---------- entries and the ledger ----------

  private addressEntries(address: string): AddressEntries | undefined {
    this.touched.addresses.add(address);
    const known = this.knowledge.addresses.get(address);
    if (!this.addressVersions.has(address)) this.addressVersions.set(address, addressVersion(known));
    return known;
  }

  entryOf(key: string, address: string): EntryState | undefined {
    return this.moves.get(key) ?? this.addressEntries(address)?.get(key);
  }

  /** Every entry of an address as this plan leaves it so far (moves of earlier ops included). */
  entriesNow(address: string): AddressEntries {
    const entries = new Map(this.addressEntries(address) ?? []);
    for (const [key, moved] of this.moves) if (moved.address === address) entries.set(key, moved);
    return entries;
  }

  /**
   * Plans changes after everything planned so far; each sees the moves before it. `quietNew`
   * (imports): an address with no entry at all before this plan (its version guarded as `0:0`)
   * gets no KV write — KV can hold for it only a check's fill, which lives 60 s — unless another
   * op of the group moves it too. A million-row import then costs no million KV writes.
   */
  async append(
    changes: readonly LedgerChange[],
    options: { quietNew?: boolean } = {},
  ): Promise<LedgerOutcome[]> {
    if (changes.length === 0) return [];
    for (const c of changes) {
      this.addressEntries(c.address);
      if (options.quietNew && this.addressVersions.get(c.address) === "0:0" && !this.kvLoud.has(c.address))
        this.kvQuiet.add(c.address);
      else {
        this.kvLoud.add(c.address);
        this.kvQuiet.delete(c.address);
      }
    }
    const planned = await planChanges({
      accountId: this.accountId,
      head: this.head,
      entryOf: (key) => {
        const [, address] = JSON.parse(key) as [string, string];
        return this.entryOf(key, address);
      },
      changes,
      recordedAt: this.recordedAt,
      newEventId: () => newId("evt"),
    });
    this.head = planned.head;
    this.events.push(...planned.events);
    for (const [key, moved] of planned.moves) this.moves.set(key, moved);
    return planned.outcomes;
  }

  // ---------- idempotency keys ----------

  inboundRecorded(key: string): boolean {
    this.touched.inbound.add(key);
    return this.pendingInbound.has(key) || this.knowledge.inbound.has(key);
  }

  markInbound(key: string): void {
    this.pendingInbound.add(key);
  }

  synced(changeId: string): { seq: number; applied: boolean } | undefined {
    this.touched.sync.add(changeId);
    return this.knowledge.synced.get(changeId);
  }

  /** A sync change id being recorded by this plan (two in one request: the second is a replay). */
  syncPending(changeId: string): boolean {
    return this.pendingSync.has(changeId);
  }

  markSync(changeId: string): void {
    this.pendingSync.add(changeId);
  }

  /**
   * A provider event receipt: its fingerprint (null when it has none) if recorded or being
   * recorded by this plan, else undefined (taken to be absent; the receipt's PRIMARY KEY guards it).
   */
  receipt(provider: string, receiptId: string): string | null | undefined {
    const key = receiptKey(provider, receiptId);
    this.touched.receipts.add(key);
    if (this.pendingReceipts.has(key)) return this.pendingReceipts.get(key);
    return this.knowledge.receipts.get(key);
  }

  markReceipt(provider: string, receiptId: string, fingerprint: string | null): void {
    this.pendingReceipts.set(receiptKey(provider, receiptId), fingerprint);
  }

  // ---------- messages, events, rules ----------

  message(messageId: string): StoredMessage | null {
    this.touched.messages.add(messageId);
    const pending = this.pendingMessages.get(messageId);
    if (pending) return pending;
    const known = this.knowledge.messages.get(messageId);
    if (known !== undefined) return known;
    this.absentMessages.add(messageId);
    return null;
  }

  event(messageId: string, type: string): StoredEvent | null {
    this.touched.messages.add(messageId);
    const key = eventKey(messageId, type);
    const pending = this.pendingEvents.get(key);
    if (pending) return pending;
    const known = this.knowledge.events.get(key);
    if (known !== undefined) return known;
    this.absentEvents.add(key);
    return null;
  }

  noteMessage(message: StoredMessage): void {
    this.pendingMessages.set(message.messageId, message);
  }

  noteEvent(messageId: string, type: string, event: StoredEvent): void {
    this.pendingEvents.set(eventKey(messageId, type), event);
  }

  rules(): StoredRule[] {
    this.touched.rules = true;
    const known = this.knowledge.rules;
    if (!known) throw new Error("rules must be read before planning an op that fires triggers");
    this.rulesVersion = known.version;
    return known.rules;
  }

  // ---------- blocklist imports ----------

  /**
   * Where an import stands (`rows_done`): as this plan leaves it, as read after a failed guard
   * (null: no such import), or else as its route says; the guard checks the last.
   */
  importAt(digest: string, routeSays: number): number | null {
    this.touched.imports.add(digest);
    const moved = this.importsTo.get(digest);
    if (moved !== undefined) return moved;
    const read = this.knowledge.imports.get(digest);
    return read !== undefined ? read : routeSays;
  }

  moveImport(digest: string, from: number, to: number): void {
    if (!this.importsFrom.has(digest)) this.importsFrom.set(digest, from);
    this.importsTo.set(digest, to);
  }

  // ---------- the batch ----------

  /** The guards: the commit fails whole unless what the plan relied on is still so. */
  private guards(d1: D1Database): D1PreparedStatement[] {
    const guard = (where: string, ...params: unknown[]) =>
      d1.prepare(`INSERT INTO writer_guard (ok) ${where}`).bind(...params);
    const out: D1PreparedStatement[] = [];
    if (this.addressVersions.size > 0) {
      for (const json of jsonChunks([...this.addressVersions])) {
        out.push(
          guard(
            `SELECT 0 FROM json_each(?2) j WHERE (SELECT COUNT(*) || ':' || COALESCE(MAX(seq), 0)
              FROM blocklist_entries WHERE account_id = ?1 AND address = json_extract(j.value, '$[0]'))
              != json_extract(j.value, '$[1]')`,
            this.accountId,
            json,
          ),
        );
      }
    }
    if (this.absentMessages.size > 0) {
      out.push(
        guard(
          `SELECT 0 FROM json_each(?2) j WHERE EXISTS
            (SELECT 1 FROM messages WHERE account_id = ?1 AND message_id = j.value)`,
          this.accountId,
          JSON.stringify([...this.absentMessages]),
        ),
      );
    }
    if (this.absentEvents.size > 0) {
      out.push(
        guard(
          `SELECT 0 FROM json_each(?2) j WHERE EXISTS (SELECT 1 FROM message_events WHERE account_id = ?1
            AND message_id = json_extract(j.value, '$[0]') AND type = json_extract(j.value, '$[1]'))`,
          this.accountId,
          JSON.stringify([...this.absentEvents].map((k) => JSON.parse(k))),
        ),
      );
    }
    for (const [digest, rowsDone] of this.importsFrom) {
      out.push(
        guard(
          `SELECT 0 WHERE NOT EXISTS
            (SELECT 1 FROM imports WHERE account_id = ?1 AND digest = ?2 AND rows_done = ?3)`,
          this.accountId,
          digest,
          rowsDone,
        ),
      );
    }
    if (this.rulesVersion !== undefined) {
      out.push(
        guard(
          "SELECT 0 FROM accounts WHERE id = ?1 AND trigger_rules_version != ?2",
          this.accountId,
          this.rulesVersion,
        ),
      );
    }
    return out;
  }

  /** Statements of the whole group, and how to read the ledger's RETURNING rows and the outbox's. */
  build(d1: D1Database, outboxDeletes: readonly number[]) {
    const statements: D1PreparedStatement[] = [...this.guards(d1)];
    const ledgerAt = statements.length;
    statements.push(...insertEvents(d1, this.events));
    const ledgerCount = statements.length - ledgerAt;
    statements.push(...upsertEntries(d1, this.accountId, [...this.moves.values()]));
    if (this.events.length > 0) {
      statements.push(
        d1
          .prepare("UPDATE accounts SET ledger_head_hash = ?2 WHERE id = ?1")
          .bind(this.accountId, this.head.hash),
      );
    }
    for (const build of this.statements) statements.push(...build(d1));
    if (outboxDeletes.length > 0) {
      statements.push(
        d1
          .prepare("DELETE FROM kv_outbox WHERE id IN (SELECT value FROM json_each(?1))")
          .bind(JSON.stringify(outboxDeletes)),
      );
    }
    const owed = this.kvOwed();
    const outboxAt = statements.length;
    if (owed.length > 0) {
      statements.push(
        d1
          .prepare(
            `INSERT INTO kv_outbox (account_id, kind, subject, created_at)
            SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?2 FROM json_each(?3)
            RETURNING id, kind, subject`,
          )
          .bind(this.accountId, this.recordedAt, JSON.stringify(owed)),
      );
    }
    return {
      statements,
      seqs: (results: D1Result<Record<string, unknown>>[]) => {
        const seqs = new Map<string, number>();
        for (let i = ledgerAt; i < ledgerAt + ledgerCount; i++) {
          for (const row of rowsOf<{ seq: number; id: string }>(results[i])) seqs.set(row.id, row.seq);
        }
        return seqs;
      },
      outbox: (results: D1Result<Record<string, unknown>>[]) =>
        owed.length > 0
          ? rowsOf<{ id: number; kind: "entries" | "link"; subject: string }>(results[outboxAt])
          : [],
    };
  }

  /** KV keys this commit makes stale: every address whose entries moved, every link it changed. */
  private kvOwed(): ["entries" | "link", string][] {
    const addresses = new Set(
      [...this.moves.values()].map((m) => m.address).filter((a) => !this.kvQuiet.has(a)),
    );
    return [
      ...[...addresses].map((a) => ["entries", a] as ["entries", string]),
      ...[...this.kvLinks].map((l) => ["link", l] as ["link", string]),
    ];
  }

  /** After the commit: what the writer now knows, and the feed positions ops answer with. */
  settle(seqs: ReadonlyMap<string, number>): Committed {
    const seqOf = (eventId: string) => {
      const seq = seqs.get(eventId);
      if (seq === undefined) throw new Error(`no feed position came back for ${eventId}`);
      return seq;
    };
    const knowledge = this.knowledge;
    knowledge.head = this.head;
    const committedEntry = (e: EntryState & { eventId?: string }): EntryState => {
      const { eventId, ...entry } = e;
      return isPendingSeq(entry.seq) && eventId ? { ...entry, seq: seqOf(eventId) } : entry;
    };
    for (const [key, moved] of this.moves) {
      const entries = knowledge.addresses.get(moved.address) ?? new Map<string, EntryState>();
      entries.set(key, committedEntry(moved));
      knowledge.addresses.set(moved.address, entries);
    }
    // Addresses assumed empty and still empty are now known to be so.
    for (const address of this.addressVersions.keys()) {
      if (!knowledge.addresses.has(address)) knowledge.addresses.set(address, new Map());
    }
    for (const k of this.pendingInbound) knowledge.inbound.set(k, true);
    for (const [k, fingerprint] of this.pendingReceipts) knowledge.receipts.set(k, fingerprint);
    for (const m of this.pendingMessages.values()) knowledge.messages.set(m.messageId, m);
    for (const [k, v] of this.pendingEvents) knowledge.events.set(k, v);
    for (const id of this.absentMessages) if (!this.pendingMessages.has(id)) knowledge.messages.set(id, null);
    for (const k of this.absentEvents) if (!this.pendingEvents.has(k)) knowledge.events.set(k, null);
    knowledge.imports.clear();
    return {
      seqOf,
      entryAfter: committedEntry,
      entriesAfter: (address) => knowledge.addresses.get(address) ?? new Map(),
    };
  }

  /** Remembers sync ids once their seqs are known (called by the changes op's finish). */
  rememberSync(changeId: string, seq: number, applied: boolean): void {
    this.knowledge.synced.set(changeId, { seq, applied });
  }
}

export const eventSeqSql = (field: string) =>
  `(SELECT seq FROM ledger_events WHERE id = json_extract(value, '$.${field}'))`;

// ---------- statements (each a constant number of bound parameters, via json_each) ----------

function insertEvents(d1: D1Database, events: readonly ChainEvent[]): D1PreparedStatement[] {
  const rows = events.map((e) => ({
    ...e,
    scopeKey: scopeKey(e.scope),
    evidence: JSON.stringify(e.evidence),
  }));
  // No seq: SQLite gives each row max(seq) + 1 in insertion order, inside this transaction, so
  // feed positions follow commit order with no gap and no race (docs/adr/0010).
  const sql = `INSERT INTO ledger_events (account_seq, id, account_id, address, channel, scope_key, action, source,
      occurred_at, recorded_at, evidence, prev_hash, hash)
    SELECT ${jsonFields("accountSeq", "id", "accountId", "address", "channel", "scopeKey", "action", "source", "occurredAt", "recordedAt", "evidence", "prevHash", "hash")}
    FROM json_each(?) ORDER BY key
    RETURNING seq, id`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json));
}

function upsertEntries(
  d1: D1Database,
  accountId: string,
  moves: readonly (EntryState & { eventId: string })[],
): D1PreparedStatement[] {
  const rows = moves.map((m) => ({
    address: m.address,
    channel: m.channel,
    scopeKey: scopeKey(m.scope),
    active: m.active ? 1 : 0,
    source: m.source,
    reason: m.reason,
    occurredAt: m.occurredAt,
    eventId: m.eventId,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  }));
  // `WHERE true` resolves SQLite's parsing ambiguity between a SELECT's join and ON CONFLICT.
  const sql = `INSERT INTO blocklist_entries (account_id, address, channel, scope_key, active, source, reason,
      occurred_at, seq, created_at, updated_at)
    SELECT ?2, ${jsonFields("address", "channel", "scopeKey", "active", "source", "reason", "occurredAt")},
      ${eventSeqSql("eventId")}, ${jsonFields("createdAt", "updatedAt")}
    FROM json_each(?1) WHERE true
    ON CONFLICT (account_id, address, channel, scope_key) DO UPDATE SET
      active = excluded.active, source = excluded.source, reason = excluded.reason,
      occurred_at = excluded.occurred_at, seq = excluded.seq, updated_at = excluded.updated_at`;
  return jsonChunks(rows).map((json) => d1.prepare(sql).bind(json, accountId));
}

export { entryKey };
