/**
 * Twilio Programmable Messaging status callbacks (`StatusCallback` on a message or a Messaging
 * Service), signed like its inbound webhooks (`X-Twilio-Signature`).
 *
 * Payload (Twilio's "Track the message status of outbound messages" guide): form fields
 * `MessageSid`, `MessageStatus` (queued, sending, sent, delivered, undelivered, failed, read, …),
 * `From`, `To`, `ErrorCode` on failures; `SmsSid`/`SmsStatus` repeat them. WhatsApp messages have
 * `whatsapp:`-prefixed addresses. A callback carries no event time: `occurredAt` is the time of
 * receipt. Twilio passes no custom metadata through, but it signs the whole callback URL, so a
 * `StatusCallback` URL carrying `?optout_message_id=…` (and `optout_campaign`) keys the events
 * by the user's id.
 *
 * Opt-out: error 21610, "Attempt to send to unsubscribed recipient" (the recipient replied STOP to
 * this number or Messaging Service, and Twilio refused the send).
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { validate } from "../../inbound/payload.ts";
import { formPairs, isJsonBody, parseUrl, singleMap, type WebhookRequest } from "../../inbound/request.ts";
import { occurredAt, userIds } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import {
  eventMessageId,
  messageOptOut,
  type StatusCallbackAdapter,
  type StatusChannel,
  type StatusContext,
  statusEvent,
} from "./shared.ts";

/** Twilio error codes that mean the recipient opted out of the sender. */
export const TWILIO_OPT_OUT_ERRORS: ReadonlyMap<string, string> = new Map([
  ["21610", "attempt to send to unsubscribed recipient"],
]);

const Callback = z.object({
  MessageSid: z.string().min(1),
  MessageStatus: z.string().min(1),
  From: z.string().min(1),
  To: z.string().min(1),
  ErrorCode: z.string().optional(),
});

function channelOf(from: string, to: string): StatusChannel | null {
  if (/^whatsapp:/i.test(to) || /^whatsapp:/i.test(from)) return "whatsapp";
  // messenger:, rcs:, … are other channels; a bare number or sender id is SMS.
  return /^[a-z]+:/i.test(to) ? null : "sms";
}

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const get = request.method.toUpperCase() === "GET";
  // Event Streams (JSON CloudEvents) are not status callbacks; their events are not read here.
  if (!get && isJsonBody(request)) return [];
  const url = parseUrl(request.url);
  const pairs = formPairs(get ? (url?.search.slice(1) ?? "") : request.body);
  if (pairs.length === 0)
    throw new DomainError("invalid_input", "twilio status callback carries no form parameters");
  const fields = singleMap(pairs);
  const status = fields.MessageStatus ?? fields.SmsStatus;
  // An incoming message (SmsStatus=received) is parseInbound's.
  if (status === undefined || status === "received") return [];
  const m = validate(
    Callback,
    { ...fields, MessageSid: fields.MessageSid ?? fields.SmsSid, MessageStatus: status },
    "twilio",
    "status callback",
  );
  const channel = channelOf(m.From, m.To);
  if (channel === null) return [];
  const strip = (address: string) => address.replace(/^whatsapp:/i, "");
  const user = userIds(url ? Object.fromEntries(url.searchParams) : {});
  const at = occurredAt(undefined, context.now);
  const base = {
    messageId: eventMessageId(user, m.MessageSid),
    address: strip(m.To),
    sender: strip(m.From),
    channel,
    occurredAt: at,
    campaign: user.campaign,
    providerEventId: `${m.MessageSid}:${m.MessageStatus}`,
  };
  switch (m.MessageStatus) {
    case "sent":
      return statusEvent({ ...base, type: "sent" });
    case "delivered":
      return statusEvent({ ...base, type: "delivered" });
    case "read":
      return statusEvent({ ...base, type: "opened" });
    case "failed":
    case "undelivered": {
      const code = m.ErrorCode?.trim() ?? "";
      const meaning = TWILIO_OPT_OUT_ERRORS.get(code);
      if (!meaning) return [];
      return messageOptOut(base, `twilio error ${code} (${meaning})`, `${base.providerEventId}:${code}`);
    }
    default:
      // queued, accepted, scheduled, sending, canceled, partially_delivered: nothing to record.
      return [];
  }
}

export const twilio: StatusCallbackAdapter = { parse };
