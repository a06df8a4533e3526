/**
 * Telnyx Messaging delivery webhooks, signed like its inbound webhooks (Ed25519 over
 * `timestamp|body`).
 *
 * Payload (Telnyx's "deliveryUpdate" callback reference and messaging error-code reference):
 * `{ data: { id, event_type: "message.sent" | "message.finalized", occurred_at, payload: { id,
 * from: { phone_number }, to: [{ phone_number, status }], errors: [{ code, title, detail }] } } }`.
 * A recipient's `status` in `message.finalized` is delivered, delivery_failed, sending_failed or
 * delivery_unconfirmed. Telnyx passes no custom metadata through, so events are keyed by its id.
 *
 * Opt-out: error 40300, "Blocked due to STOP message": the destination replied STOP (or STOPALL,
 * UNSUBSCRIBE, CANCEL, END, QUIT) to a number of the messaging profile, whose block rule refused
 * the send. Telnyx mostly answers the send request itself with it (HTTP 409); it is read wherever a
 * webhook carries it.
 */
import { z } from "zod";
import { parseJson, validate } from "../../inbound/payload.ts";
import type { WebhookRequest } from "../../inbound/request.ts";
import { occurredAt, perRecipientId } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import { messageOptOut, type StatusCallbackAdapter, type StatusContext, statusEvent } from "./shared.ts";

/** Telnyx messaging error codes that mean the recipient opted out of the sender. */
export const TELNYX_OPT_OUT_ERRORS: ReadonlyMap<string, string> = new Map([
  ["40300", "blocked due to STOP message"],
]);

const Envelope = z.object({
  data: z.object({
    id: z.string().min(1),
    event_type: z.string(),
    occurred_at: z.string().nullable().optional(),
    payload: z.unknown(),
  }),
});

const Message = z.object({
  id: z.string().min(1),
  from: z.object({ phone_number: z.string().min(1) }),
  to: z.array(z.object({ phone_number: z.string().min(1), status: z.string().nullable().optional() })).min(1),
  errors: z
    .array(
      z.object({ code: z.union([z.string(), z.number()]), title: z.string().nullable().optional() }).loose(),
    )
    .nullable()
    .optional(),
  sent_at: z.string().nullable().optional(),
  completed_at: z.string().nullable().optional(),
});

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const envelope = validate(Envelope, parseJson(request.body, "telnyx"), "telnyx", "webhook envelope");
  const kind = envelope.data.event_type;
  if (kind !== "message.sent" && kind !== "message.finalized") return [];
  const m = validate(Message, envelope.data.payload, "telnyx", `${kind} payload`);
  const at = occurredAt(envelope.data.occurred_at ?? m.completed_at ?? m.sent_at, context.now);
  const codes = (m.errors ?? []).map((e) => String(e.code).trim());
  const optOutCode = codes.find((c) => TELNYX_OPT_OUT_ERRORS.has(c));
  return m.to.flatMap((recipient, i): ProviderEvent[] => {
    const base = {
      messageId: m.id,
      address: recipient.phone_number,
      sender: m.from.phone_number,
      channel: "sms" as const,
      occurredAt: at,
      campaign: null,
      providerEventId: perRecipientId(envelope.data.id, i),
    };
    if (kind === "message.sent") return statusEvent({ ...base, type: "sent" });
    switch (recipient.status) {
      case "delivered":
        return statusEvent({ ...base, type: "delivered" });
      case "delivery_failed":
      case "sending_failed":
        if (optOutCode === undefined) return [];
        return messageOptOut(base, `telnyx error ${optOutCode} (${TELNYX_OPT_OUT_ERRORS.get(optOutCode)})`);
      default:
        return [];
    }
  });
}

export const telnyx: StatusCallbackAdapter = { parse };
