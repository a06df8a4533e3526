/**
 * Plivo Messaging.
 *
 * Signature V3 (read from plivo-node `lib/utils/v3Security.js` and plivo-python
 * `utils/signature_v3`): base64(HMAC-SHA256(authToken, base + "." + nonce)) where, for a POST,
 * base = the URL as written up to its query + "?" + sorted query (`k=v` joined by `&`) + ("."
 * when there is a query) + Σ sorted(key + value) of the form parameters, and for a GET base =
 * the URL as written with its query sorted. `X-Plivo-Signature-V3` may carry several
 * comma-separated signatures (key rotation); `X-Plivo-Signature-Ma-V3` is the same signed with
 * the main account's token.
 * Fallback V2 (plivo-node `lib/utils/security.js`, plivo-python `utils/__init__.py`):
 * `X-Plivo-Signature-V2` = base64(HMAC-SHA256(authToken, scheme://host[:port]/path + nonce)), the
 * URL as written without its query, with `X-Plivo-Signature-V2-Nonce`.
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

/**
 * A URL split as written: everything before its query and fragment, and the raw query.
 * Both SDKs' V2 and V3 validators rebuild scheme://host[:port] + path from the URL as written
 * (plivo-node uri-parser + build-url, plivo-python urlparse/urlunparse): a URL without a path
 * gets no "/" (WHATWG `pathname` would add one), a default port and the host's case stay.
 */
function splitWritten(url: string): { base: string; query: string } {
  const beforeFragment = url.split("#", 1)[0] ?? "";
  const q = beforeFragment.indexOf("?");
  if (q < 0) return { base: beforeFragment, query: "" };
  return { base: beforeFragment.slice(0, q), query: beforeFragment.slice(q + 1) };
}

/** The string Plivo's V3 scheme signs, before `.nonce`, for the signed URL as written. */
export function plivoV3Base(method: string, url: string, formBody: string): string {
  // plivo-node `lib/utils/v3Security.js` and plivo-python `plivo/utils/signature_v3.py`
  // construct_get_url: the written base, then the query decoded (`+` is a space) and sorted.
  const { base, query: rawQuery } = splitWritten(url);
  const query = sortedValues(multiMap(formPairs(rawQuery)))
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
  if (!parseUrl(request.url)) return fail("request URL is not a valid absolute URL");

  const v3 = [header(request, "x-plivo-signature-v3"), header(request, "x-plivo-signature-ma-v3")]
    .filter((h): h is string => !!h)
    .flatMap((h) => h.split(","))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const v3Nonce = header(request, "x-plivo-signature-v3-nonce");
  if (v3.length > 0) {
    if (!v3Nonce) return fail("missing X-Plivo-Signature-V3-Nonce header");
    const expected = base64Encode(
      await hmac("SHA-256", secret, `${plivoV3Base(request.method, request.url, request.body)}.${v3Nonce}`),
    );
    let matched = false;
    for (const s of v3) matched = matchesAny(s, [expected]) || matched;
    return matched ? ok() : fail("X-Plivo-Signature-V3 does not match");
  }

  const v2 = header(request, "x-plivo-signature-v2");
  const v2Nonce = header(request, "x-plivo-signature-v2-nonce");
  if (v2) {
    if (!v2Nonce) return fail("missing X-Plivo-Signature-V2-Nonce header");
    // Both SDKs' V2 validators sign the written base (see splitWritten), query and fragment cut.
    const { base } = splitWritten(request.url);
    const expected = base64Encode(await hmac("SHA-256", secret, base + v2Nonce));
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
