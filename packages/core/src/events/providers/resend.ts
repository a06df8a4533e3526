/**
 * Resend webhooks, delivered by Svix.
 *
 * Signature (Standard Webhooks, as svix/svix-webhooks `javascript/src/webhook.ts` and its
 * `standardwebhooks` core implement it; resend/resend-node `src/webhooks/webhooks.ts` delegates to
 * it): `svix-signature` holds space-separated `v1,<base64>` entries, each HMAC-SHA256 over
 * `${svix-id}.${svix-timestamp}.${raw body}` with the endpoint's secret (`whsec_` + base64 of the
 * key; the prefix is optional). During a key rotation several entries are sent and any may match.
 * `svix-timestamp` (unix s) is held to ±300 s, the libraries' tolerance. The unbranded
 * `webhook-id`/`-timestamp`/`-signature` headers are read too, as the Svix library does.
 *
 * Payload (Resend's "Webhooks" event pages; `src/webhooks/interfaces/webhook-event.interface.ts`):
 * `{ type, created_at, data }`; email events carry `data.email_id`, `from`, `to[]`, `tags` (an
 * object, or `[{ name, value }]` as the docs' table shows) and `bounce.type` on `email.bounced`.
 * Resend has no `contact.unsubscribed` event: a contact's `unsubscribed: true` on
 * `contact.created`/`contact.updated`, and `suppression.added`, are its opt-outs.
 */
import { z } from "zod";
import {
  checkTimestamp,
  fail,
  header,
  ok,
  type VerifyResult,
  type WebhookRequest,
} from "../../inbound/request.ts";
import { base64Decode, base64Encode, hmac, timingSafeEqual } from "../../inbound/signing.ts";
import {
  messageEvent,
  occurredAt,
  optOut,
  parseJson,
  perRecipientId,
  present,
  userIds,
  validate,
} from "../payload.ts";
import type { EventAdapter, EventParseContext, EventVerifyOptions, ProviderEvent } from "../types.ts";

function svixHeader(request: WebhookRequest, name: "id" | "timestamp" | "signature"): string | undefined {
  return header(request, `svix-${name}`) ?? header(request, `webhook-${name}`);
}

/** The HMAC key of a `whsec_…` secret (base64, padding optional), or null. */
export function signingKey(secret: string): Uint8Array | null {
  const b64 = secret.trim().replace(/^whsec_/, "");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const key = base64Decode(padded);
  return key && key.length > 0 ? key : null;
}

async function verify(
  request: WebhookRequest,
  secret: string,
  options: EventVerifyOptions,
): Promise<VerifyResult> {
  const id = svixHeader(request, "id");
  const timestamp = svixHeader(request, "timestamp");
  const signatures = svixHeader(request, "signature");
  if (!id) return fail("missing svix-id header");
  if (!signatures) return fail("missing svix-signature header");
  const stale = checkTimestamp(timestamp, options, "svix-timestamp header");
  if (stale) return fail(stale);
  const key = signingKey(secret);
  if (!key) return fail('configured Resend signing secret is not "whsec_" + base64');
  const expected = base64Encode(await hmac("SHA-256", key, `${id}.${timestamp!.trim()}.${request.body}`));
  let match = false;
  let v1 = 0;
  // Every v1 entry is compared (no early exit); other versions (v1a: asymmetric) are not ours.
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    v1++;
    match = timingSafeEqual(entry.slice(comma + 1), expected) || match;
  }
  if (v1 === 0) return fail("svix-signature has no v1 signature");
  return match ? ok() : fail("svix-signature does not match");
}

const Envelope = z.object({ type: z.string(), created_at: z.string().optional(), data: z.unknown() });

const EmailData = z.object({
  email_id: z.string().min(1),
  from: z.string().optional(),
  to: z.union([z.array(z.string()), z.string()]),
  created_at: z.string().optional(),
  tags: z.unknown().optional(),
  bounce: z.object({ type: z.string().optional() }).loose().optional(),
  click: z.object({ timestamp: z.string().optional() }).loose().optional(),
});

const ContactData = z.object({
  id: z.string().optional(),
  email: z.string().min(1),
  unsubscribed: z.boolean().optional(),
  updated_at: z.string().optional(),
});

const SuppressionData = z.object({
  id: z.string().optional(),
  email: z.string().min(1),
  origin: z.string().optional(),
  created_at: z.string().optional(),
});

const EMAIL_EVENTS = {
  "email.sent": "sent",
  "email.delivered": "delivered",
  "email.opened": "opened",
  "email.clicked": "clicked",
  "email.bounced": "bounced",
  "email.complained": "complained",
} as const;

function parse(request: WebhookRequest, context: EventParseContext): ProviderEvent[] {
  const envelope = validate(Envelope, parseJson(request.body, "resend"), "resend", "webhook body");
  const kind = envelope.type;
  // The delivery's id: the same on every retry of this event, different for every other event.
  const deliveryId = present(svixHeader(request, "id"));
  if (Object.hasOwn(EMAIL_EVENTS, kind)) {
    const type = EMAIL_EVENTS[kind as keyof typeof EMAIL_EVENTS];
    const d = validate(EmailData, envelope.data, "resend", `${kind} data`);
    // Resend's email.bounced is documented as permanent; a bounce typed otherwise is soft.
    if (type === "bounced" && d.bounce?.type !== undefined && d.bounce.type !== "Permanent") return [];
    const user = userIds(d.tags);
    const at = type === "clicked" ? (d.click?.timestamp ?? envelope.created_at) : envelope.created_at;
    const recipients = typeof d.to === "string" ? [d.to] : d.to;
    const eventId = deliveryId ?? `${kind}:${d.email_id}:${envelope.created_at ?? ""}`;
    return recipients.flatMap((address, i) =>
      messageEvent({
        type,
        messageId: user.messageId ?? d.email_id,
        address,
        sender: present(d.from),
        occurredAt: occurredAt(at, context.now),
        campaign: user.campaign,
        providerEventId: perRecipientId(eventId, i),
      }),
    );
  }
  if (kind === "contact.created" || kind === "contact.updated") {
    const d = validate(ContactData, envelope.data, "resend", `${kind} data`);
    if (d.unsubscribed !== true) return [];
    return optOut({
      address: d.email,
      occurredAt: occurredAt(d.updated_at ?? envelope.created_at, context.now),
      providerEventId: deliveryId ?? `${kind}:${d.id ?? "-"}:${d.updated_at ?? envelope.created_at ?? ""}`,
      reason: "resend contact unsubscribed",
      messageId: null,
    });
  }
  if (kind === "suppression.added") {
    const d = validate(SuppressionData, envelope.data, "resend", `${kind} data`);
    return optOut({
      address: d.email,
      occurredAt: occurredAt(d.created_at ?? envelope.created_at, context.now),
      providerEventId: deliveryId ?? `${kind}:${d.id ?? "-"}`,
      reason: `resend suppression${d.origin ? ` (${d.origin})` : ""}`,
      messageId: null,
    });
  }
  return [];
}

export const resend: EventAdapter = { verify, parse };
