/**
 * What an accepted inbound webhook does, after it was verified and parsed: read each message's
 * sender, let core decide what each message means (`classifyInbound`, `planInboundMessage`),
 * commit them all in ONE op to the account's writer, and let core decide the confirmations from
 * what committed (`inboundConfirmation`).
 *
 * Invariants (kept by the writer, docs/adr/0007 and 0010):
 *  - A message is recorded (its `inbound_messages` row) in the same D1 transaction as the ledger
 *    events and the message event it causes: all or nothing. A failure throws, so the webhook
 *    answers 5xx and the provider retries; a retry finds nothing recorded and starts over.
 *  - A delivery of a message that is already recorded has no effect and gets no confirmation.
 */
import {
  type ClassifyOptions,
  classifyInbound,
  type InboundMessage,
  type InboundPlan,
  type InboundProvider,
  inboundChannel,
  inboundOccurredAt,
  isDomainError,
  type KeywordRule,
  type KeywordSettings,
  normalizeAddress,
  type ProviderOptOutPlan,
  planInboundMessage,
  type ReplyItem,
  type TriggerEvent,
} from "@optout/core";
import { commitWrite } from "../writer/client.ts";
import type { ConfirmContext, InboundMessageResult } from "../writer/ops.ts";

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
  /** How confirmations go out: in the answer, through the send API (after the commit), or not. */
  confirmVia: ConfirmContext["via"];
  /** WhatsApp: the webhook's statuses, committed with its messages. */
  statuses?: { events: TriggerEvent[]; optOuts: ProviderOptOutPlan[] };
}

/** Why a message was not recorded: its sender address could not be read, or is not a phone number. */
export type RejectedMessage = {
  index: number;
  reason: "unreadable_sender_address" | "sender_not_a_phone_number";
};

export interface ApplyInboundResult {
  /** Messages (by index in `messages`) whose sender address cannot be blocked on sms: not recorded. */
  rejected: RejectedMessage[];
  /** One per recorded (or replayed) message, in message order. */
  applied: InboundMessageResult[];
  /** Confirmations, in message order, for the provider's reply format (`confirmVia: "reply"`). */
  replies: ReplyItem[];
}

/** The confirmation context of an account's op: brand, support contact and rules' own replies. */
export function confirmContext(
  via: ConfirmContext["via"],
  brand: string,
  settings: KeywordSettings,
  rules: readonly KeywordRule[],
): ConfirmContext {
  const ruleReplies: ConfirmContext["ruleReplies"] = {};
  for (const rule of rules) if (Object.keys(rule.replies).length > 0) ruleReplies[rule.id] = rule.replies;
  return { via, brand, supportContact: settings.supportContact ?? null, ruleReplies };
}

/** The language that breaks ties between packs (STOP is English and French): the account's first. */
export function classifyOptions(
  sender: string,
  settings: KeywordSettings,
  channel: "sms" | "whatsapp" = "sms",
): ClassifyOptions {
  return { sender, channel, language: settings.languages?.[0] };
}

/**
 * The sender's address, normalized. An SMS comes from a phone number; an email address in `from`
 * (possible only through a payload we do not control, like the generic webhook) would put a
 * meaningless sms entry on the list.
 */
function senderAddress(
  message: InboundMessage,
  defaultRegion: string | null,
): { ok: true; address: string } | { ok: false; reason: RejectedMessage["reason"] } {
  try {
    const normalized = normalizeAddress(message.from, { defaultRegion: defaultRegion ?? undefined });
    if (normalized.kind !== "phone") return { ok: false, reason: "sender_not_a_phone_number" };
    return { ok: true, address: normalized.value };
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return { ok: false, reason: "unreadable_sender_address" };
  }
}

/** Applies the messages of one webhook; throws (nothing recorded) when they cannot be committed. */
export async function applyInbound(
  env: Pick<Env, "LEDGER_WRITER">,
  input: ApplyInboundInput,
): Promise<ApplyInboundResult> {
  const rejected: RejectedMessage[] = [];
  const channel = inboundChannel(input.provider);
  const plans: { message: InboundMessage; plan: InboundPlan }[] = [];
  const seenInRequest = new Set<string>();
  for (const [index, message] of input.messages.entries()) {
    const read = senderAddress(message, input.account.defaultRegion);
    if (!read.ok) {
      rejected.push({ index, reason: read.reason });
      continue;
    }
    // A batch may repeat a message (a provider's own retry inside one payload): first one counts.
    if (seenInRequest.has(message.providerMessageId)) continue;
    seenInRequest.add(message.providerMessageId);
    const sender = message.to.trim();
    plans.push({
      message,
      plan: planInboundMessage({
        provider: input.provider,
        message,
        address: read.address,
        classification: classifyInbound(
          message.text,
          input.rules,
          classifyOptions(sender, input.settings, channel),
        ),
        occurredAt: inboundOccurredAt(message, input.parsedAt, input.now),
        channel,
        requestId: input.requestId,
      }),
    });
  }
  const statuses = input.statuses;
  const hasStatuses = statuses !== undefined && (statuses.events.length > 0 || statuses.optOuts.length > 0);
  if (plans.length === 0 && !hasStatuses) return { rejected, applied: [], replies: [] };

  // The writer decides each confirmation from what it commits (and records the ones owed to a
  // send API in the same batch); the answer carries the rest.
  const { messages: applied } = await commitWrite(env, input.account.id, {
    kind: "inbound",
    provider: input.provider,
    messages: plans.map((p) => p.plan),
    confirm: confirmContext(input.confirmVia, input.account.name, input.settings, input.rules),
    ...(hasStatuses ? { statuses } : {}),
  });

  const replies: ReplyItem[] = [];
  if (input.confirmVia === "reply") {
    applied.forEach((result, i) => {
      if (!result.replay && result.confirmation !== null)
        replies.push({ message: plans[i]!.message, text: result.confirmation });
    });
  }
  return { rejected, applied, replies };
}
