/**
 * Vonage (formerly Nexmo): the SMS API and the Messages API.
 *
 * SMS API signature (read from Vonage's "Signing messages" guide, vonage-python-sdk
 * `Client.signature`/`check_signature` and its test vector, and @vonage/auth
 * `createSignatureHash`): all request parameters except `sig`, sorted by key, each value with
 * `&` and `=` replaced by `_`, joined as `&key=value…`. "MD5 hash" (the dashboard default) is
 * hex MD5 of that string + the signature secret; the HMAC methods (MD5, SHA-1, SHA-256,
 * SHA-512) are hex HMAC(secret, string). The signed `timestamp` parameter bounds replays.
 * Which method applies is an account setting, passed as `options.algorithm`.
 *
 * Messages API signature ("Signed webhooks" guide): `Authorization: Bearer <JWT>`, HS256 with
 * the signature secret; `payload_hash` = hex SHA-256 of the raw body; `iat` bounds replays.
 *
 * Payloads: SMS API inbound as GET query, POST form or POST JSON (`msisdn`, `to`, `messageId`,
 * `text`, `message-timestamp`), delivery receipts (`status`, `err-code`) are not messages;
 * Messages API inbound JSON (`message_uuid`, `from`, `to`, `text`, `timestamp`, `channel`).
 */
import { z } from "zod";
import { numericClaim, payloadHashProblem, verifyHmacJwt } from "../jwt.ts";
import { hmacMd5, md5 } from "../md5.ts";
import { internationalNumber, toInstant, validate, webhookFields } from "../payload.ts";
import {
  checkTimestamp,
  fail,
  formPairs,
  header,
  isJsonBody,
  ok,
  parseUrl,
  tolerance,
  unixNow,
  type VerifyOptions,
  type VerifyResult,
  type WebhookRequest,
} from "../request.ts";
import { hex, hmac, timingSafeEqual } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

type SmsMethod = "md5hash" | "md5" | "sha1" | "sha256" | "sha512";

/** Accepts the dashboard's names and the SDKs' spellings (`md5hash`, `sha256hmac`, `SHA256`, ...). */
export function vonageSignatureMethod(algorithm: string | undefined): SmsMethod | null {
  const a = (algorithm ?? "md5hash").toLowerCase().replace(/[\s_-]/g, "");
  if (a === "md5hash") return "md5hash";
  // Everything else is an HMAC: "md5" means MD5 HMAC, as in the dashboard and vonage-python-sdk.
  const m = /^(?:hmac)?(md5|sha1|sha256|sha512)(?:hmac)?$/.exec(a);
  return m ? (m[1] as SmsMethod) : null;
}

/** The request's parameters as Vonage signs them: query for GET, else the form or JSON body. */
function requestParams(request: WebhookRequest): Record<string, string> | null {
  if (request.method.toUpperCase() === "GET") {
    const url = parseUrl(request.url);
    return url ? Object.fromEntries(url.searchParams) : null;
  }
  if (isJsonBody(request)) {
    let json: unknown;
    try {
      json = JSON.parse(request.body);
    } catch {
      return null;
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(json)) {
      if (v === null || v === undefined) continue;
      out[k] = typeof v === "object" ? JSON.stringify(v) : String(v);
    }
    return out;
  }
  return Object.fromEntries(formPairs(request.body));
}

export function vonageSignedString(params: Record<string, string>): string {
  let data = "";
  for (const key of Object.keys(params).sort()) {
    if (key === "sig") continue;
    data += `&${key}=${params[key]!.replace(/[&=]/g, "_")}`;
  }
  return data;
}

async function expectedSmsSignature(method: SmsMethod, secret: string, data: string): Promise<string> {
  switch (method) {
    case "md5hash":
      return hex(md5(data + secret));
    case "md5":
      return hex(hmacMd5(secret, data));
    case "sha1":
      return hex(await hmac("SHA-1", secret, data));
    case "sha256":
      return hex(await hmac("SHA-256", secret, data));
    case "sha512":
      return hex(await hmac("SHA-512", secret, data));
  }
}

