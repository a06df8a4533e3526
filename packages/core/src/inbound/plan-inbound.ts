/**
 * What an accepted inbound message (MO) means, decided here so the edge only records it: when
 * the person acted, which entries a keyword reaches, what the ledger's evidence says, the
 * message event it is for trigger rules, and — once the changes are committed — whether and what
 * to confirm. Pure.
 */
import { canonicalInstant } from "../instant.ts";
import type { LedgerChange } from "../plan-changes.ts";
import type { Channel, Evidence, Scope } from "../schemas.ts";
import { MAX_REPLY_TEXT, type TriggerEvent } from "../triggers/message-event.ts";
import type { InboundClassification } from "./classify-inbound.ts";
import { confirmationText } from "./confirmations.ts";
import type { KeywordRule } from "./keyword-rule.ts";
import type { KeywordSettings } from "./keyword-settings.ts";
import type { InboundMessage, InboundProvider } from "./types.ts";

/**
 * When the person acted: the provider's time, except that a message with no time of its own
 * (parsed with `parsedAt`, whole seconds) gets the edge's millisecond clock — otherwise a STOP
 * could sort before an API change made earlier in the same second — and a provider clock ahead
 * of ours is clamped to ours, so a skewed timestamp cannot outrank later changes.
 */
export function inboundOccurredAt(message: InboundMessage, parsedAt: number, now: Date): string {
  const at = Date.parse(message.receivedAt);
  if (!Number.isFinite(at) || at === parsedAt * 1000) return now.toISOString();
  return new Date(Math.min(at, now.getTime())).toISOString();
}

/**
 * The entries a keyword reaches. Opt-out: the rule's level (the account, or the sender the
 * message was sent to). Opting in lifts the rule's level and, at account level, the sender's own
 * entry too: a START to a number should make that number reach the end user again.
 */
export function keywordScopes(classification: InboundClassification, sender: string): Scope[] {
  const senderScope: Scope = { type: "sender", sender };
  switch (classification.action) {
    case "opt_out":
      return [classification.level === "sender" ? senderScope : { type: "account" }];
    case "opt_in":
      return classification.level === "sender" ? [senderScope] : [{ type: "account" }, senderScope];
    case "help":
    case "none":
      return [];
  }
}

// The event's hash covers its evidence as stored (JSON), where an undefined field does not exist.
const withoutUndefined = (o: Record<string, unknown>): Evidence =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export interface InboundPlan {
  providerMessageId: string;
  address: string;
  sender: string;
  occurredAt: string;
  classification: InboundClassification;
  /** The keyword's changes (none for HELP or a plain message); a repeat changes nothing. */
  changes: LedgerChange[];
  /** The message as a `replied` event, so keyword_reply trigger rules see it. */
  replied: TriggerEvent;
}

export interface PlanInboundInput {
  provider: InboundProvider;
  message: InboundMessage;
  /** The sender's address, normalized. */
  address: string;
  classification: InboundClassification;
  occurredAt: string;
  channel: Channel;
  requestId: string;
}

export function planInboundMessage(input: PlanInboundInput): InboundPlan {
  const { message, classification, address, occurredAt, channel } = input;
  const sender = message.to.trim();
  const evidence = withoutUndefined({
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
  const changes: LedgerChange[] =
    action === "opt_out" || action === "opt_in"
      ? keywordScopes(classification, sender).map((scope) => ({
          address,
          channel,
          scope,
          action,
          source: "keyword",
          occurredAt,
          evidence,
          reason: classification.keyword ? `keyword ${classification.keyword}` : null,
          skipIfUnchanged: true,
        }))
      : [];
  const replied: TriggerEvent = {
    type: "replied",
    messageId: message.providerMessageId,
    address,
    sender,
    channel,
    occurredAt: canonicalInstant(occurredAt),
    campaign: null,
    origin: "keyword",
    ...(action !== "none" && classification.keyword ? { keyword: classification.keyword } : {}),
    text: message.text.slice(0, MAX_REPLY_TEXT),
  };
  return {
    providerMessageId: message.providerMessageId,
    address,
    sender,
    occurredAt,
    classification,
    changes,
    replied,
  };
}

export interface ConfirmInput {
  classification: InboundClassification;
  /** The message's changes moved an entry (not a repeat). */
  changed: boolean;
  /** After an opt-in: the address is still blocked from this sender on the channel. */
  stillOptedOut: boolean;
  brand: string;
  settings: Pick<KeywordSettings, "supportContact">;
  rule?: Pick<KeywordRule, "replies">;
}

/**
 * The one confirmation a message gets, or null. Confirmations follow changes: a STOP from an
 * address already blocked at that level says nothing; HELP is always answered; START is answered
 * when it lifted something or when the address stays blocked (then the reply says so).
 */
export function inboundConfirmation(input: ConfirmInput): string | null {
  const { action, language } = input.classification;
  switch (action) {
    case "none":
      return null;
    case "opt_out":
      if (!input.changed) return null;
      break;
    case "opt_in":
      if (!input.changed && !input.stillOptedOut) return null;
      break;
    case "help":
      break;
  }
  return confirmationText({
    action,
    language,
    brand: input.brand,
    support: input.settings.supportContact ?? undefined,
    rule: input.rule,
    stillOptedOut: action === "opt_in" && input.stillOptedOut,
  });
}

/** The channel a provider's inbound messages arrive on, and their keywords act on. */
export function inboundChannel(provider: InboundProvider): "sms" | "whatsapp" {
  return provider === "whatsapp" ? "whatsapp" : "sms";
}
