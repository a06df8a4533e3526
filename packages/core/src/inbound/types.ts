import { z } from "zod";
import { Instant } from "../schemas.ts";
import type { VerifyOptions, VerifyResult, WebhookRequest } from "./request.ts";

export const InboundProvider = z.enum([
  "twilio",
  "vonage",
  "plivo",
  "telnyx",
  "infobip",
  "sinch",
  "bandwidth",
  "messagebird",
  "whatsapp",
  "generic",
]);
export type InboundProvider = z.infer<typeof InboundProvider>;

/**
 * One inbound message (MO) as every provider's payload is read into. Addresses are the
 * provider's, made explicit: international numbers a provider sends without "+" (Vonage,
 * Plivo, Infobip, Sinch, MessageBird, WhatsApp) get it; short codes and alphanumeric IDs are
 * left as they are. The edge still runs them through `normalizeAddress`.
 */
export const InboundMessage = z.object({
  provider: InboundProvider,
  /** The provider's id for this message: the dedupe key for retried webhooks. */
  providerMessageId: z.string().min(1),
  /** The end user's address (who sent the MO). */
  from: z.string().min(1),
  /** The account's number, short code or channel the MO was sent to (the sender). */
  to: z.string().min(1),
  text: z.string(),
  /** When the provider received the message (UTC); the time of receipt when it says nothing usable. */
  receivedAt: Instant,
});
export type InboundMessage = z.infer<typeof InboundMessage>;

/** How a provider's messages are read, from the account's stored provider options. */
export interface InboundParseOptions {
  /**
   * WhatsApp: quick-reply button payloads (or titles) that mean "stop", read as the text `STOP`
   * so the keyword rules opt the sender out. Compared trimmed and case-insensitively. Defaults to
   * `WHATSAPP_DEFAULT_STOP_PAYLOADS` (the label of Meta's marketing opt-out button).
   */
  stopPayloads?: readonly string[];
}

export interface ParseContext {
  /** Unix seconds; used as `receivedAt` when a payload carries no usable time. */
  now: number;
  options: InboundParseOptions;
}

/** One provider's webhook scheme: how to check it came from the provider, and how to read it. */
export interface ProviderAdapter {
  verify(request: WebhookRequest, secret: string, options: VerifyOptions): Promise<VerifyResult>;
  parse(request: WebhookRequest, context: ParseContext): InboundMessage[];
}
