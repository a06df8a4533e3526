/**
 * What a verified, parsed provider event webhook does, decided here so the edge only records it:
 * which message events go to trigger rules (origin `provider`), which opt-outs go on the blocklist
 * (source `provider`), at which level, with which evidence, and which events name no one we can
 * block and are skipped. Pure.
 *
 * Rules:
 *  - Addresses are normalized with the account's default region. An email event's recipient must
 *    be an email address, an SMS or WhatsApp one a phone number; anything else is skipped (a
 *    provider would only redeliver the same payload, so it is not an error).
 *  - Message events outside the window `POST /v1/events` accepts (31 days back, 15 minutes ahead)
 *    are skipped: they could not start or stop any deadline.
 *  - An email provider's unsubscribe or suppression blocks the email channel for the whole
 *    account (email providers' lists are not tied to one From address). An SMS or WhatsApp send
 *    refused because the recipient opted out blocks that channel for the sending number (the
 *    `sender` scope), or for the account when the callback does not name the number.
 *  - Each opt-out is keyed by the provider's event id (`receiptId`): the edge applies it once,
 *    however often the provider redelivers it. The first of two with the same id in one request
 *    counts. Its occurredAt is the provider's, clamped to `now` (a skewed clock cannot outrank
 *    later changes).
 */
import { normalizeAddress } from "../address.ts";
import { isDomainError } from "../errors.ts";
import { canonicalInstant } from "../instant.ts";
import type { LedgerChange } from "../plan-changes.ts";
import { type Channel, type Evidence, type Scope, Sender } from "../schemas.ts";
import { occurredAtProblem, type TriggerEvent } from "../triggers/message-event.ts";
import type { EventChannel, ProviderEvent } from "./types.ts";

export interface PlanProviderEventsInput {
  /** The provider the webhook came from (recorded in the evidence). */
  provider: string;
  events: readonly ProviderEvent[];
  /** The account's region for reading national phone numbers. */
  defaultRegion?: string | null;
  now: Date;
  /** The request that carried the events, for the ledger's evidence. */
  requestId?: string;
}

export interface ProviderOptOutPlan {
  /** The provider's event id: the opt-out is applied once per (account, provider, receiptId). */
  receiptId: string;
  change: LedgerChange;
}

export type SkippedProviderEvent = {
  index: number;
  reason: "unreadable_address" | "wrong_kind_of_address" | "outside_event_window";
};

export interface PlannedProviderEvents {
  /** Message events for trigger rules, in payload order. */
  messageEvents: TriggerEvent[];
  /** Opt-outs, in payload order, without repeats of one event id. */
  optOuts: ProviderOptOutPlan[];
  skipped: SkippedProviderEvent[];
}

const isEmail = (channel: EventChannel) => channel === "email";

function readAddress(
  raw: string,
  channel: EventChannel,
  defaultRegion: string | null | undefined,
): { ok: true; address: string } | { ok: false; reason: SkippedProviderEvent["reason"] } {
  try {
    const normalized = normalizeAddress(raw, { defaultRegion: defaultRegion ?? undefined });
    const fits = isEmail(channel) ? normalized.kind === "email" : normalized.kind === "phone";
    return fits ? { ok: true, address: normalized.value } : { ok: false, reason: "wrong_kind_of_address" };
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return { ok: false, reason: "unreadable_address" };
  }
}

/** The account's sender as a scope can name it, or null (absent, or not a usable sender). */
function senderOf(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const parsed = Sender.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

// The event's hash covers its evidence as stored (JSON), where an undefined field does not exist.
const withoutNulls = (o: Record<string, unknown>): Evidence =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

export function planProviderEvents(input: PlanProviderEventsInput): PlannedProviderEvents {
  const messageEvents: TriggerEvent[] = [];
  const optOuts: ProviderOptOutPlan[] = [];
  const skipped: SkippedProviderEvent[] = [];
  const receipts = new Set<string>();
  for (const [index, e] of input.events.entries()) {
    if (e.kind === "message_event") {
      const { event } = e;
      const read = readAddress(event.address, event.channel, input.defaultRegion);
      if (!read.ok) {
        skipped.push({ index, reason: read.reason });
        continue;
      }
      if (occurredAtProblem(event.occurredAt, input.now) !== null) {
        skipped.push({ index, reason: "outside_event_window" });
        continue;
      }
      messageEvents.push({
        type: event.type,
        messageId: event.messageId,
        address: read.address,
        sender: senderOf(event.sender),
        channel: event.channel,
        occurredAt: canonicalInstant(event.occurredAt),
        campaign: event.campaign,
        origin: "provider",
      });
      continue;
    }
    const read = readAddress(e.address, e.channel, input.defaultRegion);
    if (!read.ok) {
      skipped.push({ index, reason: read.reason });
      continue;
    }
    if (receipts.has(e.providerEventId)) continue;
    receipts.add(e.providerEventId);
    const sender = isEmail(e.channel) ? null : senderOf(e.sender);
    const scope: Scope = sender === null ? { type: "account" } : { type: "sender", sender };
    const at = Math.min(Date.parse(e.occurredAt), input.now.getTime());
    const channel: Channel = e.channel;
    optOuts.push({
      receiptId: e.providerEventId,
      change: {
        address: read.address,
        channel,
        scope,
        action: "opt_out",
        source: "provider",
        occurredAt: canonicalInstant(Number.isFinite(at) ? at : input.now),
        evidence: withoutNulls({
          provider: input.provider,
          providerEventId: e.providerEventId,
          reason: e.reason,
          messageId: e.messageId,
          sender,
          requestId: input.requestId,
        }),
        reason: `provider: ${e.reason}`.slice(0, 500),
        skipIfUnchanged: true,
      },
    });
  }
  return { messageEvents, optOuts, skipped };
}
