/**
 * The review queue: inbound messages that contain an opt-out keyword without being one ("please
 * don't stop", "stop this bill") wait for a person. Deciding one is pure: an opt-out becomes the
 * keyword's change with the original message as evidence; a dismissal changes nothing. The FCC
 * (47 CFR 64.1200(a)(10), 2024 order) gives a business 10 business days to honor a revocation, so
 * an item still undecided after that is overdue.
 */
import { z } from "zod";
import type { LedgerChange } from "../plan-changes.ts";
import type { Channel, Evidence } from "../schemas.ts";
import type { InboundClassification } from "./classify-inbound.ts";
import { keywordScopes } from "./plan-inbound.ts";

export const ReviewDecision = z.enum(["opt_out", "dismiss"]);
export type ReviewDecision = z.infer<typeof ReviewDecision>;

/** Business days within which a revocation must be honored (FCC). */
export const REVIEW_BUSINESS_DAYS = 10;

/**
 * The instant `businessDays` business days before `now` (UTC; Saturdays and Sundays are not
 * business days, public holidays are: counting them flags an item early, never late). An
 * undecided item received before it is overdue.
 */
export function reviewOverdueBefore(now: Date, businessDays = REVIEW_BUSINESS_DAYS): string {
  const at = new Date(now.getTime());
  for (let counted = 0; counted < businessDays; ) {
    at.setUTCDate(at.getUTCDate() - 1);
    const day = at.getUTCDay();
    if (day !== 0 && day !== 6) counted++;
  }
  return at.toISOString();
}

/** An undecided item received before `reviewOverdueBefore(now)`. */
export function isReviewOverdue(item: { receivedAt: string; decidedAt: string | null }, now: Date): boolean {
  return item.decidedAt === null && Date.parse(item.receivedAt) < Date.parse(reviewOverdueBefore(now));
}

/** A message held for review, as recorded when it arrived. */
export interface ReviewItem {
  /** The review item's id (the inbound record's). */
  id: string;
  provider: string;
  providerMessageId: string;
  /** The end user, normalized. */
  address: string;
  /** The account's number or ID the message was sent to. */
  sender: string;
  text: string;
  keyword: string | null;
  ruleId: string | null;
  language: string | null;
  receivedAt: string;
}

export interface PlanReviewOptOutInput {
  item: ReviewItem;
  /** The level the item's rule acts on (the account's default level when the rule is gone). */
  level: "account" | "sender";
  channel: Channel;
  requestId: string;
}

export interface ReviewOptOutPlan {
  /** As if the message had been the keyword itself: what decides the confirmation. */
  classification: InboundClassification;
  changes: LedgerChange[];
}

/**
 * A person decided that a held message was an opt-out: the keyword's change at its rule's level,
 * source `keyword`, the original message as evidence. It happened when the message arrived (the
 * revocation is the end user's, not the reviewer's), so a later opt-in by the end user still wins.
 */
export function planReviewOptOut(input: PlanReviewOptOutInput): ReviewOptOutPlan {
  const { item } = input;
  const classification: InboundClassification = {
    action: "opt_out",
    level: input.level,
    ...(item.keyword !== null ? { keyword: item.keyword } : {}),
    ...(item.ruleId !== null ? { ruleId: item.ruleId } : {}),
    ...(item.language !== null ? { language: item.language } : {}),
  };
  const evidence: Evidence = {
    provider: item.provider,
    providerMessageId: item.providerMessageId,
    ...(item.ruleId !== null ? { ruleId: item.ruleId } : {}),
    ...(item.keyword !== null ? { keyword: item.keyword } : {}),
    ...(item.language !== null ? { language: item.language } : {}),
    match: "review",
    reviewId: item.id,
    sender: item.sender,
    text: item.text,
    requestId: input.requestId,
  };
  const changes: LedgerChange[] = keywordScopes(classification, item.sender).map((scope) => ({
    address: item.address,
    channel: input.channel,
    scope,
    action: "opt_out",
    source: "keyword",
    occurredAt: item.receivedAt,
    evidence,
    reason: item.keyword ? `keyword ${item.keyword} (reviewed)` : "reviewed",
    skipIfUnchanged: true,
  }));
  return { classification, changes };
}
