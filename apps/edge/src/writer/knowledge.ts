/**
 * What an account's writer knows of its account, and how it learns it. The writer is the only
 * one that writes the account's ledger, entries, inbound records, sync ids, messages, events and
 * firings, so what it learned stays true until it changes it itself; that is what lets a commit
 * be planned without reading first. What it has never seen is taken to be absent, and every
 * commit carries guards that fail it whole if anything it relied on is not so (docs/adr/0010).
 */
import {
  type ActiveEntry,
  type ChainHead,
  type EntryState,
  type EventOrigin,
  entryKey,
  GENESIS_HASH,
  type MessageEventType,
  parseScopeKey,
  type StoredMessage,
} from "@optout/core";
import { rowsOf } from "../db/json-rows.ts";
import { RULE_COLUMNS, ruleFromRow, type StoredRule } from "../triggers/rules.ts";

/** Every entry of one address (all channels and scopes): what KV holds and guards compare. */
export type AddressEntries = Map<string, EntryState>;

/** `count:maxSeq` of an address's rows: any write to the address changes it. */
export function addressVersion(entries: AddressEntries | undefined): string {
  if (!entries || entries.size === 0) return "0:0";
  let max = 0;
  for (const e of entries.values()) max = Math.max(max, e.seq);
  return `${entries.size}:${max}`;
}

export function activeOf(entries: AddressEntries | undefined): ActiveEntry[] {
  const active: ActiveEntry[] = [];
  for (const e of entries?.values() ?? []) {
    if (!e.active) continue;
    active.push({
      address: e.address,
      channel: e.channel,
      scope: e.scope,
      source: e.source,
      occurredAt: e.occurredAt,
      seq: e.seq,
    });
  }
  return active.sort((a, b) => a.seq - b.seq);
}

/** A stored message event, as deciding its triggers needs it. */
export interface StoredEvent {
  occurredAt: string;
  origin: EventOrigin;
}

export const inboundKey = (provider: string, providerMessageId: string) =>
  JSON.stringify([provider, providerMessageId]);
export const eventKey = (messageId: string, type: string) => JSON.stringify([messageId, type]);
/** A provider event webhook's receipt (an opt-out applied, a Mailgun token seen). */
export const receiptKey = (provider: string, receiptId: string) => JSON.stringify([provider, receiptId]);

/** A map that forgets its oldest keys past a bound: the writer's memory stays bounded. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly bound: number) {
    super();
  }
  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    super.set(key, value);
    if (this.size > this.bound) this.delete(this.keys().next().value as K);
    return this;
  }
}

const BOUND = 50_000;

export interface Needs {
  head: boolean;
  addresses: Set<string>;
  inbound: Set<string>;
  sync: Set<string>;
  /** Messages (and all their events). */
  messages: Set<string>;
  rules: boolean;
  /** Provider event receipts (`receiptKey`). */
  receipts: Set<string>;
  /** Blocklist imports (by digest), read only after a failed guard: their progress moved. */
  imports: Set<string>;
}

export const noNeeds = (): Needs => ({
  head: false,
  addresses: new Set(),
  inbound: new Set(),
  sync: new Set(),
  messages: new Set(),
  rules: false,
  receipts: new Set(),
  imports: new Set(),
});

export class AccountKnowledge {
  head: ChainHead | undefined;
  readonly addresses = new BoundedMap<string, AddressEntries>(BOUND);
  /** Inbound messages known to be recorded (absent from here: unknown). */
  readonly inbound = new BoundedMap<string, true>(BOUND);
  readonly synced = new BoundedMap<string, { seq: number; applied: boolean }>(BOUND);
  /** null: known not to exist. */
  readonly messages = new BoundedMap<string, StoredMessage | null>(BOUND);
  readonly events = new BoundedMap<string, StoredEvent | null>(BOUND);
  rules: { version: number; rules: StoredRule[] } | undefined;
  /** Provider event receipts known to be recorded, with their fingerprint (absent: unknown). */
  readonly receipts = new BoundedMap<string, string | null>(BOUND);
  /**
   * Imports' `rows_done` as just read (null: no such import). Not kept across commits: the route
   * that drives an import knows its progress, and other requests may reset an import directly.
   */
  readonly imports = new Map<string, number | null>();

  constructor(readonly accountId: string) {}

