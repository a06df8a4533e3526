import { DomainError } from "../errors.ts";
import type { WebhookRequest } from "../inbound/request.ts";
import { cleanedProviderEvent } from "./clean.ts";
import { STATUS_ADAPTERS } from "./status-callbacks/index.ts";
import { type ProviderEvent, StatusCallbackProvider } from "./types.ts";

export interface ParseStatusCallbacksInput {
  provider: StatusCallbackProvider | string;
  request: WebhookRequest;
  /** Unix seconds, used as `occurredAt` when a callback has no usable time. Defaults to the clock. */
  now?: number;
}

/**
 * Reads an SMS provider's delivery/status callback (or WhatsApp's statuses) into the same
 * `ProviderEvent`s as `parseEvents`: `sent`, `delivered` and (WhatsApp) `opened` message events on
 * the `sms` or `whatsapp` channel, and an `opt_out` — with the `sender` the block applies to — when
 * a failure means the recipient had opted out at the provider or carrier (each provider's codes
 * are listed in docs/providers.md). Other failures, intermediate statuses and inbound messages give
 * `[]`. The message id is the user's own when the provider passed it through (see each provider),
 * else the provider's. A malformed body throws `DomainError("invalid_input")` naming the provider
 * and the part. Call after `verifyWebhook`, which checks these callbacks with the provider's
 * inbound scheme.
 *
 * Every string is cleaned of what the ledger cannot store (see `cleanText`); an event whose
 * recipient, message id or event id is blank once cleaned is dropped.
 */
export function parseStatusCallbacks({ provider, request, now }: ParseStatusCallbacksInput): ProviderEvent[] {
  const known = StatusCallbackProvider.safeParse(provider);
  if (!known.success) throw new DomainError("invalid_input", `unknown provider "${String(provider)}"`);
  if (!request || typeof request.body !== "string" || typeof request.url !== "string") {
    throw new DomainError("invalid_input", `${known.data} callback has no url or raw string body`);
  }
  const events = STATUS_ADAPTERS[known.data].parse(request, { now: now ?? Math.floor(Date.now() / 1000) });
  return events.map(cleanedProviderEvent).filter((e): e is ProviderEvent => e !== null);
}
