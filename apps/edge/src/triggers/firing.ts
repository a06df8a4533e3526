import { firingOccurredAt, type TriggerEvent, triggerEvidence } from "@optout/core";
import { jsonChunks, jsonFields } from "../db/json-rows.ts";
import type { ChangeOutcome, ChangeRequest } from "../ledger/append.ts";
import type { StoredRule } from "./rules.ts";

/** One rule firing for one message: it becomes one `opt_out` change with source `trigger`. */
export interface Firing {
  rule: StoredRule;
  messageId: string;
  /** The message's (normalized) address: what gets blocked. */
  address: string;
  /** The event that fired the rule; for `not_opened`, the `sent`/`delivered` event it waited on. */
  event: TriggerEvent;
  /** `not_opened` only. */
  dueAt?: string;
}

export interface FiredTrigger {
  ruleId: string;
  messageId: string;
  /** The ledger event appended, or the one already in force when the address was blocked there. */
  seq: number;
  /** false: the entry was already active, so nothing was appended. */
  appended: boolean;
}

/**
 * The rule's entry (address, rule channel, rule scope) goes on the blocklist. `skipIfUnchanged`:
 * an address already blocked there gets no second event. The opt-out's occurredAt is the event's
 * (or the deadline), so a late firing orders against other changes by when things happened.
 */
export function firingChange(firing: Firing): ChangeRequest {
  const { rule, event, dueAt } = firing;
  return {
    accountId: rule.accountId,
    address: firing.address,
    channel: rule.channel,
    scope: rule.scope,
    action: "opt_out",
    source: "trigger",
    occurredAt: firingOccurredAt(rule, event, dueAt),
    evidence: triggerEvidence(rule, [event], dueAt === undefined ? undefined : { dueAt }),
    reason: `trigger: ${rule.name}`,
    skipIfUnchanged: true,
  };
}

export function firedTriggers(
  firings: readonly Firing[],
  outcomes: readonly ChangeOutcome[],
): FiredTrigger[] {
  return firings.map((f, i) => {
    const outcome = outcomes[i];
    if (outcome?.status === "appended") {
      return { ruleId: f.rule.id, messageId: f.messageId, seq: outcome.event.seq, appended: true };
    }
    // An opt_out is skipped only when the entry is active, so the entry is there.
    const seq = outcome?.status === "unchanged" ? (outcome.entry?.seq ?? 0) : 0;
    return { ruleId: f.rule.id, messageId: f.messageId, seq, appended: false };
  });
}

/**
 * The firing rows, for the ledger append's own batch (`alsoWrite`). A firing that appended an
 * event is a plain INSERT: if the rule already fired for the message (a racing request), the
 * primary key fails the whole batch, ledger event included, and the append retries from a fresh
 * read (which then finds the entry active, or the event a duplicate). Only if the racing firing's
 * event lost to a later opt-in does the retry meet the same key again; after its attempts the
 * append answers 503 and the caller's retry finds the event recorded and fires nothing: still one
 * effect. A firing that appended nothing is INSERT OR IGNORE: there is no event to protect.
 */
export function firingStatements(
  d1: D1Database,
  firings: readonly Firing[],
  outcomes: readonly ChangeOutcome[],
  firedAt: string,
): D1PreparedStatement[] {
  const fired = firedTriggers(firings, outcomes);
  const rows = fired.map((f, i) => ({
    ...f,
    appended: f.appended ? 1 : 0,
    accountId: firings[i]!.rule.accountId,
    occurredAt: firingOccurredAt(firings[i]!.rule, firings[i]!.event, firings[i]!.dueAt),
  }));
  const insert = (
    verb: string,
  ) => `${verb} INTO trigger_firings (rule_id, message_id, account_id, seq, appended,
      occurred_at, fired_at)
    SELECT ${jsonFields("ruleId", "messageId", "accountId", "seq", "appended", "occurredAt")}, ?2 FROM json_each(?1)`;
  return [
    ...jsonChunks(rows.filter((r) => r.appended)).map((json) =>
      d1.prepare(insert("INSERT")).bind(json, firedAt),
    ),
    ...jsonChunks(rows.filter((r) => !r.appended)).map((json) =>
      d1.prepare(insert("INSERT OR IGNORE")).bind(json, firedAt),
    ),
  ];
}
