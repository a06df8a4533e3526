/**
 * Twilio SendGrid Event Webhook.
 *
 * Signature (read from sendgrid/sendgrid-nodejs `packages/eventwebhook/src/eventwebhook.js` and
 * SendGrid's "Getting Started with the Event Webhook Security Features"): ECDSA P-256 with SHA-256
 * over `X-Twilio-Email-Event-Webhook-Timestamp` + the raw body, base64 of a DER signature in
 * `X-Twilio-Email-Event-Webhook-Signature`, checked with the "Signed Event Webhook" verification
 * key (base64 SubjectPublicKeyInfo, or PEM). WebCrypto verifies the IEEE P1363 form, so the DER
 * signature is converted. SendGrid documents no replay window; the signed timestamp is held to
 * the usual 300 s either way.
 *
 * Payload (SendGrid's "Event Webhook Reference"): a JSON array of events, each with `event`,
 * `email`, `timestamp` (unix s), `sg_event_id`, `sg_message_id` (per recipient; absent on
 * asynchronous bounces), and the message's custom arguments as top-level keys.
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
import { base64Decode, utf8 } from "../../inbound/signing.ts";
import { ecdsaDerToP1363, pemBlock } from "../der.ts";
import { messageEvent, occurredAt, optOut, parseJson, present, userIds, validate } from "../payload.ts";
import type { EventAdapter, EventParseContext, EventVerifyOptions, ProviderEvent } from "../types.ts";

const SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature";
const TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp";

/** The verification key as DER SPKI: PEM as shown by some tools, or the bare base64 SendGrid's app shows. */
export function verificationKey(secret: string): Uint8Array | null {
  const text = secret.trim();
  if (text.includes("-----BEGIN")) return pemBlock(text, "PUBLIC KEY");
  return base64Decode(text.replace(/\s+/g, ""));
}

function p1363Signature(signature: string): Uint8Array | null {
  const der = base64Decode(signature.trim());
  if (!der) return null;
  try {
    return ecdsaDerToP1363(der, 32);
  } catch {
    return null;
  }
}

async function verify(
  request: WebhookRequest,
  secret: string,
  options: EventVerifyOptions,
): Promise<VerifyResult> {
  const signature = header(request, SIGNATURE_HEADER);
  if (!signature) return fail(`missing ${SIGNATURE_HEADER} header`);
  const timestamp = header(request, TIMESTAMP_HEADER);
  const stale = checkTimestamp(timestamp, options, `${TIMESTAMP_HEADER} header`);
  if (stale) return fail(stale);
  const sig = p1363Signature(signature);
  if (!sig) return fail(`${SIGNATURE_HEADER} is not a base64 DER ECDSA signature`);
  const spki = verificationKey(secret);
  if (!spki) return fail("configured SendGrid verification key is not base64 or PEM");
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "spki",
      spki as Uint8Array<ArrayBuffer>,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
  } catch {
    return fail("configured SendGrid verification key is not a P-256 public key");
  }
  const valid = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    sig as Uint8Array<ArrayBuffer>,
    utf8(timestamp!.trim() + request.body) as Uint8Array<ArrayBuffer>,
  );
  return valid ? ok() : fail(`${SIGNATURE_HEADER} does not match`);
}

const Kind = z.object({ event: z.string() });

const SendGridEvent = z.object({
  event: z.string(),
  email: z.string().min(1),
  timestamp: z.union([z.number(), z.string()]).optional(),
  sg_event_id: z.string().optional(),
  sg_message_id: z.string().optional(),
  /** `bounce` events: `bounce` (permanent) or `blocked` (temporary). */
  type: z.string().optional(),
  /** Opens fetched by a machine (Apple Mail Privacy Protection), not by the reader. */
  sg_machine_open: z.boolean().optional(),
  asm_group_id: z.number().optional(),
  unique_args: z.unknown().optional(),
});

const READ = new Set([
  "processed",
  "delivered",
  "open",
  "click",
  "bounce",
  "spamreport",
  "unsubscribe",
  "group_unsubscribe",
]);

function toEvents(raw: unknown, index: number, context: EventParseContext): ProviderEvent[] {
  const { event: kind } = validate(Kind, raw, "sendgrid", `event ${index}`);
  if (!READ.has(kind)) return [];
  const e = validate(SendGridEvent, raw, "sendgrid", `${kind} event ${index}`);
  // Custom arguments arrive as top-level keys (older integrations nest them in unique_args).
  const user = userIds(raw, e.unique_args);
  const providerMessageId = present(e.sg_message_id);
  const at = occurredAt(e.timestamp, context.now);
  const providerEventId =
    present(e.sg_event_id) ?? `${providerMessageId ?? "-"}:${kind}:${e.timestamp ?? ""}:${index}`;
  const base = {
    messageId: user.messageId ?? providerMessageId,
    address: e.email,
    // SendGrid's events do not say which From address the message had.
    sender: null,
    occurredAt: at,
    campaign: user.campaign,
    providerEventId,
  };
  switch (kind) {
    case "processed":
      return messageEvent({ ...base, type: "sent" });
    case "delivered":
      return messageEvent({ ...base, type: "delivered" });
    case "open":
      return e.sg_machine_open === true ? [] : messageEvent({ ...base, type: "opened" });
    case "click":
      return messageEvent({ ...base, type: "clicked" });
    case "bounce":
      // "Blocked" is SendGrid's temporary refusal; only a bounce proper is permanent.
      return e.type === undefined || e.type === "bounce" ? messageEvent({ ...base, type: "bounced" }) : [];
    case "spamreport":
      return messageEvent({ ...base, type: "complained" });
    case "unsubscribe":
    case "group_unsubscribe":
      return optOut({
        address: e.email,
        occurredAt: at,
        providerEventId,
        reason:
          kind === "unsubscribe"
            ? "sendgrid unsubscribe"
            : `sendgrid group unsubscribe${e.asm_group_id === undefined ? "" : ` (group ${e.asm_group_id})`}`,
        messageId: base.messageId,
      });
    default:
      return [];
  }
}

function parse(request: WebhookRequest, context: EventParseContext): ProviderEvent[] {
  const json = parseJson(request.body, "sendgrid");
  const items = Array.isArray(json) ? json : [json];
  return items.flatMap((item, index) => toEvents(item, index, context));
}

export const sendgrid: EventAdapter = { verify, parse };
