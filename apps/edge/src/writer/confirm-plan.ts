/**
 * A keyword change's one confirmation, decided while the change is planned (core
 * `inboundConfirmation`, from what this plan leaves the address with), and — for the providers
 * whose webhooks cannot carry a reply — recorded in the same batch as the change, to be sent
 * through the provider's send API after the commit (see confirmation-sender.ts). Recorded with
 * the change or not at all: a change without its owed confirmation, or a confirmation of a change
 * that did not commit, cannot happen.
 */
import {
  decideSend,
  type InboundClassification,
  inboundConfirmation,
  type LedgerOutcome,
  type SendChannel,
} from "@optout/core";
import { jsonChunks, jsonFields } from "../db/json-rows.ts";
import type { GroupPlan } from "./group.ts";
import { activeOf } from "./knowledge.ts";
import type { ConfirmContext } from "./ops.ts";

export interface ConfirmSubject {
  classification: InboundClassification;
  address: string;
  /** The account's number the message was sent to. */
  sender: string;
  /** Inbound messages arrive on one channel (never `*`). */
  channel: SendChannel;
  outcomes: readonly LedgerOutcome[];
}

/** The change moved an entry (a repeat STOP did not). */
export const changedBy = (outcomes: readonly LedgerOutcome[]) =>
  outcomes.some((o) => o.status === "appended" && o.applied);

/** The one confirmation of a message's (or review decision's) changes as planned so far, or null. */
export function decideConfirmation(
  g: GroupPlan,
  confirm: ConfirmContext,
  subject: ConfirmSubject,
): string | null {
  const { classification } = subject;
  const stillOptedOut =
    classification.action === "opt_in" &&
    !decideSend(activeOf(g.entriesNow(subject.address)), {
      sender: subject.sender,
      channel: subject.channel,
    }).allowed;
  const replies = classification.ruleId ? confirm.ruleReplies[classification.ruleId] : undefined;
  return inboundConfirmation({
    classification,
    changed: changedBy(subject.outcomes),
    stillOptedOut,
    brand: confirm.brand,
    settings: { supportContact: confirm.supportContact },
    rule: replies ? { replies } : undefined,
  });
}

export interface OwedConfirmation {
  /** What it confirms, unique per account: `inbound:<provider>:<id>` or `review:<id>`. */
  subject: string;
  address: string;
  sender: string;
  text: string;
}

/**
 * Records confirmations owed through `provider`'s send API in this plan's batch. A plain INSERT:
 * a subject recorded before fails the whole batch (UNIQUE), as the inbound record it goes with
 * would, so a change is never confirmed twice.
 */
export function recordConfirmations(g: GroupPlan, provider: string, owed: readonly OwedConfirmation[]): void {
  if (owed.length === 0) return;
  g.confirmationsOwed += owed.length;
  const at = g.recordedAt;
  g.statements.push((d1) =>
    jsonChunks(owed).map((json) =>
      d1
        .prepare(
          `INSERT INTO outbound_confirmations (account_id, provider, subject, address, sender, text, state,
            attempts, next_attempt_at, created_at, updated_at)
          SELECT ?1, ?2, ${jsonFields("subject", "address", "sender", "text")}, 'pending', 0, ?4, ?4, ?4
          FROM json_each(?3)`,
        )
        .bind(g.accountId, provider, json, at),
    ),
  );
}
