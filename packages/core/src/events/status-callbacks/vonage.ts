/**
 * Vonage delivery receipts (SMS API) and status webhooks (Messages API), signed like its inbound
 * webhooks (`sig` parameter; Messages API `Authorization: Bearer` JWT).
 *
 * SMS API DLR (Vonage's "Delivery receipts" guide; GET query, POST form or POST JSON): `msisdn`
 * (the recipient), `to` (the sender), `messageId`, `status` (delivered, expired, failed, rejected,
 * accepted, buffered, unknown), `err-code`, `message-timestamp` (`YYYY-MM-DD HH:MM:SS` UTC),
 * `client-ref` (the reference set when sending). Messages API status (its "Status callbacks"
 * concept page): `message_uuid`, `to`, `from`, `timestamp`, `status` (submitted, delivered, read,
 * rejected, undeliverable), `channel`, `client_ref`, `error`.
 *
 * Opt-out: DLR `err-code` 9, which Vonage's "Messaging opted-out numbers" guide (Opt-Out Assist)
 * documents as "the user has requested not to receive messages from the sending number", and its
 * DLR error table names "Illegal Number — user has requested not to receive messages from a
 * specific service". The Messages API's equivalent error is not documented in a form that could be
 * checked, so rejected Messages API statuses give nothing.
 */
import { z } from "zod";
import { internationalNumber, validate, webhookFields } from "../../inbound/payload.ts";
import type { WebhookRequest } from "../../inbound/request.ts";
import { occurredAt } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import {
  eventMessageId,
  messageOptOut,
  type StatusCallbackAdapter,
  type StatusChannel,
  type StatusContext,
  statusEvent,
  userIdsFromReference,
} from "./shared.ts";

/** SMS API DLR `err-code`s that mean the recipient opted out of the sender. */
export const VONAGE_OPT_OUT_ERRORS: ReadonlyMap<string, string> = new Map([
  ["9", "user has requested not to receive messages from the sending number"],
]);

const Dlr = z.object({
  msisdn: z.string().min(1),
  to: z.string().min(1),
  messageId: z.string().min(1),
  status: z.string().min(1),
  "err-code": z.string().optional(),
  "message-timestamp": z.string().optional(),
  "client-ref": z.string().optional(),
});

const MessagesStatus = z.object({
  message_uuid: z.string().min(1),
  to: z.string().min(1),
  from: z.string().min(1),
  status: z.string().min(1),
  timestamp: z.string().optional(),
  channel: z.string().optional(),
  client_ref: z.string().nullable().optional(),
});

function fromDlr(fields: Record<string, unknown>, context: StatusContext): ProviderEvent[] {
  // Inbound messages share the endpoint family; they carry text and no status.
  if (fields.status === undefined) return [];
  const m = validate(Dlr, fields, "vonage", "delivery receipt");
  const user = userIdsFromReference(m["client-ref"]);
  const at = occurredAt(m["message-timestamp"], context.now);
  const base = {
    messageId: eventMessageId(user, m.messageId),
    address: internationalNumber(m.msisdn),
    sender: internationalNumber(m.to),
    channel: "sms" as const,
    occurredAt: at,
    campaign: user.campaign,
    providerEventId: `${m.messageId}:${m.status}`,
  };
  switch (m.status) {
    case "delivered":
      return statusEvent({ ...base, type: "delivered" });
    case "accepted":
      // Accepted by the destination network: the message left Vonage.
      return statusEvent({ ...base, type: "sent" });
    case "failed":
    case "rejected": {
      const code = m["err-code"]?.trim() ?? "";
      const meaning = VONAGE_OPT_OUT_ERRORS.get(code);
      if (!meaning) return [];
      return messageOptOut(base, `vonage err-code ${code} (${meaning})`, `${base.providerEventId}:${code}`);
    }
    default:
      return [];
  }
}

const MESSAGES_CHANNELS: ReadonlyMap<string, StatusChannel> = new Map([
  ["sms", "sms"],
  ["mms", "sms"],
  ["whatsapp", "whatsapp"],
]);

function fromMessagesApi(fields: Record<string, unknown>, context: StatusContext): ProviderEvent[] {
  // Inbound messages carry no status.
  if (fields.status === undefined) return [];
  const m = validate(MessagesStatus, fields, "vonage", "Messages API status");
  const channel = MESSAGES_CHANNELS.get(m.channel ?? "sms");
  if (!channel) return [];
  const user = userIdsFromReference(m.client_ref);
  const base = {
    messageId: eventMessageId(user, m.message_uuid),
    address: internationalNumber(m.to),
    sender: internationalNumber(m.from),
    channel,
    occurredAt: occurredAt(m.timestamp, context.now),
    campaign: user.campaign,
    providerEventId: `${m.message_uuid}:${m.status}`,
  };
  switch (m.status) {
    case "submitted":
      return statusEvent({ ...base, type: "sent" });
    case "delivered":
      return statusEvent({ ...base, type: "delivered" });
    case "read":
      return statusEvent({ ...base, type: "opened" });
    default:
      return [];
  }
}

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const read = webhookFields(request, "vonage", "vonage delivery receipt", "vonage status webhook body");
  if ("params" in read) return fromDlr(read.params, context);
  const fields = read.json;
  if (fields.message_uuid !== undefined) return fromMessagesApi(fields, context);
  // SMS API DLRs as JSON: numbers (err-code, price) may arrive as JSON numbers.
  const stringly: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) stringly[k] = typeof v === "number" ? String(v) : v;
  return fromDlr(stringly, context);
}

export const vonage: StatusCallbackAdapter = { parse };