async function verifySms(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const method = vonageSignatureMethod(options.algorithm);
  if (!method) return fail(`unknown Vonage signature method "${options.algorithm}"`);
  const params = requestParams(request);
  if (!params) return fail("request parameters could not be read");
  const sig = params.sig;
  if (!sig) return fail("missing sig parameter (signed webhooks are not enabled, or this is not Vonage)");
  const stale = checkTimestamp(params.timestamp, options, "timestamp parameter");
  if (stale) return fail(stale);
  const expected = await expectedSmsSignature(method, secret, vonageSignedString(params));
  // Vonage documents lower-case hex but some HMAC paths send upper-case: compare case-insensitively.
  return timingSafeEqual(sig.toLowerCase(), expected) ? ok() : fail("sig does not match");
}

async function verifyMessagesJwt(
  request: WebhookRequest,
  token: string,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const jwt = await verifyHmacJwt(token, secret, ["HS256"]);
  if (!jwt.ok) return fail(jwt.reason);
  const iat = numericClaim(jwt.claims, "iat");
  if (iat === undefined) return fail("JWT has no iat claim");
  if (Math.abs(unixNow(options) - iat) > tolerance(options)) {
    return fail(`JWT iat is outside the ${tolerance(options)} s window`);
  }
  const payloadProblem = await payloadHashProblem(jwt.claims, request.body);
  return payloadProblem ? fail(payloadProblem) : ok();
}

async function verify(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const authorization = header(request, "authorization");
  const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return verifyMessagesJwt(request, bearer[1]!, secret, options);
  return verifySms(request, secret, options);
}

const SmsInbound = z.object({
  msisdn: z.string().min(1),
  to: z.string().min(1),
  messageId: z.string().min(1),
  text: z.string(),
  "message-timestamp": z.string().optional(),
  timestamp: z.string().optional(),
});

const MessagesInbound = z.object({
  message_uuid: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  text: z.string(),
  timestamp: z.string().optional(),
});

function fromSmsParams(fields: Record<string, unknown>, context: ParseContext): InboundMessage[] {
  // Delivery receipts share the endpoint family but describe our outbound messages.
  if (fields.status !== undefined || fields["err-code"] !== undefined) return [];
  // Binary messages carry `data`/`udh`, no text to read.
  if (fields.type === "binary") return [];
  const m = validate(SmsInbound, fields, "vonage", "inbound SMS");
  return [
    {
      provider: "vonage",
      providerMessageId: m.messageId,
      from: internationalNumber(m.msisdn),
      to: internationalNumber(m.to),
      text: m.text,
      receivedAt: toInstant(m["message-timestamp"] ?? m.timestamp, context.now),
    },
  ];
}

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const read = webhookFields(request, "vonage", "vonage webhook", "vonage webhook body");
  if ("params" in read) return fromSmsParams(read.params, context);
  const fields = read.json;
  if (fields.message_uuid === undefined) {
    const stringly: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) stringly[k] = typeof v === "number" ? String(v) : v;
    return fromSmsParams(stringly, context);
  }
  // Messages API: status webhooks carry `status`; only inbound SMS text is a keyword candidate.
  if (fields.status !== undefined) return [];
  if (fields.channel !== undefined && fields.channel !== "sms") return [];
  if (fields.message_type !== undefined && fields.message_type !== "text") return [];
  const m = validate(MessagesInbound, fields, "vonage", "Messages API inbound message");
  return [
    {
      provider: "vonage",
      providerMessageId: m.message_uuid,
      from: internationalNumber(m.from),
      to: internationalNumber(m.to),
      text: m.text,
      receivedAt: toInstant(m.timestamp, context.now),
    },
  ];
}

export const vonage: ProviderAdapter = { verify, parse };
