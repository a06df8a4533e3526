/**
 * Bandwidth Messaging API v2 message callbacks, authenticated like its inbound callbacks (HTTP
 * Basic).
 *
 * Payload (Bandwidth's messaging "Webhooks" reference): a JSON array of `{ type, time, to,
 * description, errorCode, message: { id, from, owner, direction, tag, time } }` with type
 * `message-sending` (MMS, when enabled), `message-delivered` or `message-failed`. `to` is the
 * recipient of this callback; `message.from` is the sender. The user's ids come from `tag`.
 *
 * Opt-out: error 4775, `destination-rejected-due-to-user-opt-out`, "Carrier rejected due to user
 * opt out: user has opted out of receiving messages from a particular sender" (Bandwidth's
 * messaging "Errors" reference). Error 4753 (a handset block, also used for prepaid accounts out of
 * money) and 4482 (destination on a blacklist, no reason given) are too broad to block on.
 */
import { z } from "zod";
import { parseJson, validate } from "../../inbound/payload.ts";
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

/** Bandwidth `errorCode`s that mean the recipient opted out of the sender. */
export const BANDWIDTH_OPT_OUT_ERRORS: ReadonlyMap<string, string> = new Map([
  ["4775", "destination-rejected-due-to-user-opt-out"],
]);

const OUTBOUND = new Set(["message-sending", "message-delivered", "message-failed"]);

const Event = z.object({ type: z.string() }).loose();
const Outbound = z.object({
  type: z.string(),
  time: z.string().optional(),
  to: z.string().min(1),
  errorCode: z.union([z.number(), z.string()]).nullable().optional(),
  message: z.object({
    id: z.string().min(1),
    from: z.string().min(1).optional(),
    owner: z.string().min(1).optional(),
    tag: z.string().nullable().optional(),
  }),
});

function parse(request: WebhookRequest, context: StatusContext): ProviderEvent[] {
  const json = parseJson(request.body, "bandwidth");
  const events = validate(z.array(Event), Array.isArray(json) ? json : [json], "bandwidth", "callback body");
  return events.flatMap((event, i): ProviderEvent[] => {
    // message-received is parseInbound's.
    if (!OUTBOUND.has(event.type)) return [];
    const e = validate(Outbound, event, "bandwidth", `event[${i}]`);
    const user = userIdsFromReference(e.message.tag);
    const at = occurredAt(e.time, context.now);
    const base = {
      messageId: eventMessageId(user, e.message.id),
      address: e.to,
      // For an outbound message `owner` is the from number too.
      sender: e.message.from ?? e.message.owner ?? null,
      channel: "sms" as const,
      occurredAt: at,
      campaign: user.campaign,
      providerEventId: `${e.message.id}:${e.type}:${e.to}`,
    };
    switch (e.type) {
      case "message-sending":
        return statusEvent({ ...base, type: "sent" });
      case "message-delivered":
        return statusEvent({ ...base, type: "delivered" });
      default: {
        const code = e.errorCode === null || e.errorCode === undefined ? "" : String(e.errorCode).trim();
        const meaning = BANDWIDTH_OPT_OUT_ERRORS.get(code);
        if (!meaning) return [];
        return messageOptOut(base, `bandwidth error ${code} (${meaning})`);
      }
    }
  });
}

export const bandwidth: StatusCallbackAdapter = { parse };
