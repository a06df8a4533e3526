/**
 * Plivo Messaging.
 *
 * Signature V3 (read from plivo-node `lib/utils/v3Security.js` and plivo-python
 * `utils/signature_v3`): base64(HMAC-SHA256(authToken, base + "." + nonce)) where, for a POST,
 * base = scheme://host[:port]/path + "?" + sorted query (`k=v` joined by `&`) + ("." when there
 * is a query) + Σ sorted(key + value) of the form parameters, and for a GET base = the URL with
 * its query sorted. `X-Plivo-Signature-V3` may carry several comma-separated signatures (key
 * rotation); `X-Plivo-Signature-Ma-V3` is the same signed with the main account's token.
 * Fallback V2 (plivo-node `lib/utils/security.js`): `X-Plivo-Signature-V2` =
 * base64(HMAC-SHA256(authToken, scheme://host/path + nonce)) with `X-Plivo-Signature-V2-Nonce`.
 *
 * Payload: form fields `From`, `To`, `Text`, `Type`, `MessageUUID` (numbers without "+").
 * Delivery reports carry `Status` and no `Text`.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { internationalNumber, toInstant, validate } from "../payload.ts";
import {
  fail,
  formPairs,
  header,
  multiMap,
  ok,
  parseUrl,
  singleMap,
  type VerifyResult,
  type WebhookRequest,
} from "../request.ts";
import { base64Encode, hmac, matchesAny } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

function sortedValues(map: Map<string, string[]>): Array<[string, string[]]> {
  return [...map.keys()].sort().map((k) => [k, [...(map.get(k) ?? [])].sort()]);
}

/** The string Plivo's V3 scheme signs, before `.nonce`. */
export function plivoV3Base(method: string, url: URL, formBody: string): string {
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  const query = sortedValues(multiMap([...url.searchParams]))
    .flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`))
    .join("&");
  if (method.toUpperCase() === "GET") return query.length > 0 ? `${base}?${query}` : base;
  const params = sortedValues(multiMap(formPairs(formBody)))
    .flatMap(([k, vs]) => vs.map((v) => k + v))
    .join("");
  if (params.length === 0) return query.length > 0 ? `${base}?${query}` : base;
  return `${base}?${query}${query.length > 0 ? "." : ""}${params}`;
}

async function verify(request: WebhookRequest, secret: string): Promise<VerifyResult> {
  const url = parseUrl(request.url);
  if (!url) return fail("request URL is not a valid absolute URL");

  const v3 = [header(request, "x-plivo-signature-v3"), header(request, "x-plivo-signature-ma-v3")]
    .filter((h): h is string => !!h)
    .flatMap((h) => h.split(","))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const v3Nonce = header(request, "x-plivo-signature-v3-nonce");
  if (v3.length > 0) {
    if (!v3Nonce) return fail("missing X-Plivo-Signature-V3-Nonce header");
    const expected = base64Encode(
      await hmac("SHA-256", secret, `${plivoV3Base(request.method, url, request.body)}.${v3Nonce}`),
    );
    let matched = false;
    for (const s of v3) matched = matchesAny(s, [expected]) || matched;
    return matched ? ok() : fail("X-Plivo-Signature-V3 does not match");
  }

  const v2 = header(request, "x-plivo-signature-v2");
  const v2Nonce = header(request, "x-plivo-signature-v2-nonce");
  if (v2) {
    if (!v2Nonce) return fail("missing X-Plivo-Signature-V2-Nonce header");
    const expected = base64Encode(
      await hmac("SHA-256", secret, `${url.protocol}//${url.host}${url.pathname}${v2Nonce}`),
    );
    return matchesAny(v2.trim(), [expected]) ? ok() : fail("X-Plivo-Signature-V2 does not match");
  }
  return fail("missing X-Plivo-Signature-V3 (or V2) header");
}

const InboundForm = z.object({
  MessageUUID: z.string().min(1),
  From: z.string().min(1),
  To: z.string().min(1),
  Text: z.string(),
});

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const source =
    request.method.toUpperCase() === "GET" ? (parseUrl(request.url)?.search.slice(1) ?? "") : request.body;
  const pairs = formPairs(source);
  if (pairs.length === 0) throw new DomainError("invalid_input", "plivo webhook carries no form parameters");
  const fields = singleMap(pairs);
  // Delivery reports (message status callbacks) have Status and no Text.
  if (fields.Status !== undefined && fields.Text === undefined) return [];
  if (fields.Type !== undefined && fields.Type.toLowerCase() !== "sms" && fields.Text === undefined)
    return [];
  const m = validate(InboundForm, fields, "plivo", "inbound message form");
  return [
    {
      provider: "plivo",
      providerMessageId: m.MessageUUID,
      from: internationalNumber(m.From),
      to: internationalNumber(m.To),
      text: m.Text,
      receivedAt: toInstant(undefined, context.now),
    },
  ];
}

export const plivo: ProviderAdapter = { verify, parse };
