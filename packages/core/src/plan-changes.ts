/**
 * How changes become ledger events and move blocklist entries: pure, given what the account's
 * writer knows of the chain head and the entries. The writer commits the result in one batch
 * and learns each event's feed position (`seq`) only then.
 */
import { supersedes } from "./converge.ts";
import { sealChainEvent } from "./ledger.ts";
import type { ChainEvent, Channel, ConsentAction, ConsentSource, Evidence, Scope } from "./schemas.ts";
import { entryKey } from "./scope.ts";

/** An entry as ordering and the API need it. `seq` is the winning event's feed position. */
export interface EntryState {
  address: string;
  channel: Channel;
  scope: Scope;
  active: boolean;
  source: ConsentSource;
  reason: string | null;
  occurredAt: string;
  seq: number;
  createdAt: string;
  updatedAt: string;
}

/** The end of an account's chain: its last event's hash and position (0 and genesis before any). */
export interface ChainHead {
  hash: string;
  accountSeq: number;
}

export interface LedgerChange {
  /** Already normalized (core `normalizeAddress`). */
  address: string;
  channel: Channel;
  scope: Scope;
  action: ConsentAction;
  source: ConsentSource;
  /** ISO instant in UTC; when the person acted. */
  occurredAt: string;
  evidence: Evidence;
  reason?: string | null;
  /**
   * API semantics: if the entry is already in the asked-for state (active for opt_out, absent or
   * inactive for opt_in), append nothing. Without it every change is recorded (audit).
   */
  skipIfUnchanged?: boolean;
  /**
   * Append only if the entry is still the one the caller saw: its winning event is at this feed
   * position (an undo reverts only the opt-out it undoes). Otherwise `changed_since`.
   */
  expectSeq?: number;
}

export type LedgerOutcome =
  /** An event was appended. `applied`: it became the entry's state (else older; kept for audit). */
  | { status: "appended"; event: ChainEvent; applied: boolean; entry: EntryState }
  /** `skipIfUnchanged` and the entry was already in that state: nothing appended. */
  | { status: "unchanged"; entry: EntryState | null }
  /** `expectSeq` did not match the entry's winning event: nothing appended. */
  | { status: "changed_since"; entry: EntryState | null };

/**
 * Events planned but not committed have no feed position yet. For ordering they rank above every
 * committed event (they will commit after all of them) and among themselves by chain position.
 */
export const PENDING_SEQ_BASE = 2 ** 52;
export const isPendingSeq = (seq: number) => seq >= PENDING_SEQ_BASE;

export interface PlanChangesInput {
  accountId: string;
  head: ChainHead;
  /** The entry's current state (committed or moved earlier in this plan), by core `entryKey`. */
  entryOf: (key: string) => EntryState | undefined;
  changes: readonly LedgerChange[];
  recordedAt: string;
  newEventId: () => string;
}

export interface PlannedChanges {
  outcomes: LedgerOutcome[];
  /** Sealed events in chain order, without feed positions. */
  events: ChainEvent[];
  /** Entries whose state moved, by `entryKey`; their `seq` is pending until the commit. */
  moves: Map<string, EntryState & { eventId: string }>;
  head: ChainHead;
}

/** Plans `changes` in order; each sees the moves of the ones before it. */
export async function planChanges(input: PlanChangesInput): Promise<PlannedChanges> {
  const { accountId, changes, recordedAt } = input;
  let head = input.head;
  const outcomes: LedgerOutcome[] = [];
  const events: ChainEvent[] = [];
  const moves = new Map<string, EntryState & { eventId: string }>();
  const current = (key: string) => moves.get(key) ?? input.entryOf(key);

  for (const change of changes) {
    const key = entryKey({ accountId, ...change });
    const entry = current(key) ?? null;
    if (change.expectSeq !== undefined && entry?.seq !== change.expectSeq) {
      outcomes.push({ status: "changed_since", entry });
      continue;
    }
    const wantActive = change.action === "opt_out";
    if (change.skipIfUnchanged && (entry?.active ?? false) === wantActive) {
      outcomes.push({ status: "unchanged", entry });
      continue;
    }
    const event = await sealChainEvent({
      accountSeq: head.accountSeq + 1,
      id: input.newEventId(),
      accountId,
      address: change.address,
      channel: change.channel,
      scope: change.scope,
      action: change.action,
      source: change.source,
      occurredAt: change.occurredAt,
      recordedAt,
      evidence: change.evidence,
      prevHash: head.hash,
    });
    head = { hash: event.hash, accountSeq: event.accountSeq };
    events.push(event);

    const pendingSeq = PENDING_SEQ_BASE + event.accountSeq;
    const applied = supersedes({ occurredAt: event.occurredAt, seq: pendingSeq }, entry ?? undefined);
    let state = entry;
    if (applied) {
      const moved = {
        address: change.address,
        channel: change.channel,
        scope: change.scope,
        active: wantActive,
        source: change.source,
        reason: change.reason ?? null,
        occurredAt: change.occurredAt,
        seq: pendingSeq,
        createdAt: entry?.createdAt ?? recordedAt,
        updatedAt: recordedAt,
        eventId: event.id,
      };
      moves.set(key, moved);
      state = moved;
    }
    // `state` is set: either the event applied, or it lost to an existing (newer) entry.
    outcomes.push({ status: "appended", event, applied, entry: state! });
  }
  return { outcomes, events, moves, head };
}
