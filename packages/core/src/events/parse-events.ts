import { DomainError } from "../errors.ts";
import type { WebhookRequest } from "../inbound/request.ts";
import { cleanText } from "../storable-text.ts";
import { EVENT_ADAPTERS } from "./providers/index.ts";
import { EventProvider, type ProviderEvent } from "./types.ts";

export interface ParseEventsInput {
  provider: EventProvider | string;
  request: WebhookRequest;
  /** Unix seconds, used as `occurredAt` when an event has no usable time. Defaults to the clock. */
  now?: number;
}

const cleanOrNull = (value: string | null): string | null => {
  const clean = value === null ? "" : cleanText(value);
  return clean.trim() === "" ? null : clean;
};

const blank = (value: string) => value.trim() === "";

/** Cleaned for the ledger; null when a required part is blank once cleaned (it names no one). */
function cleaned(e: ProviderEvent): ProviderEvent | null {
  if (e.kind === "message_event") {
    const event = {
      ...e.event,
      messageId: cleanText(e.event.messageId),
      address: cleanText(e.event.address),
      sender: cleanOrNull(e.event.sender),
      campaign: cleanOrNull(e.event.campaign),
      providerEventId: cleanText(e.event.providerEventId),
    };
    return blank(event.messageId) || blank(event.address) || blank(event.providerEventId)
      ? null
      : { kind: "message_event", event };
  }
  const optOut = {
    ...e,
    address: cleanText(e.address),
    providerEventId: cleanText(e.providerEventId),
    reason: cleanText(e.reason),
    messageId: cleanOrNull(e.messageId),
  };
  return blank(optOut.address) || blank(optOut.providerEventId) ? null : optOut;
}

/**
 * Reads an email provider's event webhook into message events and opt-outs. Batched payloads
 * (SendGrid's arrays, SES notifications naming several recipients) give several; event types that
 * optout does not read (deferrals, soft bounces, drops, subscription confirmations) give `[]`. A
 * malformed body throws `DomainError("invalid_input")` naming the provider and the part. Call after
 * `verifyEventWebhook`.
 *
 * Every string is cleaned of what the ledger cannot store (see `cleanText`) rather than refused:
 * an unsubscribe must never be lost to a stray byte. An event whose recipient, message id or event
 * id is blank once cleaned names no one and is dropped, rather than failing the whole batch.
 */
export function parseEvents({ provider, request, now }: ParseEventsInput): ProviderEvent[] {
  const known = EventProvider.safeParse(provider);
  if (!known.success) throw new DomainError("invalid_input", `unknown provider "${String(provider)}"`);
  if (!request || typeof request.body !== "string") {
    throw new DomainError("invalid_input", `${known.data} webhook has no raw string body`);
  }
  const events = EVENT_ADAPTERS[known.data].parse(request, { now: now ?? Math.floor(Date.now() / 1000) });
  return events.map(cleaned).filter((e): e is ProviderEvent => e !== null);
}
