/**
 * Twilio Programmable Messaging.
 *
 * Signature (read from twilio-node `src/webhooks/webhooks.ts` and Twilio's "Webhooks security"
 * docs): `X-Twilio-Signature` = base64(HMAC-SHA1(authToken, url + Σ sorted(key + value))) over
 * the form parameters of a POST (a GET signs the URL alone). JSON bodies use the `bodySHA256`
 * variant: the URL carries `bodySHA256` = hex SHA-256 of the raw body, and the signature covers
 * the URL only. Twilio is inconsistent about the port in the signed URL, so, like the SDK, both
 * the URL with and without the port are tried; so are those URLs with the query re-encoded
 * the legacy `querystring` way (`'` vs `%27`), as twilio-node's `validateRequest` does.
 *
 * Payload: form fields `MessageSid`, `From`, `To`, `Body` (`SmsStatus=received`); status
 * callbacks carry `MessageStatus` and are not messages. Event Streams deliver CloudEvents of
 * type `com.twilio.messaging.inbound-message.received` as JSON; those are read too.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { parseJson, toInstant, validate } from "../payload.ts";
import {
  fail,
  formPairs,
  header,
  isJsonBody,
  multiMap,
  ok,
  parseUrl,
  singleMap,
  type VerifyResult,
  type WebhookRequest,
} from "../request.ts";
import { base64Encode, hex, hmac, matchesAny, sha256, timingSafeEqual } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

/**
 * The URL with its query re-encoded the way Node's legacy `querystring` parse + stringify does,
 * or null without a query. twilio-node's `validateRequest` also tries this form because senders
 * encode some characters differently: WHATWG writes a query's `'` as `%27` and keeps `%27`, while
 * this decodes and re-encodes with encodeURIComponent, which leaves `'` bare, so a quote signed
 * either way verifies (`+` also becomes `%20` here). Keys are grouped as `querystring.parse`
 * groups them (a null-prototype object: array-index keys first, then first appearance), and the
 * rest of the URL stays as WHATWG serializes it (the SDK clears `search`, then appends the query).
 */
function legacyQueryUrl(url: URL): string | null {
  if (url.search === "") return null;
  const groups: Record<string, string[]> = Object.create(null);
  // `search` with its "?": URLSearchParams drops one leading "?", so a query that starts with
  // another "?" keeps it, as `querystring.parse` does.
  for (const [key, value] of formPairs(url.search)) {
    const values = groups[key];
    if (values) values.push(value);
    else groups[key] = [value];
  }
  const query = Object.entries(groups)
    .flatMap(([key, values]) => values.map((v) => `${encodeURIComponent(key)}=${encodeURIComponent(v)}`))
    .join("&");
  const bare = new URL(url.toString());
  bare.search = "";
  return `${bare.toString()}?${query}`;
}

/**
 * The URL as received (twilio-python checks it as written), as WHATWG serializes it with and
 * without the port, with the scheme's default port written out, and the legacy-query forms of
 * the URL with and without the port (twilio-node tries these four, since Twilio's own signing
 * is inconsistent about ports and query encoding).
 */
function signedUrlCandidates(raw: string, url: URL): string[] {
  const withoutPort = new URL(url.toString());
  withoutPort.port = "";
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ""}@` : "";
  const defaultPort = url.protocol === "https:" ? "443" : "80";
  const withPort = url.port
    ? url.toString()
    : `${url.protocol}//${auth}${url.hostname}:${defaultPort}${url.pathname}${url.search}${url.hash}`;
  // Like the SDK, the legacy form of `withPort` re-parses it, which drops a default port again.
  const legacy = [legacyQueryUrl(withoutPort), legacyQueryUrl(new URL(withPort))].filter(
    (u): u is string => u !== null,
  );
  return [...new Set([raw, url.toString(), withoutPort.toString(), withPort, ...legacy])];
}

