/**
 * Sinch: the SMS REST API (XMS) and the Conversation API.
 *
 * Signature (Conversation API "Validating callbacks", sinch-sdk-python
 * `validate_webhook_signature`, Sinch .NET SDK `ValidateAuthenticationHeader` and its test
 * vector): `x-sinch-webhook-signature` = base64(HMAC(secret, `${raw body}.${nonce}.${timestamp}`))
 * with `x-sinch-webhook-signature-nonce`, `x-sinch-webhook-signature-timestamp` (unix seconds)
 * and `x-sinch-webhook-signature-algorithm` (HmacSHA256 unless it says otherwise). The
 * timestamp must be within 300 s of now.
 * The SMS REST API's own callbacks are not HMAC-signed: Sinch provisions them with Basic
 * credentials (its "Webhooks" reference), so a request without the signature headers is
 * accepted only with `Authorization: Basic` matching a "user:password" secret.
 *
 * Payloads: XMS `{ type: "mo_text", id, from, to, body, received_at }` (delivery reports and
 * binary/media MOs are not text messages); Conversation API
 * `{ app_id, message: { id, direction: "TO_APP", channel_identity: { channel: "SMS", identity },
 * contact_message: { text_message: { text } }, accept_time } }`.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { verifyBasicAuth } from "../basic-auth.ts";
import { internationalNumber, parseJson, toInstant, validate } from "../payload.ts";
import {
  checkTimestamp,
  fail,
  header,
  ok,
  type VerifyOptions,
  type VerifyResult,
  type WebhookRequest,
} from "../request.ts";
import { base64Encode, type HmacHash, hmac, matchesAny } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

const ALGORITHMS: Record<string, HmacHash> = {
  hmacsha256: "SHA-256",
  hmacsha384: "SHA-384",
  hmacsha512: "SHA-512",
};

async function verify(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const signature = header(request, "x-sinch-webhook-signature");
  if (!signature) {
    if (header(request, "authorization")) return verifyBasicAuth(request, secret);
    return fail("missing x-sinch-webhook-signature header (or Basic credentials)");
  }
  const nonce = header(request, "x-sinch-webhook-signature-nonce");
  const timestamp = header(request, "x-sinch-webhook-signature-timestamp");
  if (!nonce) return fail("missing x-sinch-webhook-signature-nonce header");
  const stale = checkTimestamp(timestamp, options, "x-sinch-webhook-signature-timestamp header");
  if (stale) return fail(stale);
  const algorithm = (header(request, "x-sinch-webhook-signature-algorithm") ?? "HmacSHA256").toLowerCase();
  const hash = ALGORITHMS[algorithm];
  if (!hash) return fail(`unsupported x-sinch-webhook-signature-algorithm ${algorithm}`);
  const expected = base64Encode(await hmac(hash, secret, `${request.body}.${nonce}.${timestamp!.trim()}`));
  return matchesAny(signature.trim(), [expected]) ? ok() : fail("x-sinch-webhook-signature does not match");
}

const MoText = z.object({
  type: z.literal("mo_text"),
  id: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  body: z.string(),
  received_at: z.string().optional(),
});

const ConversationInbound = z.object({
  app_id: z.string().optional(),
  accepted_time: z.string().optional(),
  message: z.object({
    id: z.string().min(1),
    direction: z.string().optional(),
    channel_identity: z.object({
      channel: z.string(),
      identity: z.string().min(1),
      app_id: z.string().optional(),
    }),
    contact_message: z.object({ text_message: z.object({ text: z.string() }).optional() }).passthrough(),
    sender_id: z.string().optional(),
    accept_time: z.string().optional(),
  }),
});

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const json = parseJson(request.body, "sinch");
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new DomainError("invalid_input", "sinch webhook body is not a JSON object");
  }
  const fields = json as Record<string, unknown>;

  if (typeof fields.type === "string") {
    // XMS callbacks: delivery reports and non-text MOs (mo_binary, mo_media) are not keyword candidates.
    if (fields.type !== "mo_text") return [];
    const m = validate(MoText, fields, "sinch", "mo_text callback");
    return [
      {
        provider: "sinch",
        providerMessageId: m.id,
        from: internationalNumber(m.from),
        to: internationalNumber(m.to),
        text: m.body,
        receivedAt: toInstant(m.received_at, context.now),
      },
    ];
  }

  if (fields.app_id !== undefined || fields.project_id !== undefined) {
    // Conversation API: only inbound contact text messages on the SMS channel.
    if (fields.message === undefined) return [];
    const c = validate(ConversationInbound, fields, "sinch", "Conversation API inbound message");
    const m = c.message;
    if (m.direction !== undefined && m.direction !== "TO_APP") return [];
    if (m.channel_identity.channel.toUpperCase() !== "SMS" || !m.contact_message.text_message) return [];
    const to = m.sender_id ?? c.app_id ?? m.channel_identity.app_id;
    if (!to) throw new DomainError("invalid_input", "sinch Conversation API message names no app or sender");
    return [
      {
        provider: "sinch",
        providerMessageId: m.id,
        from: internationalNumber(m.channel_identity.identity),
        to: internationalNumber(to),
        text: m.contact_message.text_message.text,
        receivedAt: toInstant(m.accept_time ?? c.accepted_time, context.now),
      },
    ];
  }
  throw new DomainError(
    "invalid_input",
    "sinch webhook body is neither an SMS API nor a Conversation API callback",
  );
}

export const sinch: ProviderAdapter = { verify, parse };
