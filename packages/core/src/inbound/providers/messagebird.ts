/**
 * MessageBird and its successor Bird.
 *
 * Signatures, two generations:
 * - MessageBird `MessageBird-Signature-JWT` (read from messagebird-nodejs
 *   `lib/webhook-signature-jwt.js` and its reference vectors
 *   `lib/testdata/webhook-signature-jwt-reference.json`): an HS256/384/512 JWT signed with the
 *   signing key; issuer "MessageBird"; `nbf`/`exp` checked with 5 s leeway; `jti` present;
 *   `url_hash` = hex SHA-256 of the full request URL as sent; `payload_hash` = hex SHA-256 of
 *   the raw body, required when there is a body and refused when there is none.
 * - Bird `messagebird-signature` + `messagebird-request-timestamp` (Bird "Verifying a webhook
 *   subscription"): base64(HMAC-SHA256(signingKey, timestamp + "\n" + url + "\n" +
 *   SHA-256(raw body) as raw bytes)); the timestamp must be within 300 s of now.
 *
 * Payloads: Bird Channels `{ service: "channels", event: "sms.inbound", payload: { id,
 * sender: { contact: { identifierValue } }, receiver: { connector: { id, identifierValue? } },
 * body: { type: "text", text: { text } }, createdAt, channelId } }`; MessageBird Conversations
 * `{ type: "message.created", message: { id, platform: "sms", direction: "received", from, to,
 * content: { text }, createdDatetime } }`; legacy MessageBird SMS forward as GET query or POST
 * form (`id`, `originator`, `recipient`, `body`, `createdDatetime`).
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { numericClaim, payloadHashProblem, verifyHmacJwt } from "../jwt.ts";
import { internationalNumber, toInstant, validate, webhookFields } from "../payload.ts";
import {
  checkTimestamp,
  fail,
  header,
  ok,
  unixNow,
  type VerifyOptions,
  type VerifyResult,
  type WebhookRequest,
} from "../request.ts";
import {
  base64Encode,
  concatBytes,
  hex,
  hmac,
  matchesAny,
  sha256,
  timingSafeEqual,
  utf8,
} from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

/** The SDK's clock tolerance for nbf/exp. */
const JWT_LEEWAY_SECONDS = 5;

async function verifyJwt(
  request: WebhookRequest,
  token: string,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const jwt = await verifyHmacJwt(token.trim(), secret, ["HS256", "HS384", "HS512"]);
  if (!jwt.ok) return fail(jwt.reason);
  const c = jwt.claims;
  if (c.iss !== "MessageBird") return fail("JWT issuer is not MessageBird");
  const now = unixNow(options);
  const nbf = numericClaim(c, "nbf");
  const exp = numericClaim(c, "exp");
  if (nbf !== undefined && now + JWT_LEEWAY_SECONDS < nbf) return fail("JWT is not valid yet (nbf)");
  if (exp === undefined) return fail("JWT has no exp claim");
  if (now - JWT_LEEWAY_SECONDS >= exp) return fail("JWT has expired (exp)");
  if (typeof c.jti !== "string" || c.jti.length === 0) return fail("JWT has no jti claim");
  if (typeof c.url_hash !== "string") return fail("JWT has no url_hash claim");
  if (!timingSafeEqual(c.url_hash.toLowerCase(), hex(await sha256(request.url)))) {
    return fail("JWT url_hash does not match the request URL");
  }
  const payloadProblem = await payloadHashProblem(c, request.body);
  return payloadProblem ? fail(payloadProblem) : ok();
}

async function verifyBird(
  request: WebhookRequest,
  signature: string,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const timestamp = header(request, "messagebird-request-timestamp");
  const stale = checkTimestamp(timestamp, options, "messagebird-request-timestamp header");
  if (stale) return fail(stale);
  const signed = concatBytes(utf8(`${timestamp!.trim()}\n${request.url}\n`), await sha256(request.body));
  const expected = base64Encode(await hmac("SHA-256", secret, signed));
  return matchesAny(signature.trim(), [expected]) ? ok() : fail("messagebird-signature does not match");
}

async function verify(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const jwt = header(request, "messagebird-signature-jwt");
  if (jwt) return verifyJwt(request, jwt, secret, options);
  const bird = header(request, "messagebird-signature");
  if (bird) return verifyBird(request, bird, secret, options);
  return fail("missing MessageBird-Signature-JWT (or Bird messagebird-signature) header");
}

const BirdMessage = z.object({
  id: z.string().min(1),
  channelId: z.string().optional(),
  sender: z.object({ contact: z.object({ identifierValue: z.string().min(1) }) }),
  receiver: z
    .object({
      connector: z.object({ id: z.string().optional(), identifierValue: z.string().optional() }).optional(),
    })
    .optional(),
  body: z.object({ type: z.string(), text: z.object({ text: z.string() }).optional() }),
  createdAt: z.string().optional(),
});

const ConversationMessage = z.object({
  id: z.string().min(1),
  platform: z.string().optional(),
  direction: z.string().optional(),
  from: z.string().min(1),
  to: z.string().min(1),
  content: z.object({ text: z.string().optional() }),
  createdDatetime: z.string().optional(),
});

const LegacyForward = z.object({
  id: z.string().min(1),
  originator: z.string().min(1),
  recipient: z.string().min(1),
  body: z.string(),
  createdDatetime: z.string().optional(),
});

function fromJson(fields: Record<string, unknown>, context: ParseContext): InboundMessage[] {
  if (typeof fields.event === "string" || fields.service !== undefined) {
    if (fields.event !== "sms.inbound") return [];
    const m = validate(BirdMessage, fields.payload, "messagebird", "Bird sms.inbound payload");
    if (m.body.type !== "text" || !m.body.text) return [];
    const to = m.receiver?.connector?.identifierValue ?? m.channelId ?? m.receiver?.connector?.id;
    if (!to) throw new DomainError("invalid_input", "messagebird Bird payload names no receiver or channel");
    return [
      {
        provider: "messagebird",
        providerMessageId: m.id,
        from: internationalNumber(m.sender.contact.identifierValue),
        to: internationalNumber(to),
        text: m.body.text.text,
        receivedAt: toInstant(m.createdAt, context.now),
      },
    ];
  }
  if (typeof fields.type === "string") {
    if (fields.type !== "message.created") return [];
    const m = validate(ConversationMessage, fields.message, "messagebird", "Conversations message.created");
    if (m.direction !== undefined && m.direction !== "received") return [];
    if (m.platform !== undefined && m.platform !== "sms") return [];
    if (m.content.text === undefined) return [];
    return [
      {
        provider: "messagebird",
        providerMessageId: m.id,
        from: internationalNumber(m.from),
        to: internationalNumber(m.to),
        text: m.content.text,
        receivedAt: toInstant(m.createdDatetime, context.now),
      },
    ];
  }
  return fromLegacy(fields, context);
}

function fromLegacy(fields: Record<string, unknown>, context: ParseContext): InboundMessage[] {
  const m = validate(LegacyForward, fields, "messagebird", "inbound SMS forward");
  return [
    {
      provider: "messagebird",
      providerMessageId: m.id,
      from: internationalNumber(m.originator),
      to: internationalNumber(m.recipient),
      text: m.body,
      receivedAt: toInstant(m.createdDatetime, context.now),
    },
  ];
}

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const read = webhookFields(request, "messagebird", "messagebird webhook", "messagebird webhook body");
  return "params" in read ? fromLegacy(read.params, context) : fromJson(read.json, context);
}

export const messagebird: ProviderAdapter = { verify, parse };
