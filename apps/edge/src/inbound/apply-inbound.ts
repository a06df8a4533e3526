/**
 * What an accepted inbound webhook does, after it was verified and parsed: for each message,
 * dedupe by (account, provider, provider message id), classify against the account's keyword
 * rules, move the blocklist through the ledger append, and compose the one confirmation per
 * change.
 *
 * Invariants:
 *  - A message is recorded (its `inbound_messages` row) in the same D1 batch as the ledger events
 *    it causes: both or neither. A failure throws, so the webhook answers 5xx and the provider
 *    retries; a retry finds nothing recorded and starts over.
 *  - A delivery of a message that is already recorded has no effect and gets no confirmation.
 *    Two deliveries racing past the dedupe read cannot both commit: the second insert fails the
 *    `inbound_messages_recorded_once` CHECK, its whole batch is discarded, and it re-reads.
 *  - Confirmations follow changes: STOP from an address already blocked at that level changes
 *    nothing and says nothing; HELP is always answered; START is answered when it lifted something
 *    or when the address stays blocked (then the reply says so rather than "resubscribed").
 */
import {
  type ClassifyOptions,
  canonicalInstant,
  classifyInbound,
  confirmationText,
  decideSend,
  type Evidence,
  type InboundClassification,
  type InboundMessage,
  type InboundProvider,
  isDomainError,
  type KeywordRule,
  type KeywordSettings,
  MAX_REPLY_TEXT,
  normalizeAddress,
  type ReplyItem,
  type Scope,
  type TriggerEvent,
} from "@optout/core";
import type { Db } from "../db/client.ts";
import { readActiveFromD1 } from "../kv/active-entries.ts";
import { appendChanges, type ChangeOutcome, type ChangeRequest } from "../ledger/append.ts";
import { recordEvents } from "../triggers/record-events.ts";

/** Inbound messages are SMS: keyword opt-outs block the sms channel (covers SMS, MMS and RCS). */
const CHANNEL = "sms" as const;

/** How often a delivery that lost a race with another delivery of the same message re-reads. */
const MAX_DEDUPE_ATTEMPTS = 3;

export interface InboundAccount {
  id: string;
  /** The brand named in confirmations. */
  name: string;
  defaultRegion: string | null;
}

export interface ApplyInboundInput {
  account: InboundAccount;
  provider: InboundProvider;
  messages: readonly InboundMessage[];
  rules: readonly KeywordRule[];
  settings: KeywordSettings;
  /** The `now` (unix seconds) given to `parseInbound`: a message without a time of its own has it. */
  parsedAt: number;
  now: Date;
  requestId: string;
}

export interface AppliedMessage {
  message: InboundMessage;
  address: string;
  occurredAt: string;
  classification: InboundClassification;
  /** Recorded by an earlier delivery: nothing done now. */
  replay: boolean;
  /** Ledger events this delivery appended that moved an entry. */
  changed: boolean;
}

/** Why a message was not recorded: its sender address could not be read, or is not a phone number. */
export type RejectedMessage = {
  index: number;
  reason: "unreadable_sender_address" | "sender_not_a_phone_number";
};

export interface ApplyInboundResult {
  /** Messages (by index in `messages`) whose sender address cannot be blocked on sms: not recorded. */
  rejected: RejectedMessage[];
  applied: AppliedMessage[];
  /** Confirmations, in message order, for the provider's reply format. */
  replies: ReplyItem[];
}

interface Plan {
  message: InboundMessage;
  address: string;
  sender: string;
  occurredAt: string;
  classification: InboundClassification;
  /** Position of this message's changes in the append's change list. */
  firstChange: number;
  changes: ChangeRequest[];
}

/** The language that breaks ties between packs (STOP is English and French): the account's first. */
export function classifyOptions(sender: string, settings: KeywordSettings): ClassifyOptions {
  return { sender, channel: CHANNEL, language: settings.languages?.[0] };
}

/**
 * When the person acted: the provider's time, except that a message with no time of its own
 * (parsed with `parsedAt`, whole seconds) gets the edge's millisecond clock — otherwise a STOP
 * could sort before an API change made earlier in the same second — and a provider clock ahead
 * of ours is clamped to ours, so a skewed timestamp cannot outrank later changes.
 */
export function occurredAtOf(message: InboundMessage, parsedAt: number, now: Date): string {
  const at = Date.parse(message.receivedAt);
  if (!Number.isFinite(at) || at === parsedAt * 1000) return now.toISOString();
  return new Date(Math.min(at, now.getTime())).toISOString();
}

function scopesFor(classification: InboundClassification, sender: string): Scope[] {
  const senderScope: Scope = { type: "sender", sender };
  switch (classification.action) {
    case "opt_out":
      return [classification.level === "sender" ? senderScope : { type: "account" }];
    case "opt_in":
      // Opting in lifts the rule's level and, at account level, the sender's own entry too: a
      // START to a number should make that number reach the end user again.
      return classification.level === "sender" ? [senderScope] : [{ type: "account" }, senderScope];
    case "help":
    case "none":
      return [];
  }
}

