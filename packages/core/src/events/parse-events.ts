import { DomainError } from "../errors.ts";
import type { WebhookRequest } from "../inbound/request.ts";
import { cleanedProviderEvent } from "./clean.ts";
import { EVENT_ADAPTERS } from "./providers/index.ts";
import { EventProvider, type ProviderEvent } from "./types.ts";

export interface ParseEventsInput {
  provider: EventProvider | string;
  request: WebhookRequest;
  /** Unix seconds, used as `occurredAt` when an event has no usable time. Defaults to the clock. */
  now?: number;
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
  return events.map(cleanedProviderEvent).filter((e): e is ProviderEvent => e !== null);
}
