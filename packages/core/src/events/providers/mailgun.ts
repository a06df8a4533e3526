/**
 * Mailgun webhooks (JSON, the current format).
 *
 * Signature (Mailgun's "Securing Webhooks"; mailgun/mailgun-php `src/Api/Webhook.php` and
 * mailgun/mailgun-go `webhooks.go`): the body's `signature` object holds `timestamp`, a random
 * `token` and `signature` = hex HMAC-SHA256(webhook signing key, timestamp + token). Subaccount
 * events add `parent-signature`, the same HMAC under the primary account's key; either may match
 * the configured key. The timestamp is held to ±300 s. The HMAC does NOT cover `event-data`:
 * Mailgun recommends remembering tokens to refuse a replayed signature, which is the edge's to do
 * (core keeps no state).
 *
 * Payload (Mailgun's "Webhook Payloads" and `events/events.go` in mailgun-go): `event-data` with
 * `event`, `id`, `timestamp` (unix s, fractional), `recipient`, `message.headers["message-id"]`,
 * `message.headers.from`, `severity`/`reason` on `failed`, and `user-variables` (the `v:` variables
 * of the message).
 */
import { z } from "zod";
import { checkTimestamp, fail, ok, type VerifyResult, type WebhookRequest } from "../../inbound/request.ts";
import { hex, hmac, timingSafeEqual } from "../../inbound/signing.ts";
import { messageEvent, occurredAt, optOut, parseJson, present, userIds, validate } from "../payload.ts";
import type { EventAdapter, EventParseContext, EventVerifyOptions, ProviderEvent } from "../types.ts";

const Signature = z.object({
  signature: z.object({
    timestamp: z.union([z.string(), z.number().int().nonnegative()]),
    token: z.string().min(1),
    signature: z.string().min(1),
    "parent-signature": z.string().min(1).optional(),
  }),
});

async function verify(
  request: WebhookRequest,
  secret: string,
  options: EventVerifyOptions,
): Promise<VerifyResult> {
  let json: unknown;
  try {
    json = JSON.parse(request.body);
  } catch {
    return fail("body is not JSON (Mailgun's form-encoded legacy webhooks are not supported)");
  }
  const parsed = Signature.safeParse(json);
  if (!parsed.success) return fail("body has no signature object with timestamp, token and signature");
  const signed = parsed.data.signature;
  const timestamp = String(signed.timestamp);
  const stale = checkTimestamp(timestamp, options, "signature.timestamp");
  if (stale) return fail(stale);
  const expected = hex(await hmac("SHA-256", secret, timestamp + signed.token));
  const parent = signed["parent-signature"];
  // Both compared, in constant time, whichever matches.
  const own = timingSafeEqual(signed.signature.toLowerCase(), expected);
  const viaParent = parent !== undefined && timingSafeEqual(parent.toLowerCase(), expected);
  return own || viaParent ? ok() : fail("signature.signature does not match");
}

/**
 * The `signature.token` of a Mailgun webhook body, or null. Mailgun's HMAC covers the timestamp and
 * this token, not `event-data`: the edge remembers each token with the body it came with and
 * refuses the same token with another body (a replay with forged events).
 */
export function mailgunSignatureToken(body: string): string | null {
  try {
    const parsed = Signature.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.signature.token : null;
  } catch {
    return null;
  }
}

const Envelope = z.object({ "event-data": z.object({ event: z.string() }).loose() });

const EventData = z.object({
  event: z.string(),
  id: z.string().min(1),
  timestamp: z.union([z.number(), z.string()]).optional(),
  recipient: z.string().min(1),
  severity: z.string().optional(),
  reason: z.string().optional(),
  message: z
    .object({
      headers: z.object({ "message-id": z.string().optional(), from: z.string().optional() }).optional(),
    })
    .optional(),
  envelope: z.object({ sender: z.string().optional() }).optional(),
  "user-variables": z.unknown().optional(),
});

/**
 * Permanent failures that are not bounces: sends Mailgun dropped because the address had
 * unsubscribed or complained before, and messages that gave up after temporary failures ("old").
 */
const NOT_A_BOUNCE = new Set(["suppress-unsubscribe", "suppress-complaint", "old"]);

const READ = new Set(["accepted", "delivered", "opened", "clicked", "failed", "complained", "unsubscribed"]);

function parse(request: WebhookRequest, context: EventParseContext): ProviderEvent[] {
  const envelope = validate(Envelope, parseJson(request.body, "mailgun"), "mailgun", "webhook body");
  const kind = envelope["event-data"].event;
  if (!READ.has(kind)) return [];
  const e = validate(EventData, envelope["event-data"], "mailgun", `${kind} event-data`);
  const user = userIds(e["user-variables"]);
  // Mailgun's send API answers `<id@domain>`; events carry the same id without the brackets.
  const providerMessageId = present(e.message?.headers?.["message-id"]?.replace(/^<|>$/g, ""));
  const messageId = user.messageId ?? providerMessageId;
  const at = occurredAt(e.timestamp, context.now);
  const base = {
    messageId,
    address: e.recipient,
    sender: present(e.message?.headers?.from) ?? present(e.envelope?.sender),
    occurredAt: at,
    campaign: user.campaign,
    providerEventId: e.id,
  };
  switch (kind) {
    case "accepted":
      return messageEvent({ ...base, type: "sent" });
    case "delivered":
      return messageEvent({ ...base, type: "delivered" });
    case "opened":
      return messageEvent({ ...base, type: "opened" });
    case "clicked":
      return messageEvent({ ...base, type: "clicked" });
    case "failed":
      // severity "temporary" is a soft bounce Mailgun will retry.
      return e.severity === "permanent" && !NOT_A_BOUNCE.has(e.reason ?? "")
        ? messageEvent({ ...base, type: "bounced" })
        : [];
    case "complained":
      return messageEvent({ ...base, type: "complained" });
    case "unsubscribed":
      return optOut({
        address: e.recipient,
        occurredAt: at,
        providerEventId: e.id,
        reason: "mailgun unsubscribe",
        messageId,
      });
    default:
      return [];
  }
}

export const mailgun: EventAdapter = { verify, parse };