// The event's hash covers its evidence as stored (JSON), where an undefined field does not exist.
const withoutUndefined = (o: Record<string, unknown>): Evidence =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function planMessage(
  input: ApplyInboundInput,
  message: InboundMessage,
  address: string,
  firstChange: number,
): Plan {
  const sender = message.to.trim();
  const classification = classifyInbound(message.text, input.rules, classifyOptions(sender, input.settings));
  const occurredAt = occurredAtOf(message, input.parsedAt, input.now);
  const evidence: Evidence = withoutUndefined({
    provider: input.provider,
    providerMessageId: message.providerMessageId,
    ruleId: classification.ruleId,
    keyword: classification.keyword,
    match: classification.match,
    language: classification.language,
    sender,
    text: message.text,
    requestId: input.requestId,
  });
  const action = classification.action;
  const changes: ChangeRequest[] =
    action === "opt_out" || action === "opt_in"
      ? scopesFor(classification, sender).map((scope) => ({
          accountId: input.account.id,
          address,
          channel: CHANNEL,
          scope,
          action,
          source: "keyword",
          occurredAt,
          evidence,
          reason: classification.keyword ? `keyword ${classification.keyword}` : null,
          // A repeated STOP (or START) changes nothing and appends nothing.
          skipIfUnchanged: true,
        }))
      : [];
  return { message, address, sender, occurredAt, classification, firstChange, changes };
}

/** Applies the messages of one webhook; throws (nothing recorded) when D1 cannot commit. */
export async function applyInbound(
  deps: { db: Db; kv: KVNamespace },
  input: ApplyInboundInput,
): Promise<ApplyInboundResult> {
  const rejected: RejectedMessage[] = [];
  const readable: { message: InboundMessage; address: string }[] = [];
  const seenInRequest = new Set<string>();
  input.messages.forEach((message, i) => {
    let address: string;
    try {
      const normalized = normalizeAddress(message.from, {
        defaultRegion: input.account.defaultRegion ?? undefined,
      });
      // An SMS comes from a phone number; an email address in `from` (possible only through a
      // payload we do not control, like the generic webhook) would put a meaningless sms entry
      // on the list.
      if (normalized.kind !== "phone") {
        rejected.push({ index: i, reason: "sender_not_a_phone_number" });
        return;
      }
      address = normalized.value;
    } catch (err) {
      if (!isDomainError(err)) throw err;
      rejected.push({ index: i, reason: "unreadable_sender_address" });
      return;
    }
    // A batch may repeat a message (a provider's own retry inside one payload): first one counts.
    if (seenInRequest.has(message.providerMessageId)) return;
    seenInRequest.add(message.providerMessageId);
    readable.push({ message, address });
  });
  if (readable.length === 0) return { rejected, applied: [], replies: [] };

  const d1 = deps.db.$client;
  for (let attempt = 1; ; attempt++) {
    const recorded = await readRecorded(
      d1,
      input.account.id,
      input.provider,
      readable.map((r) => r.message.providerMessageId),
    );
    const plans: Plan[] = [];
    let changeCount = 0;
    for (const { message, address } of readable) {
      if (recorded.has(message.providerMessageId)) continue;
      const plan = planMessage(input, message, address, changeCount);
      changeCount += plan.changes.length;
      plans.push(plan);
    }
    const changes = plans.flatMap((p) => p.changes);
    const recordedAt = input.now.toISOString();

    // Every new message is a `replied` message event, so the account's keyword_reply trigger
    // rules (which may name keywords of their own) fire. Recorded first and idempotent: if the
    // commit below fails, the provider's retry records the message and its confirmation then.
    if (plans.length > 0) {
      await recordEvents({ ...deps, now: () => input.now }, input.account.id, plans.map(repliedEvent), {
        strict: false,
      });
    }

    let outcomes: ChangeOutcome[] = [];
    try {
      if (changes.length > 0) {
        outcomes = await appendChanges({ db: deps.db, kv: deps.kv, now: () => input.now }, changes, {
          alsoWrite: (db, planned) => [insertRecords(db, input, plans, planned, recordedAt)],
        });
      } else if (plans.length > 0) {
        await d1.batch([insertRecords(d1, input, plans, [], recordedAt)]);
      }
    } catch (err) {
      if (isAlreadyRecorded(err) && attempt < MAX_DEDUPE_ATTEMPTS) continue;
      throw err;
    }
    return finish(deps.db, input, readable, recorded, plans, outcomes, rejected);
  }
}

function repliedEvent(plan: Plan): TriggerEvent {
  const { action, keyword } = plan.classification;
  return {
    type: "replied",
    messageId: plan.message.providerMessageId,
    address: plan.address,
    sender: plan.sender,
    channel: CHANNEL,
    occurredAt: canonicalInstant(plan.occurredAt),
    campaign: null,
    origin: "keyword",
    ...(action !== "none" && keyword ? { keyword } : {}),
    text: plan.message.text.slice(0, MAX_REPLY_TEXT),
  };
}

