/**
 * Infobip SMS delivery reports (the `notifyUrl` of a send, or a subscription's), authenticated like
 * its inbound webhooks (HTTP Basic).
 *
 * Payload (Infobip's "Receive outbound SMS message reports" webhook and "Response status and error
 * codes"): `{ results: [{ bulkId, messageId, to, sender?, sentAt, doneAt, callbackData, status:
 * { groupId, groupName, id, name }, error: { groupId, id, name, permanent } }] }`. Status group 3
 * (DELIVERED) is `DELIVERED_TO_HANDSET` (id 5) or `DELIVERED_TO_OPERATOR` (id 2). Reports name the
 * sender only in newer API versions (`sender`); otherwise the opt-out's sender is null. The user's
 * ids come from `callbackData`.
 *
 * Opt-out: status group 5 (REJECTED) id 14, `REJECTED_DESTINATION_BLOCKLISTED` (older docs:
 * `REJECTED_DESTINATION`): "the destination address has been blocklisted either at the operator's
 * request or on your account" — Infobip's blocklist, which its STOP keywords fill. Matched by
 * group and id, since Infobip renamed the status. `REJECTED_DND` (id 10, a national do-not-disturb
 * registry that blocks promotional traffic only) is deliberately not read as an opt-out.
 */
import { z } from "zod";
import { internationalNumber, parseJson, validate } from "../../inbound/payload.ts";
import type { WebhookRequest } from "../../inbound/request.ts";
import { occurredAt } from "../payload.ts";
import type { ProviderEvent } from "../types.ts";
import {
  eventMessageId,
  messageOptOut,
  type StatusCallbackAdapter,
  type StatusContext,
  statusEvent,
  userIdsFromReference,
} from "./shared.ts";

const DELIVERED_GROUP = 3;
const DELIVERED_TO_HANDSET = 5;
const REJECTED_GROUP = 5;

/** Status ids in the REJECTED group that mean the recipient is on a provider blocklist. */
export const INFOBIP_OPT_OUT_STATUSES: ReadonlyMap<number, string> = new Map([
  [14, "REJECTED_DESTINATION_BLOCKLISTED"],
]);

const Body = z.object({ results: z.array(z.record(z.string(), z.unknown())) });

const Report = z.object({
  messageId: z.string().min(1),
  to: z.string().min(1),
  sender: z.string().min(1).nullable().optional(),
  from: z.string().min(1).nullable().optional(),
  sentAt: z.string().nullable().optional(),
  doneAt: z.string().nullable().optional(),
  callbackData: z.string().nullable().optional(),
  status: z.object({ groupId: z.number().int(), id: z.number().int(), name: z.string().optional() }),
});

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const body = validate(Body, parseJson(request.body, "infobip"), "infobip", "webhook body");
  return body.results.flatMap((entry, i): ProviderEvent[] => {
    // Inbound messages share the `results` envelope; they carry text and no status.
    if (entry.status === undefined && (entry.text !== undefined || entry.cleanText !== undefined)) return [];
    const r = validate(Report, entry, "infobip", `results[${i}]`);
    const user = userIdsFromReference(r.callbackData);
    const sender = r.sender ?? r.from;
    const at = occurredAt(r.doneAt ?? r.sentAt, context.now);
    const base = {
      messageId: eventMessageId(user, r.messageId),
      address: internationalNumber(r.to),
      sender: sender ? internationalNumber(sender) : null,
      channel: "sms" as const,
      occurredAt: at,
      campaign: user.campaign,
      providerEventId: `${r.messageId}:${r.status.groupId}:${r.status.id}`,
    };
    if (r.status.groupId === DELIVERED_GROUP) {
      return statusEvent({ ...base, type: r.status.id === DELIVERED_TO_HANDSET ? "delivered" : "sent" });
    }
    const blocklisted = r.status.groupId === REJECTED_GROUP && INFOBIP_OPT_OUT_STATUSES.get(r.status.id);
    if (!blocklisted) return [];
    return messageOptOut(base, `infobip status ${r.status.id} (${blocklisted})`);
  });
}

export const infobip: StatusCallbackAdapter = { parse };
