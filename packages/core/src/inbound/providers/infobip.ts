/**
 * Infobip SMS.
 *
 * Authentication: Infobip's inbound-SMS forwarding and its Subscriptions API "security
 * settings" support HTTP Basic credentials (type BASIC, username/password), which is the
 * default here: the secret is "user:password", compared in constant time. The Subscriptions
 * API also offers type HMAC, but Infobip does not publish the header or the signed string. When
 * `options.algorithm` is `hmac-sha256` (or `hmac-sha1`, `hmac-sha512`) we check the convention
 * that integrations report — HMAC(secret, raw body) in `X-Hub-Signature` or
 * `X-Infobip-Signature`, hex or base64, optionally prefixed `sha256=` — and docs/providers.md
 * says to confirm it with Infobip before relying on it.
 *
 * Payload ("Receive inbound SMS messages" webhook, format MO_JSON_2): `{ results: [{ messageId,
 * from, to, text, cleanText, keyword, receivedAt, ... }], messageCount, pendingMessageCount }`.
 * `text` is the whole message; `cleanText` drops a keyword Infobip recognised — so a bare
 * "STOP" can arrive with `cleanText: ""`. We therefore classify `text`, and use `cleanText`
 * only when `text` is missing.
 */
import { z } from "zod";
import { verifyBasicAuth } from "../basic-auth.ts";
import { internationalNumber, parseJson, toInstant, validate } from "../payload.ts";
import { fail, header, ok, type VerifyOptions, type VerifyResult, type WebhookRequest } from "../request.ts";
import { base64Encode, type HmacHash, hex, hmac, matchesAny } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

const HMAC_HASHES: Record<string, HmacHash> = {
  "hmac-sha1": "SHA-1",
  "hmac-sha256": "SHA-256",
  "hmac-sha512": "SHA-512",
};

async function verifyHmac(request: WebhookRequest, secret: string, hash: HmacHash): Promise<VerifyResult> {
  const raw = header(request, "x-hub-signature") ?? header(request, "x-infobip-signature");
  if (!raw) return fail("missing X-Hub-Signature (or X-Infobip-Signature) header");
  const received = raw.trim().replace(/^sha(?:1|256|512)=/i, "");
  const mac = await hmac(hash, secret, request.body);
  return matchesAny(received.length === mac.length * 2 ? received.toLowerCase() : received, [
    hex(mac),
    base64Encode(mac),
  ])
    ? ok()
    : fail("Infobip HMAC signature does not match");
}

async function verify(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const algorithm = options.algorithm?.toLowerCase();
  if (algorithm && algorithm !== "basic") {
    const hash = HMAC_HASHES[algorithm];
    if (!hash)
      return fail(`unknown Infobip authentication "${options.algorithm}" (use basic or hmac-sha256)`);
    return verifyHmac(request, secret, hash);
  }
  return verifyBasicAuth(request, secret);
}

const Result = z.object({
  messageId: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  text: z.string().nullable().optional(),
  cleanText: z.string().nullable().optional(),
  receivedAt: z.string().nullable().optional(),
});

const Body = z.object({ results: z.array(z.record(z.string(), z.unknown())) });

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const body = validate(Body, parseJson(request.body, "infobip"), "infobip", "webhook body");
  const messages: InboundMessage[] = [];
  for (const [i, entry] of body.results.entries()) {
    // Delivery reports share the `results` envelope; they carry `status`, never text.
    if (entry.text === undefined && entry.cleanText === undefined) continue;
    const m = validate(Result, entry, "infobip", `results[${i}]`);
    messages.push({
      provider: "infobip",
      providerMessageId: m.messageId,
      from: internationalNumber(m.from),
      to: internationalNumber(m.to),
      text: m.text ?? m.cleanText ?? "",
      receivedAt: toInstant(m.receivedAt, context.now),
    });
  }
  return messages;
}

export const infobip: ProviderAdapter = { verify, parse };