function signedParams(pairs: ReadonlyArray<readonly [string, string]>): string {
  const params = multiMap(pairs);
  let data = "";
  for (const key of [...params.keys()].sort()) {
    // The SDK signs each distinct value once, in sorted order.
    for (const value of [...new Set(params.get(key))].sort()) data += key + value;
  }
  return data;
}

async function verify(request: WebhookRequest, secret: string): Promise<VerifyResult> {
  const signature = header(request, "x-twilio-signature");
  if (!signature) return fail("missing X-Twilio-Signature header");
  const url = parseUrl(request.url);
  if (!url) return fail("request URL is not a valid absolute URL");
  const candidates = signedUrlCandidates(request.url, url);

  const bodyHash = url.searchParams.get("bodySHA256");
  if (bodyHash !== null) {
    const expected = await Promise.all(
      candidates.map(async (u) => base64Encode(await hmac("SHA-1", secret, u))),
    );
    if (!matchesAny(signature, expected)) return fail("X-Twilio-Signature does not match");
    if (!timingSafeEqual(bodyHash.toLowerCase(), hex(await sha256(request.body)))) {
      return fail("bodySHA256 does not match the body");
    }
    return ok();
  }

  if (request.method.toUpperCase() !== "GET" && isJsonBody(request)) {
    return fail("a JSON body must be signed with the bodySHA256 URL parameter");
  }
  const params = request.method.toUpperCase() === "GET" ? "" : signedParams(formPairs(request.body));
  const expected = await Promise.all(
    candidates.map(async (u) => base64Encode(await hmac("SHA-1", secret, u + params))),
  );
  return matchesAny(signature, expected) ? ok() : fail("X-Twilio-Signature does not match");
}

const FormMessage = z.object({
  MessageSid: z.string().min(1),
  From: z.string().min(1),
  To: z.string().min(1),
  Body: z.string(),
});

const StreamEvent = z.object({
  type: z.string(),
  data: z.unknown(),
});
const StreamInbound = z.object({
  messageSid: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  body: z.string(),
  timestamp: z.string().optional(),
});
const INBOUND_EVENT = "com.twilio.messaging.inbound-message.received";

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  if (request.method.toUpperCase() !== "GET" && isJsonBody(request)) {
    const json = parseJson(request.body, "twilio");
    const events = validate(
      z.array(StreamEvent),
      Array.isArray(json) ? json : [json],
      "twilio",
      "event stream body",
    );
    return events
      .filter((e) => e.type === INBOUND_EVENT)
      .map((e) => {
        const d = validate(StreamInbound, e.data, "twilio", "inbound-message event");
        return {
          provider: "twilio" as const,
          providerMessageId: d.messageSid,
          from: d.from,
          to: d.to,
          text: d.body,
          receivedAt: toInstant(d.timestamp, context.now),
        };
      });
  }

  const source =
    request.method.toUpperCase() === "GET" ? (parseUrl(request.url)?.search.slice(1) ?? "") : request.body;
  const pairs = formPairs(source);
  if (pairs.length === 0) throw new DomainError("invalid_input", "twilio webhook carries no form parameters");
  const fields = singleMap(pairs);
  // Status callbacks (sent, delivered, failed, ...) describe our outbound messages, not replies.
  const status = fields.MessageStatus ?? fields.SmsStatus;
  if (status !== undefined && status !== "received") return [];
  // Older webhooks name the id SmsMessageSid/SmsSid only.
  const withSid = { ...fields, MessageSid: fields.MessageSid ?? fields.SmsMessageSid ?? fields.SmsSid };
  const m = validate(FormMessage, withSid, "twilio", "inbound message form");
  return [
    {
      provider: "twilio",
      providerMessageId: m.MessageSid,
      from: m.From,
      to: m.To,
      text: m.Body,
      receivedAt: toInstant(undefined, context.now),
    },
  ];
}

export const twilio: ProviderAdapter = { verify, parse };
