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
  ProviderOptOutPlan,
  ReviewOptOutPlan,
  Scope,
  TriggerEvent,
} from "@optout/core";
import type { StoredRule } from "../triggers/rules.ts";

/** One change through the API or from the primary database (`syncChangeId`: idempotency key). */
export interface ChangeItem {
  change: LedgerChange;
  syncChangeId?: string;
}

/** How the confirmations of an op's keyword changes go out, and what they say. */
export interface ConfirmContext {
  /**
   * `reply`: in the webhook's answer (the route builds it from the results); `send_api`: recorded
   * in the commit and sent through the provider's send API after it; `none`: not sent.
   */
  via: "reply" | "send_api" | "none";
  /** The brand named in confirmations. */
  brand: string;
  supportContact: string | null;
  /** The custom replies of the rules the messages matched, by rule id. */
  ruleReplies: Record<string, Record<string, string>>;
}

export type ReviewDecisionOp =
  | { id: number; action: "dismiss" }
  | {
      id: number;
      action: "opt_out";
      /** The message's provider, for the confirmation's send API. */
      provider: InboundProvider;
      plan: ReviewOptOutPlan;
      /** The end user and the number the message was sent to. */
      address: string;
      sender: string;
    };

/** The link whose bookkeeping an op updates, as the route read it. */
export interface LinkRef {
  codeHash: string;
}

export type WriteOp =
  /** API adds and removes, and changes from the primary database. */
  | { kind: "changes"; items: ChangeItem[] }
  /**
   * A provider's inbound messages, each recorded once with its effects and its confirmation (for
   * the send APIs, recorded to be sent after the commit); WhatsApp's statuses of the same webhook
   * as message events.
   */
  | {
      kind: "inbound";
      provider: InboundProvider;
      messages: InboundPlan[];
      confirm: ConfirmContext;
      /** WhatsApp: the statuses of the same webhook (message events, and opt-outs applied once per id). */
      statuses?: { events: TriggerEvent[]; optOuts: ProviderOptOutPlan[] };
    }
  /** A person's decision on a message held for review: recorded once, with its opt-out and confirmation. */
  | { kind: "review"; decision: ReviewDecisionOp; confirm: ConfirmContext }
  /** A confirmed opt-out link: the opt-out, the link's bookkeeping and the click event. */
  | { kind: "link_opt_out"; link: LinkRef; plan: LinkOptOutPlan }
  /** Undo of a link's opt-out (the change carries `expectSeq`). */
  | { kind: "link_undo"; link: LinkRef; change: LedgerChange }
  /** Message events: the account's own (`strict`), or ones the edge produced. */
  | { kind: "events"; events: TriggerEvent[]; strict: boolean }
  /**
   * A provider's event webhook (`POST /events/{provider}/{accountId}`): its message events and its
   * opt-outs (each applied once per provider event id), in one commit. `token`: a Mailgun
   * signature token with the SHA-256 of its body; seen before with another body, nothing is done.
   */
  | {
      kind: "provider_events";
      provider: string;
      events: TriggerEvent[];
      optOuts: ProviderOptOutPlan[];
      token?: { id: string; fingerprint: string };
    }
  /** `not_opened` deadlines that fell due, as the writer read them, settled at `now`. */
  | { kind: "settle"; now: string; rulesVersion: number; deadlines: DueDeadline[] }
  /** The next rows of a blocklist import, committed with the import's progress (docs/adr/0011). */
  | { kind: "import"; chunk: ImportChunk };

/**
 * Rows `afterRow + 1 … toRow` of an import: the readable ones as changes (each with its row
 * number), the refused ones only counted. Committed only if the import is still at `afterRow`.
 */
export interface ImportChunk {
  digest: string;
  afterRow: number;
  toRow: number;
  items: { row: number; change: LedgerChange }[];
  refused: number;
  /** The import's listed refusals after this chunk (JSON `[{ row, reason }]`, capped). */
  refusals: string;
  /** What rows 1…toRow were (see the route's `RowsDigest`). */
  prefixDigest: string;
}

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

export interface ProviderEventsResult {
  /** The Mailgun token came before with another body: a replay, nothing recorded. */
  tokenReused: boolean;
  /** The message events' statuses and the rules they fired (null when there were none). */
  events: EventsResult | null;
  /** Per opt-out: `appended` (a ledger event), `unchanged` (already blocked there), `replay`. */
  optOuts: { receiptId: string; status: "appended" | "unchanged" | "replay"; seq: number | null }[];
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
  /** The one confirmation of a new message (core `inboundConfirmation`), or null. */
  confirmation: string | null;
}

export interface ReviewResult {
  decision: "opt_out" | "dismiss";
  decidedAt: string;
  /** The opt-out's ledger outcomes, one per scope (none for a dismissal). */
  results: ChangeResult[];
  confirmation: { text: string; delivery: "send_api" | "none" } | null;
}

export type WriteResult =
  | { kind: "changes"; results: ChangeResult[] }
  | { kind: "inbound"; messages: InboundMessageResult[] }
  | { kind: "review"; result: ReviewResult }
  | { kind: "link_opt_out"; scope: Scope; result: ChangeResult }
  | { kind: "link_undo"; result: ChangeResult }
  | { kind: "events"; result: EventsResult }
  | { kind: "provider_events"; result: ProviderEventsResult }
  | { kind: "settle"; fired: number; cancelled: number; skipped: number }
  | { kind: "import"; imported: number; unchanged: number; superseded: number };

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
