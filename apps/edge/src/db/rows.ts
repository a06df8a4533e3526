import {
  type ActiveEntry,
  type BlocklistEntry,
  type ConsentEvent,
  type EntryState,
  type Evidence,
  parseScopeKey,
} from "@optout/core";
import type { Stored } from "./client.ts";
import type { BlocklistEntryRow, LedgerEventRow } from "./schema/index.ts";

/** An entry as the API returns it: the contract's BlocklistEntry plus whether it blocks now. */
export type EntryView = BlocklistEntry & { active: boolean };

export function entryFromRow(row: Stored<BlocklistEntryRow>): EntryView {
  return {
    accountId: row.accountId,
    address: row.address,
    channel: row.channel,
    scope: parseScopeKey(row.scopeKey),
    source: row.source,
    reason: row.reason,
    occurredAt: row.occurredAt,
    seq: row.seq,
    createdAt: row.createdAt,
    active: Boolean(row.active),
  };
}

/** An entry as a writer's answer carries it, as the API returns it. */
export function entryView(entry: EntryState & { accountId: string }): EntryView {
  return {
    accountId: entry.accountId,
    address: entry.address,
    channel: entry.channel,
    scope: entry.scope,
    source: entry.source,
    reason: entry.reason,
    occurredAt: entry.occurredAt,
    seq: entry.seq,
    createdAt: entry.createdAt,
    active: entry.active,
  };
}

export function activeEntryFromRow(row: Stored<BlocklistEntryRow>): ActiveEntry {
  return {
    address: row.address,
    channel: row.channel,
    scope: parseScopeKey(row.scopeKey),
    source: row.source,
    occurredAt: row.occurredAt,
    seq: row.seq,
  };
}

export function eventFromRow(row: LedgerEventRow): ConsentEvent {
  return {
    seq: row.seq,
    // Events sealed before accounts had writers have none (and their hash covers seq).
    ...(row.accountSeq != null ? { accountSeq: row.accountSeq } : {}),
    id: row.id,
    accountId: row.accountId,
    address: row.address,
    channel: row.channel,
    scope: parseScopeKey(row.scopeKey),
    action: row.action,
    source: row.source,
    occurredAt: row.occurredAt,
    recordedAt: row.recordedAt,
    evidence: JSON.parse(row.evidence) as Evidence,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** Column list that reads blocklist_entries in raw SQL with the drizzle row's property names. */
export const ENTRY_COLUMNS = `e.id AS id, e.account_id AS accountId, e.address AS address, e.channel AS channel,
  e.scope_key AS scopeKey, e.active AS active, e.source AS source, e.reason AS reason,
  e.occurred_at AS occurredAt, e.seq AS seq, e.created_at AS createdAt, e.updated_at AS updatedAt`;

/** Column list that reads ledger_events (unaliased) with the drizzle row's property names. */
export const EVENT_COLUMNS = `seq, account_seq AS accountSeq, id, account_id AS accountId, address, channel,
  scope_key AS scopeKey, action, source, occurred_at AS occurredAt, recorded_at AS recordedAt, evidence,
  prev_hash AS prevHash, hash`;
