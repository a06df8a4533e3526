/**
 * What a route asks an account's writer to commit, and what it gets back. Plain data: these cross
 * the Durable Object RPC boundary (structured clone), so no classes, no functions.
 */
import type {
  ActiveEntry,
  ChainEvent,
  EntryState,
  EventStatus,
  InboundClassification,
  InboundPlan,
  InboundProvider,
  LedgerChange,
  LinkOptOutPlan,
  Scope,
  TriggerEvent,
} from "@optout/core";
import type { StoredRule } from "../triggers/rules.ts";

/** One change through the API or from the primary database (`syncChangeId`: idempotency key). */
export interface ChangeItem {
  change: LedgerChange;
  syncChangeId?: string;
}

/** The link whose bookkeeping an op updates, as the route read it. */
export interface LinkRef {
  codeHash: string;
}

export type WriteOp =
  /** API adds and removes, and changes from the primary database. */
  | { kind: "changes"; items: ChangeItem[] }
  /** An SMS provider's inbound messages, each recorded once with its effects. */
  | { kind: "inbound"; provider: InboundProvider; messages: InboundPlan[] }
  /** A confirmed opt-out link: the opt-out, the link's bookkeeping and the click event. */
  | { kind: "link_opt_out"; link: LinkRef; plan: LinkOptOutPlan }
  /** Undo of a link's opt-out (the change carries `expectSeq`). */
  | { kind: "link_undo"; link: LinkRef; change: LedgerChange }
  /** Message events: the account's own (`strict`), or ones the edge produced. */
  | { kind: "events"; events: TriggerEvent[]; strict: boolean }
  /** `not_opened` deadlines that fell due, as the writer read them, settled at `now`. */
  | { kind: "settle"; now: string; rulesVersion: number; deadlines: DueDeadline[] };

export interface DueDeadline {
  id: number;
  ruleId: string;
  messageId: string;
  dueAt: string;
  /** The rule as it is now (deleted and disabled ones too); null if it is gone. */
  rule: StoredRule | null;
  /** A firing of this rule for this message exists (a settlement interrupted before its status). */
  alreadyFired: boolean;
}

/** A change's result, with feed positions: what the route answers from. */
export type ChangeResult =
  | { status: "appended"; event: CommittedEvent; applied: boolean; entry: CommittedEntry }
  | { status: "unchanged"; entry: CommittedEntry | null }
  | { status: "changed_since"; entry: CommittedEntry | null }
  /** `syncChangeId` was recorded before: the answer it got then, nothing appended. */
  | { status: "replayed"; seq: number; applied: boolean };

export type CommittedEvent = ChainEvent & { seq: number };
export type CommittedEntry = EntryState & { accountId: string };

export interface FiredTrigger {
  ruleId: string;
  messageId: string;
  /** The ledger event appended, or the one already in force when the address was blocked there. */
  seq: number;
  /** false: the entry was already active, so nothing was appended. */
  appended: boolean;
}

export interface EventsResult {
  results: { messageId: string; type: TriggerEvent["type"]; status: EventStatus }[];
  fired: FiredTrigger[];
  deadlinesScheduled: number;
}

export interface InboundMessageResult {
  providerMessageId: string;
  /** Recorded by an earlier delivery: nothing done now. */
  replay: boolean;
  classification: InboundClassification;
  /** The message's changes moved an entry. */
  changed: boolean;
  /** The address's active entries once committed (for "still opted out" after an opt-in). */
  activeAfter: ActiveEntry[];
}

export type WriteResult =
  | { kind: "changes"; results: ChangeResult[] }
  | { kind: "inbound"; messages: InboundMessageResult[] }
  | { kind: "link_opt_out"; scope: Scope; result: ChangeResult }
  | { kind: "link_undo"; result: ChangeResult }
  | { kind: "events"; result: EventsResult }
  | { kind: "settle"; fired: number; cancelled: number; skipped: number };

/** A refusal the route turns into a 4xx: the op was valid in shape but not against the state. */
export interface WriteRefusal {
  status: 400 | 409;
  code: "invalid_input" | "conflict";
  message: string;
}

export type WriteAnswer =
  | { ok: true; result: WriteResult }
  | { ok: false; refusal: WriteRefusal }
  /** The op could not be committed (storage failed): nothing of it was written; retrying is safe. */
  | { ok: false; failed: string };