  /** Forgets what `needs` names, so the next plan reads it or guards it afresh. */
  forget(needs: Needs): void {
    if (needs.head) this.head = undefined;
    for (const a of needs.addresses) this.addresses.delete(a);
    for (const k of needs.inbound) this.inbound.delete(k);
    for (const k of needs.sync) this.synced.delete(k);
    for (const id of needs.messages) {
      this.messages.delete(id);
      for (const type of EVENT_TYPES) this.events.delete(eventKey(id, type));
    }
    if (needs.rules) this.rules = undefined;
    for (const k of needs.receipts) this.receipts.delete(k);
    for (const d of needs.imports) this.imports.delete(d);
  }

  /**
   * One read batch for what `needs` names (one consistent view: D1 runs a batch as a single
   * transaction). Replaces what was known of those keys.
   */
  async read(d1: D1Database, needs: Needs): Promise<void> {
    const statements: {
      run: D1PreparedStatement;
      take: (rows: D1Result<Record<string, unknown>>) => void;
    }[] = [];
    const id = this.accountId;
    if (needs.head) {
      statements.push({
        // An account whose last event predates writers has no account_seq: its position is its count.
        run: d1
          .prepare(
            `SELECT hash, COALESCE(account_seq, (SELECT COUNT(*) FROM ledger_events WHERE account_id = ?1)) AS accountSeq
            FROM ledger_events WHERE account_id = ?1 ORDER BY seq DESC LIMIT 1`,
          )
          .bind(id),
        take: (r) => {
          const row = rowsOf<{ hash: string; accountSeq: number }>(r)[0];
          this.head = row
            ? { hash: row.hash, accountSeq: row.accountSeq }
            : { hash: GENESIS_HASH, accountSeq: 0 };
        },
      });
    }
    if (needs.addresses.size > 0) {
      const addresses = [...needs.addresses];
      // CROSS JOIN keeps json_each outside: each address is one probe of the identity index,
      // never a scan of the account's entries per address.
      statements.push({
        run: d1
          .prepare(
            `SELECT e.address AS address, e.channel AS channel, e.scope_key AS scopeKey, e.active AS active,
              e.source AS source, e.reason AS reason, e.occurred_at AS occurredAt, e.seq AS seq,
              e.created_at AS createdAt, e.updated_at AS updatedAt
            FROM json_each(?2) j CROSS JOIN blocklist_entries e ON e.account_id = ?1 AND e.address = j.value`,
          )
          .bind(id, JSON.stringify(addresses)),
        take: (r) => {
          const fresh = new Map<string, AddressEntries>(addresses.map((a) => [a, new Map()]));
          for (const row of rowsOf<EntryRow>(r)) {
            const entry = entryFromRow(row);
            fresh.get(row.address)?.set(entryKey({ accountId: id, ...entry }), entry);
          }
          for (const [address, entries] of fresh) this.addresses.set(address, entries);
        },
      });
    }
    if (needs.inbound.size > 0) {
      const keys = [...needs.inbound];
      statements.push({
        run: d1
          .prepare(
            `SELECT i.provider AS provider, i.provider_message_id AS id FROM json_each(?2) j
            JOIN inbound_messages i ON i.account_id = ?1 AND i.provider = json_extract(j.value, '$[0]')
              AND i.provider_message_id = json_extract(j.value, '$[1]')`,
          )
          .bind(id, JSON.stringify(keys.map((k) => JSON.parse(k)))),
        take: (r) => {
          for (const k of keys) this.inbound.delete(k);
          for (const row of rowsOf<{ provider: string; id: string }>(r))
            this.inbound.set(inboundKey(row.provider, row.id), true);
        },
      });
    }
    if (needs.sync.size > 0) {
      const ids = [...needs.sync];
      statements.push({
        run: d1
          .prepare(
            `SELECT change_id AS changeId, seq, applied FROM sync_applied WHERE change_id IN (SELECT value FROM json_each(?1))`,
          )
          .bind(JSON.stringify(ids)),
        take: (r) => {
          for (const k of ids) this.synced.delete(k);
          for (const row of rowsOf<{ changeId: string; seq: number; applied: number }>(r)) {
            this.synced.set(row.changeId, { seq: row.seq, applied: Boolean(row.applied) });
          }
        },
      });
    }
    if (needs.messages.size > 0) {
      const ids = [...needs.messages];
      statements.push({
        run: d1
          .prepare(
            `SELECT message_id AS messageId, address, sender, channel, campaign FROM messages
            WHERE account_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
          )
          .bind(id, JSON.stringify(ids)),
        take: (r) => {
          for (const m of ids) this.messages.set(m, null);
          for (const row of rowsOf<StoredMessage>(r)) this.messages.set(row.messageId, row);
        },
      });
      statements.push({
        run: d1
          .prepare(
            `SELECT message_id AS messageId, type, occurred_at AS occurredAt, origin FROM message_events
            WHERE account_id = ?1 AND message_id IN (SELECT value FROM json_each(?2))`,
          )
          .bind(id, JSON.stringify(ids)),
        take: (r) => {
          const found = rowsOf<{ messageId: string; type: MessageEventType } & StoredEvent>(r);
          const byMessage = new Set(ids);
          // What was not found is known absent, for every type.
          for (const m of byMessage) for (const type of EVENT_TYPES) this.events.set(eventKey(m, type), null);
          for (const row of found)
            this.events.set(eventKey(row.messageId, row.type), {
              occurredAt: row.occurredAt,
              origin: row.origin,
            });
        },
      });
    }
    if (needs.receipts.size > 0) {
      const keys = [...needs.receipts];
      statements.push({
        run: d1
          .prepare(
            `SELECT r.provider AS provider, r.receipt_id AS receiptId, r.fingerprint AS fingerprint
            FROM json_each(?2) j JOIN provider_event_receipts r ON r.account_id = ?1
              AND r.provider = json_extract(j.value, '$[0]') AND r.receipt_id = json_extract(j.value, '$[1]')`,
          )
          .bind(id, JSON.stringify(keys.map((k) => JSON.parse(k)))),
        take: (r) => {
          for (const k of keys) this.receipts.delete(k);
          for (const row of rowsOf<{ provider: string; receiptId: string; fingerprint: string | null }>(r))
            this.receipts.set(receiptKey(row.provider, row.receiptId), row.fingerprint);
        },
      });
    }
    if (needs.rules) {
      const version = d1
        .prepare("SELECT trigger_rules_version AS version FROM accounts WHERE id = ?1")
        .bind(id);
      const rules = d1
        .prepare(
          `SELECT ${RULE_COLUMNS} FROM trigger_rules r
          WHERE r.account_id = ?1 AND r.deleted_at IS NULL AND r.enabled = 1 ORDER BY r.created_at, r.id`,
        )
        .bind(id);
      let seenVersion = 0;
      statements.push({
        run: version,
        take: (r) => {
          seenVersion = rowsOf<{ version: number }>(r)[0]?.version ?? 0;
        },
      });
      statements.push({
        run: rules,
        take: (r) => {
          this.rules = {
            version: seenVersion,
            rules: rowsOf<Parameters<typeof ruleFromRow>[0]>(r).map(ruleFromRow),
          };
        },
      });
    }
    if (needs.imports.size > 0) {
      const digests = [...needs.imports];
      statements.push({
        run: d1
          .prepare(
            `SELECT digest, rows_done AS rowsDone FROM imports
            WHERE account_id = ?1 AND digest IN (SELECT value FROM json_each(?2))`,
          )
          .bind(id, JSON.stringify(digests)),
        take: (r) => {
          for (const d of digests) this.imports.set(d, null);
          for (const row of rowsOf<{ digest: string; rowsDone: number }>(r))
            this.imports.set(row.digest, row.rowsDone);
        },
      });
    }
    if (statements.length === 0) return;
    const results = await d1.batch<Record<string, unknown>>(statements.map((s) => s.run));
    for (const [i, s] of statements.entries()) s.take(results[i]!);
  }
}

const EVENT_TYPES: MessageEventType[] = [
  "sent",
  "delivered",
  "opened",
  "clicked",
  "replied",
  "bounced",
  "complained",
];

interface EntryRow {
  address: string;
  channel: EntryState["channel"];
  scopeKey: string;
  active: number;
  source: EntryState["source"];
  reason: string | null;
  occurredAt: string;
  seq: number;
  createdAt: string;
  updatedAt: string;
}

function entryFromRow(row: EntryRow): EntryState {
  return {
    address: row.address,
    channel: row.channel,
    scope: parseScopeKey(row.scopeKey),
    active: Boolean(row.active),
    source: row.source,
    reason: row.reason,
    occurredAt: row.occurredAt,
    seq: row.seq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