async function finish(
  db: Db,
  input: ApplyInboundInput,
  readable: readonly { message: InboundMessage; address: string }[],
  recorded: ReadonlySet<string>,
  plans: readonly Plan[],
  outcomes: readonly ChangeOutcome[],
  rejected: RejectedMessage[],
): Promise<ApplyInboundResult> {
  const changedOf = (plan: Plan) =>
    outcomesOf(plan, outcomes).some((o) => o.status === "appended" && o.applied);

  // After an opt-in, is the address still blocked from this sender on sms (an account-level or
  // every-channel entry the keyword does not lift)? Read from D1, which just committed.
  const optIns = plans.filter((p) => p.classification.action === "opt_in");
  const active = optIns.length
    ? await readActiveFromD1(
        db,
        input.account.id,
        optIns.map((p) => p.address),
      )
    : new Map();

  const byId = new Map(plans.map((p) => [p.message.providerMessageId, p]));
  const rulesById = new Map(input.rules.map((r) => [r.id, r]));
  const applied: AppliedMessage[] = [];
  const replies: ReplyItem[] = [];
  for (const { message, address } of readable) {
    const plan = byId.get(message.providerMessageId);
    if (!plan || recorded.has(message.providerMessageId)) {
      applied.push({
        message,
        address,
        occurredAt: occurredAtOf(message, input.parsedAt, input.now),
        classification: classifyInbound(
          message.text,
          input.rules,
          classifyOptions(message.to.trim(), input.settings),
        ),
        replay: true,
        changed: false,
      });
      continue;
    }
    const changed = changedOf(plan);
    applied.push({
      message,
      address,
      occurredAt: plan.occurredAt,
      classification: plan.classification,
      replay: false,
      changed,
    });
    const { action, language, ruleId } = plan.classification;
    if (action === "none") continue;
    let stillOptedOut = false;
    if (action === "opt_in") {
      const decision = decideSend(active.get(address) ?? [], { sender: plan.sender, channel: CHANNEL });
      stillOptedOut = !decision.allowed;
      if (!changed && !stillOptedOut) continue;
    } else if (action === "opt_out" && !changed) {
      continue;
    }
    const text = confirmationText({
      action,
      language,
      brand: input.account.name,
      support: input.settings.supportContact ?? undefined,
      rule: ruleId ? rulesById.get(ruleId) : undefined,
      stillOptedOut,
    });
    replies.push({ message, text });
  }
  return { rejected, applied, replies };
}

function outcomesOf(plan: Plan, outcomes: readonly ChangeOutcome[]): readonly ChangeOutcome[] {
  return outcomes.slice(plan.firstChange, plan.firstChange + plan.changes.length);
}

async function readRecorded(
  d1: D1Database,
  accountId: string,
  provider: string,
  providerMessageIds: readonly string[],
): Promise<Set<string>> {
  const { results } = await d1
    .prepare(
      `SELECT provider_message_id AS id FROM inbound_messages
      WHERE account_id = ?1 AND provider = ?2 AND provider_message_id IN (SELECT value FROM json_each(?3))`,
    )
    .bind(accountId, provider, JSON.stringify(providerMessageIds))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

/**
 * One statement: the webhook body is at most 64 KiB, so the rows fit one bound parameter. The
 * ledger seqs come from this attempt's planned outcomes (the append calls us again on a retry).
 */
function insertRecords(
  d1: D1Database,
  input: ApplyInboundInput,
  plans: readonly Plan[],
  outcomes: readonly ChangeOutcome[],
  recordedAt: string,
): D1PreparedStatement {
  const rows = plans.map((plan) => {
    const c = plan.classification;
    return {
      id: plan.message.providerMessageId,
      address: plan.address,
      sender: plan.sender,
      action: c.action,
      ruleId: c.ruleId ?? null,
      keyword: c.keyword ?? null,
      language: c.language ?? null,
      review: c.review ? 1 : 0,
      // Only a message a person must read is kept; the rest are in the ledger's evidence or unneeded.
      text: c.review ? plan.message.text : null,
      seqs: outcomesOf(plan, outcomes).flatMap((o) => (o.status === "appended" ? [o.event.seq] : [])),
      receivedAt: plan.occurredAt,
    };
  });
  const field = (name: string) => `json_extract(value, '$.${name}')`;
  return d1
    .prepare(
      `INSERT INTO inbound_messages (account_id, provider, provider_message_id, address, sender, action,
        rule_id, keyword, language, review, text, seqs, received_at, recorded_at)
      SELECT ?1, ?2, ${["id", "address", "sender", "action", "ruleId", "keyword", "language", "review", "text"].map(field).join(", ")},
        json(${field("seqs")}), ${field("receivedAt")}, ?4
      FROM json_each(?3) WHERE true
      ON CONFLICT (account_id, provider, provider_message_id) DO UPDATE SET deliveries = deliveries + 1`,
    )
    .bind(input.account.id, input.provider, JSON.stringify(rows), recordedAt);
}

/** The CHECK that a second delivery's insert fails (see the inbound_messages schema). */
function isAlreadyRecorded(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.message.includes("inbound_messages_recorded_once")) return true;
  }
  return false;
}
