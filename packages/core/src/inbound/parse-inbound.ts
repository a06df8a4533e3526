import { DomainError } from "../errors.ts";
import { cleanText } from "../storable-text.ts";
import { PROVIDER_ADAPTERS } from "./providers/index.ts";
import type { WebhookRequest } from "./request.ts";
import { type InboundMessage, type InboundParseOptions, InboundProvider } from "./types.ts";

export interface ParseInboundInput {
  provider: InboundProvider | string;
  request: WebhookRequest;
  /** Unix seconds, used as `receivedAt` when the payload has no usable time. Defaults to the clock. */
  now?: number;
  /** The account's stored provider options that affect reading (WhatsApp's `stopPayloads`). */
  options?: InboundParseOptions;
}

/**
 * Reads the inbound messages (MO) out of a provider's webhook. Batched payloads give several;
 * events that are not inbound text messages (delivery receipts and status callbacks, which
 * `parseStatusCallbacks` reads; media-only messages) give `[]`. A malformed or truncated body
 * throws `DomainError("invalid_input")` whose message says which provider, which part and what is
 * wrong. Call after `verifyWebhook`.
 *
 * Every string is cleaned of what the ledger cannot store (NUL, unpaired surrogates; see
 * `cleanText`) rather than refused: the end user's STOP must never be lost to a stray byte.
 */
export function parseInbound({ provider, request, now, options }: ParseInboundInput): InboundMessage[] {
  const known = InboundProvider.safeParse(provider);
  if (!known.success) throw new DomainError("invalid_input", `unknown provider "${String(provider)}"`);
  const messages = PROVIDER_ADAPTERS[known.data].parse(request, {
    now: now ?? Math.floor(Date.now() / 1000),
    options: options ?? {},
  });
  return messages.map((m) => ({
    ...m,
    providerMessageId: cleanText(m.providerMessageId),
    from: cleanText(m.from),
    to: cleanText(m.to),
    text: cleanText(m.text),
  }));
}
