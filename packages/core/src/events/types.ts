import { z } from "zod";
import type { VerifyOptions, VerifyResult, WebhookRequest } from "../inbound/request.ts";
import { InboundProvider } from "../inbound/types.ts";
import { Instant } from "../schemas.ts";
import { MessageEventType } from "../triggers/message-event.ts";

/** Email providers whose event webhooks optout reads natively. */
export const EventProvider = z.enum(["sendgrid", "ses", "mailgun", "postmark", "resend"]);
export type EventProvider = z.infer<typeof EventProvider>;

/**
 * SMS providers (and WhatsApp) whose delivery/status callbacks `parseStatusCallbacks` reads. They
 * are verified with `verifyWebhook`, like the same provider's inbound webhooks.
 */
export const StatusCallbackProvider = InboundProvider.exclude(["generic"]);
export type StatusCallbackProvider = z.infer<typeof StatusCallbackProvider>;

/**
 * The custom argument / user variable / tag / metadata key under which a message carries the
 * user's own message id. When present it is the event's `messageId`; else the provider's id is.
 */
export const OPTOUT_MESSAGE_ID_KEY = "optout_message_id";
/** Likewise for the campaign a message belongs to (`campaign` of the event, else null). */
export const OPTOUT_CAMPAIGN_KEY = "optout_campaign";

const Text = z.string().min(1);

/**
 * The channels provider events arrive on: email providers' event webhooks, SMS providers' status
 * callbacks, WhatsApp's statuses.
 */
export const EventChannel = z.enum(["email", "sms", "whatsapp"]);
export type EventChannel = z.infer<typeof EventChannel>;

/**
 * Something that happened to a message the account sent, as `MessageEvent` describes it. Addresses
 * are the provider's (a `Name <addr>` mailbox is unwrapped to `addr`, digits-only international
 * numbers get their "+", nothing else): the edge normalizes them. `occurredAt` is canonical
 * (`canonicalInstant`).
 */
export const ProviderMessageEvent = z.object({
  kind: z.literal("message_event"),
  event: z.object({
    type: MessageEventType,
    messageId: Text,
    /** The recipient. */
    address: Text,
    /** The From address (or number) of the message, when the payload says. */
    sender: Text.nullable(),
    channel: EventChannel,
    occurredAt: Instant,
    campaign: Text.nullable(),
    /** The provider's id of this event (or of its delivery): the dedupe key for redelivered webhooks. */
    providerEventId: Text,
  }),
});
export type ProviderMessageEvent = z.infer<typeof ProviderMessageEvent>;

/**
 * The provider's own unsubscribe or suppression (email), or a send the provider or carrier refused
 * because the recipient had opted out there (SMS, WhatsApp): a direct opt-out of `address` on the
 * channel. Re-subscriptions are never read: only an opt-out through optout itself can be undone.
 */
export const ProviderOptOut = z.object({
  kind: z.literal("opt_out"),
  address: Text,
  channel: EventChannel,
  /**
   * SMS and WhatsApp only: the account's sender the recipient opted out of (the block applies to
   * that sender), or null when the callback does not name it. Absent for email, whose providers'
   * unsubscribes are not tied to one sender.
   */
  sender: Text.nullable().optional(),
  occurredAt: Instant,
  providerEventId: Text,
  /**
   * What the provider reported, for the ledger's evidence: `sendgrid unsubscribe`, `postmark
   * suppression (…)`, `twilio error 21610 (…)`.
   */
  reason: Text,
  /** The message the opt-out came from, when the provider says (user's id first, like events). */
  messageId: Text.nullable(),
});
export type ProviderOptOut = z.infer<typeof ProviderOptOut>;

export const ProviderEvent = z.discriminatedUnion("kind", [ProviderMessageEvent, ProviderOptOut]);
export type ProviderEvent = z.infer<typeof ProviderEvent>;

export interface EventVerifyOptions extends Pick<VerifyOptions, "now" | "toleranceSeconds"> {
  /**
   * Amazon SES (SNS): the PEM certificate the edge fetched from the message's `SigningCertURL`,
   * after `snsCertificateUrl` allowed that URL. Core never fetches.
   */
  certificate?: string;
  /** Amazon SES (SNS): the only topic ARNs whose messages are accepted. Required for `ses`. */
  topicArns?: readonly string[];
}

export interface EventParseContext {
  /** Unix seconds; `occurredAt` when a payload carries no usable time. */
  now: number;
}

/** One provider's event webhook: how to check it came from the provider, and how to read it. */
export interface EventAdapter {
  verify(request: WebhookRequest, secret: string, options: EventVerifyOptions): Promise<VerifyResult>;
  parse(request: WebhookRequest, context: EventParseContext): ProviderEvent[];
}
