/**
 * WhatsApp (Meta's Cloud API) statuses and marketing preferences, in the same webhook as inbound
 * messages and signed the same way (`X-Hub-Signature-256`).
 *
 * Payload (Meta's "status messages webhook reference" and "user_preferences webhook reference"):
 * `messages` changes carry `statuses: [{ id, status: sent | delivered | read | failed, timestamp,
 * recipient_id, biz_opaque_callback_data?, errors?: [{ code, title, error_data: { details } }] }]`
 * next to `metadata.display_phone_number` (the business number, the sender); `user_preferences`
 * changes carry `user_preferences: [{ wa_id, category: "marketing_messages", value: "stop" |
 * "resume", detail, timestamp }]`. The user's ids come from `biz_opaque_callback_data` (set when
 * sending, echoed in statuses).
 *
 * `read` is read as `opened`. A failure is an opt-out only for error 131050, "This recipient has
 * chosen to stop receiving marketing messages on WhatsApp from your business"; a user's "stop"
 * of marketing messages is one too. Both are Meta's per-business-number marketing preference;
 * optout blocks the WhatsApp channel from that sender. A "resume" is never read (only an opt-in
 * through optout itself lifts a block).
 */
import { z } from "zod";
import { validate } from "../../inbound/payload.ts";
import { WhatsAppMetadata, whatsappChanges, whatsappNumber } from "../../inbound/providers/whatsapp.ts";
import type { WebhookRequest } from "../../inbound/request.ts";
import { occurredAt } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import {
  carrierOptOut,
  eventMessageId,
  messageOptOut,
  type StatusCallbackAdapter,
  type StatusContext,
  statusEvent,
  userIdsFromReference,
} from "./shared.ts";

/** Meta error codes that mean the recipient opted out of the business number's messages. */
export const WHATSAPP_OPT_OUT_ERRORS: ReadonlyMap<string, string> = new Map([
  ["131050", "user has stopped marketing messages from this business"],
]);

const TYPES: ReadonlyMap<string, "sent" | "delivered" | "opened"> = new Map([
  ["sent", "sent"],
  ["delivered", "delivered"],
  ["read", "opened"],
]);

const Status = z.object({
  id: z.string().min(1),
  status: z.string(),
  timestamp: z.union([z.string(), z.number()]).optional(),
  recipient_id: z.string().min(1),
  biz_opaque_callback_data: z.string().nullable().optional(),
  errors: z
    .array(z.object({ code: z.union([z.number(), z.string()]), title: z.string().optional() }).loose())
    .optional(),
});

const StatusesValue = z.object({
  metadata: WhatsAppMetadata,
  statuses: z.array(z.unknown()).optional(),
});

const Preference = z.object({
  wa_id: z.string().min(1).optional(),
  category: z.string(),
  value: z.string(),
  detail: z.string().optional(),
  timestamp: z.union([z.string(), z.number()]).optional(),
});

const PreferencesValue = z.object({
  metadata: WhatsAppMetadata,
  contacts: z.array(z.object({ wa_id: z.string().optional() }).loose()).optional(),
  user_preferences: z.array(z.unknown()),
});

function fromStatuses(value: unknown, path: string, context: StatusContext): ProviderEvent[] {
  const v = validate(StatusesValue, value, "whatsapp", `${path}.value`);
  const sender = whatsappNumber(v.metadata.display_phone_number);
  return (v.statuses ?? []).flatMap((raw, k): ProviderEvent[] => {
    const s = validate(Status, raw, "whatsapp", `${path}.value.statuses[${k}]`);
    const user = userIdsFromReference(s.biz_opaque_callback_data);
    const at = occurredAt(s.timestamp, context.now);
    const base = {
      messageId: eventMessageId(user, s.id),
      address: whatsappNumber(s.recipient_id),
      sender,
      channel: "whatsapp" as const,
      occurredAt: at,
      campaign: user.campaign,
      providerEventId: `${s.id}:${s.status}`,
    };
    const type = TYPES.get(s.status);
    if (type) return statusEvent({ ...base, type });
    if (s.status !== "failed") return [];
    const code = (s.errors ?? [])
      .map((e) => String(e.code).trim())
      .find((c) => WHATSAPP_OPT_OUT_ERRORS.has(c));
    if (code === undefined) return [];
    return messageOptOut(
      base,
      `whatsapp error ${code} (${WHATSAPP_OPT_OUT_ERRORS.get(code)})`,
      `${base.providerEventId}:${code}`,
    );
  });
}

function fromPreferences(value: unknown, path: string, context: StatusContext): ProviderEvent[] {
  const v = validate(PreferencesValue, value, "whatsapp", `${path}.value`);
  const sender = whatsappNumber(v.metadata.display_phone_number);
  const contacts = v.contacts ?? [];
  return v.user_preferences.flatMap((raw, k): ProviderEvent[] => {
    const where = `${path}.value.user_preferences[${k}]`;
    const p = validate(Preference, raw, "whatsapp", where);
    if (p.category !== "marketing_messages" || p.value !== "stop") return [];
    const waId = p.wa_id ?? (contacts.length === 1 ? contacts[0]!.wa_id : undefined);
    // A preference that names no one cannot block anyone.
    if (!waId) return [];
    const address = whatsappNumber(waId);
    const at = occurredAt(p.timestamp, context.now);
    return carrierOptOut({
      address,
      sender,
      channel: "whatsapp",
      occurredAt: at,
      providerEventId: `user_preferences:${sender}:${address}:${p.timestamp ?? at}`,
      reason: `whatsapp marketing messages stopped${p.detail ? ` (${p.detail})` : ""}`,
      messageId: null,
    });
  });
}

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  return whatsappChanges(request.body).flatMap((change) => {
    switch (change.field) {
      case "messages":
        return fromStatuses(change.value, change.path, context);
      case "user_preferences":
        return fromPreferences(change.value, change.path, context);
      default:
        return [];
    }
  });
}

export const whatsapp: StatusCallbackAdapter = { parse };
