/**
 * MessageBird status reports and Bird Channels outbound message events, signed like their
 * inbound webhooks (`MessageBird-Signature-JWT`; Bird `messagebird-signature`).
 *
 * MessageBird SMS status report (its SMS API "Handle a status report"; GET query, or POST form):
 * `id`, `reference` (set when sending), `recipient` (digits), `status` (scheduled, sent, buffered,
 * delivered, expired, delivery_failed), `statusReason`, `statusErrorCode`, `statusDatetime`; it
 * does not name the originator. Bird Channels (`{ service: "channels", event: "sms.outbound" |
 * "whatsapp.outbound", payload: message }`, Bird's "Message status and interactions"): the message
 * object's `id`, `status` (accepted, processing, sent, sending_failed, delivered,
 * delivery_failed), `sender.connector.identifierValue`, `receiver.contacts[].identifierValue`,
 * `reference`, `lastStatusAt`.
 *
 * Opt-out: none verified. Neither MessageBird's status reasons nor Bird's failure codes
 * (11xxx–15xxx and the SMS platform's extended codes) document a code meaning "the recipient
 * opted out", so failures give nothing.
 */
import { z } from "zod";
import { internationalNumber, validate, webhookFields } from "../../inbound/payload.ts";
import type { WebhookRequest } from "../../inbound/request.ts";
import { occurredAt, perRecipientId } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import {
  eventMessageId,
  type StatusCallbackAdapter,
  type StatusChannel,
  type StatusContext,
  statusEvent,
  userIdsFromReference,
} from "./shared.ts";

const TYPES: ReadonlyMap<string, "sent" | "delivered"> = new Map([
  ["sent", "sent"],
  ["delivered", "delivered"],
]);

const StatusReport = z.object({
  id: z.string().min(1),
  recipient: z.string().min(1),
  status: z.string().min(1),
  reference: z.string().nullable().optional(),
  statusDatetime: z.string().optional(),
});

const BirdMessage = z.object({
  id: z.string().min(1),
  status: z.string(),
  direction: z.string().optional(),
  sender: z.object({ connector: z.object({ identifierValue: z.string().optional() }).optional() }).optional(),
  receiver: z.object({
    contacts: z.array(z.object({ identifierValue: z.string().min(1) }).loose()).min(1),
  }),
  reference: z.string().nullable().optional(),
  lastStatusAt: z.string().optional(),
  updatedAt: z.string().optional(),
});

const BIRD_CHANNELS: ReadonlyMap<string, StatusChannel> = new Map([
  ["sms.outbound", "sms"],
  ["whatsapp.outbound", "whatsapp"],
]);

function fromStatusReport(fields: Record<string, unknown>, context: StatusContext): ProviderEvent[] {
  // An inbound SMS forward (originator, body) has no status.
  if (fields.status === undefined) return [];
  const r = validate(StatusReport, fields, "messagebird", "status report");
  const type = TYPES.get(r.status);
  if (!type) return [];
  const user = userIdsFromReference(r.reference);
  return statusEvent({
    type,
    messageId: eventMessageId(user, r.id),
    address: internationalNumber(r.recipient),
    sender: null,
    channel: "sms",
    occurredAt: occurredAt(r.statusDatetime, context.now),
    campaign: user.campaign,
    providerEventId: `${r.id}:${r.recipient}:${r.status}`,
  });
}

function fromBird(event: string, payload: unknown, context: StatusContext): ProviderEvent[] {
  const channel = BIRD_CHANNELS.get(event);
  if (!channel) return [];
  const m = validate(BirdMessage, payload, "messagebird", `Bird ${event} payload`);
  const type = TYPES.get(m.status);
  if (!type || (m.direction !== undefined && m.direction !== "outgoing")) return [];
  const user = userIdsFromReference(m.reference);
  const sender = m.sender?.connector?.identifierValue;
  const at = occurredAt(m.lastStatusAt ?? m.updatedAt, context.now);
  return m.receiver.contacts.flatMap((contact, i) =>
    statusEvent({
      type,
      messageId: eventMessageId(user, m.id),
      address: internationalNumber(contact.identifierValue),
      sender: sender ? internationalNumber(sender) : null,
      channel,
      occurredAt: at,
      campaign: user.campaign,
      providerEventId: perRecipientId(`${m.id}:${m.status}`, i),
    }),
  );
}

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const read = webhookFields(request, "messagebird", "messagebird status report", "messagebird webhook body");
  if ("params" in read) return fromStatusReport(read.params, context);
  const fields = read.json;
  if (typeof fields.event === "string" || fields.service !== undefined) {
    return typeof fields.event === "string" ? fromBird(fields.event, fields.payload, context) : [];
  }
  // Conversations API events (message.created, message.updated) are not read.
  if (typeof fields.type === "string") return [];
  return fromStatusReport(fields, context);
}

export const messagebird: StatusCallbackAdapter = { parse };
