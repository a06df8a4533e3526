/**
 * What every provider's status callback is read into: message events on the SMS or WhatsApp
 * channel, and the opt-outs a provider or carrier reports by refusing a send.
 */
import type { WebhookRequest } from "../../inbound/request.ts";
import type { MessageEventType } from "../../triggers/message-event.ts";
import { present, userIds } from "../payload.ts";
import type { ProviderEvent, ProviderMessageEvent, ProviderOptOut } from "../types.ts";

export type StatusChannel = "sms" | "whatsapp";

export interface StatusContext {
  /** Unix seconds; `occurredAt` when a callback carries no usable time. */
  now: number;
}

/** One provider's status callbacks, read after `verifyWebhook` checked them with its inbound scheme. */
export interface StatusCallbackAdapter {
  parse(request: WebhookRequest, context: StatusContext): ProviderEvent[];
}

export interface StatusEventParts {
  type: MessageEventType;
  /** The user's id if the message carried one, else the provider's. */
  messageId: string;
  /** The recipient. */
  address: string;
  /** The account's number (or sender id) the message went out from, when the callback says. */
  sender: string | null;
  channel: StatusChannel;
  occurredAt: string;
  campaign: string | null;
  providerEventId: string;
}

export function statusEvent(parts: StatusEventParts): ProviderMessageEvent[] {
  return [{ kind: "message_event", event: { ...parts } }];
}

export interface CarrierOptOutParts {
  address: string;
  /** The block applies to this sender; null when the callback does not name it. */
  sender: string | null;
  channel: StatusChannel;
  occurredAt: string;
  providerEventId: string;
  /** `twilio error 21610 (…)`: the provider and its code, for the ledger's evidence. */
  reason: string;
  messageId: string | null;
}

export function carrierOptOut(parts: CarrierOptOutParts): ProviderOptOut[] {
  return [{ kind: "opt_out", ...parts }];
}

/**
 * The opt-out a message's failed status means: the message's own recipient, sender, channel, time
 * and id (`message` is the status event's parts), with the provider's `reason`.
 */
export function messageOptOut(
  message: Omit<StatusEventParts, "type">,
  reason: string,
  providerEventId: string = message.providerEventId,
): ProviderOptOut[] {
  const { address, sender, channel, occurredAt, messageId } = message;
  return carrierOptOut({ address, sender, channel, occurredAt, providerEventId, reason, messageId });
}

/**
 * The user's ids carried in a provider's single free-text reference (Vonage `client-ref`, Infobip
 * `callbackData`, Sinch `client_reference`, Bandwidth `tag`, Bird `reference`, WhatsApp
 * `biz_opaque_callback_data`): a JSON object or a form-encoded string with `optout_message_id`
 * (and `optout_campaign`). Any other reference is the user's own business and is not read.
 */
export function userIdsFromReference(reference: string | null | undefined): {
  messageId: string | null;
  campaign: string | null;
} {
  const text = present(reference)?.trim();
  if (!text) return { messageId: null, campaign: null };
  if (text.startsWith("{")) {
    try {
      return userIds(JSON.parse(text));
    } catch {
      return { messageId: null, campaign: null };
    }
  }
  if (!text.includes("=")) return { messageId: null, campaign: null };
  return userIds(Object.fromEntries(new URLSearchParams(text)));
}

/** The message id events are keyed by: the user's when the message carried one, else the provider's. */
export function eventMessageId(user: { messageId: string | null }, providerMessageId: string): string {
  return user.messageId ?? providerMessageId;
}
