/**
 * Sinch SMS REST API (XMS) delivery reports (`callback_url` of a batch, or the service's),
 * authenticated like its inbound callbacks (HTTP Basic provisioned by Sinch).
 *
 * Payload (Sinch's "Delivery reports" reference): a per-batch report `{ type:
 * "delivery_report_sms", batch_id, statuses: [{ code, status, count, recipients? }],
 * client_reference }` (recipients listed when the batch asked for `full` reports) or a
 * per-recipient report `{ type: "recipient_delivery_report_sms", batch_id, recipient, code, status,
 * at, operator_status_at, client_reference, applied_originator }`; the `_mms` types likewise.
 * Statuses: Queued, Dispatched, Aborted, Cancelled, Rejected, Deleted, Delivered, Failed, Expired,
 * Unknown. The message id is the batch id; the user's ids come from `client_reference`.
 *
 * Opt-out: none. Sinch's delivery-report codes (4xx REST codes, SMPP and MMS codes) have no code
 * meaning "the recipient opted out"; its `Deleted` status "may happen if the destination is an
 * invalid MSISDN or opted out subscriber", which is too ambiguous to block on. Conversation API
 * delivery reports are not read.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { internationalNumber, parseJson, validate } from "../../inbound/payload.ts";
import type { WebhookRequest } from "../../inbound/request.ts";
import { occurredAt } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import {
  eventMessageId,
  type StatusCallbackAdapter,
  type StatusContext,
  statusEvent,
  userIdsFromReference,
} from "./shared.ts";

const BATCH_REPORTS = new Set(["delivery_report_sms", "delivery_report_mms"]);
const RECIPIENT_REPORTS = new Set(["recipient_delivery_report_sms", "recipient_delivery_report_mms"]);

const BatchReport = z.object({
  batch_id: z.string().min(1),
  client_reference: z.string().nullable().optional(),
  statuses: z.array(
    z.object({
      code: z.number().int().optional(),
      status: z.string(),
      recipients: z.array(z.string().min(1)).optional(),
    }),
  ),
});

const RecipientReport = z.object({
  batch_id: z.string().min(1),
  recipient: z.string().min(1),
  code: z.number().int().optional(),
  status: z.string(),
  at: z.string().nullable().optional(),
  operator_status_at: z.string().nullable().optional(),
  client_reference: z.string().nullable().optional(),
  applied_originator: z.string().nullable().optional(),
});

const TYPES: ReadonlyMap<string, "sent" | "delivered"> = new Map([
  ["Dispatched", "sent"],
  ["Delivered", "delivered"],
]);

interface Row {
  batchId: string;
  recipient: string;
  status: string;
  at: string | null | undefined;
  reference: string | null | undefined;
  sender: string | null | undefined;
}

function events(row: Row, context: StatusContext): ProviderEvent[] {
  const type = TYPES.get(row.status);
  if (!type) return [];
  const user = userIdsFromReference(row.reference);
  const address = internationalNumber(row.recipient);
  return statusEvent({
    type,
    messageId: eventMessageId(user, row.batchId),
    address,
    sender: row.sender ? internationalNumber(row.sender) : null,
    channel: "sms",
    occurredAt: occurredAt(row.at, context.now),
    campaign: user.campaign,
    providerEventId: `${row.batchId}:${address}:${row.status}`,
  });
}

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const json = parseJson(request.body, "sinch");
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new DomainError("invalid_input", "sinch webhook body is not a JSON object");
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== "string") return [];
  if (RECIPIENT_REPORTS.has(type)) {
    const r = validate(RecipientReport, json, "sinch", `${type} callback`);
    return events(
      {
        batchId: r.batch_id,
        recipient: r.recipient,
        status: r.status,
        at: r.operator_status_at ?? r.at,
        reference: r.client_reference,
        sender: r.applied_originator,
      },
      context,
    );
  }
  if (BATCH_REPORTS.has(type)) {
    const r = validate(BatchReport, json, "sinch", `${type} callback`);
    return r.statuses.flatMap((s) =>
      (s.recipients ?? []).flatMap((recipient) =>
        events(
          {
            batchId: r.batch_id,
            recipient,
            status: s.status,
            at: undefined,
            reference: r.client_reference,
            sender: null,
          },
          context,
        ),
      ),
    );
  }
  // mo_text, mo_binary, …: inbound messages are parseInbound's.
  return [];
}

export const sinch: StatusCallbackAdapter = { parse };
