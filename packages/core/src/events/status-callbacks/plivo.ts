/**
 * Plivo message status callbacks (the `url` given when sending, or the application's), signed like
 * its inbound webhooks (`X-Plivo-Signature-V3`).
 *
 * Payload (Plivo's "Message status callbacks" and "Error codes" pages): form fields `MessageUUID`,
 * `Status` (queued, sent, failed, delivered, undelivered, rejected), `From`, `To` (digits without
 * "+"), `ErrorCode`, and `ParentMessageUUID` for the parts of a long message (the id the send
 * returned). No event time is relied on: `occurredAt` is the time of receipt. Plivo's send API
 * passes no custom metadata through, so events are keyed by Plivo's message id.
 *
 * Opt-out: error 200, which Plivo's support article "Can I reply to customers who have opted out?"
 * documents as the code of messages blocked because the recipient replied STOP to the number.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { internationalNumber, validate } from "../../inbound/payload.ts";
import { formPairs, parseUrl, singleMap, type WebhookRequest } from "../../inbound/request.ts";
import { occurredAt } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import { messageOptOut, type StatusCallbackAdapter, type StatusContext, statusEvent } from "./shared.ts";

/** Plivo `ErrorCode`s that mean the recipient opted out of the sender. */
export const PLIVO_OPT_OUT_ERRORS: ReadonlyMap<string, string> = new Map([
  ["200", "destination opted out of messages from the source number (STOP)"],
]);

const Callback = z.object({
  MessageUUID: z.string().min(1),
  ParentMessageUUID: z.string().optional(),
  Status: z.string().min(1),
  From: z.string().min(1),
  To: z.string().min(1),
  ErrorCode: z.string().optional(),
});

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const source =
    request.method.toUpperCase() === "GET" ? (parseUrl(request.url)?.search.slice(1) ?? "") : request.body;
  const pairs = formPairs(source);
  if (pairs.length === 0)
    throw new DomainError("invalid_input", "plivo status callback carries no form parameters");
  const fields = singleMap(pairs);
  // Incoming messages carry Text and no Status.
  if (fields.Status === undefined) return [];
  const m = validate(Callback, fields, "plivo", "status callback");
  const at = occurredAt(undefined, context.now);
  const base = {
    messageId: m.ParentMessageUUID?.trim() || m.MessageUUID,
    address: internationalNumber(m.To),
    sender: internationalNumber(m.From),
    channel: "sms" as const,
    occurredAt: at,
    campaign: null,
    providerEventId: `${m.MessageUUID}:${m.Status}`,
  };
  switch (m.Status) {
    case "sent":
      return statusEvent({ ...base, type: "sent" });
    case "delivered":
      return statusEvent({ ...base, type: "delivered" });
    case "failed":
    case "undelivered":
    case "rejected": {
      const code = m.ErrorCode?.trim() ?? "";
      const meaning = PLIVO_OPT_OUT_ERRORS.get(code);
      if (!meaning) return [];
      return messageOptOut(base, `plivo error ${code} (${meaning})`, `${base.providerEventId}:${code}`);
    }
    default:
      return [];
  }
}

export const plivo: StatusCallbackAdapter = { parse };
