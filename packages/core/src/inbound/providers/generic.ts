/**
 * `generic`: optout's own documented format, for any provider without an adapter.
 *
 * Request: `POST /mo/generic/{accountId}`, `Content-Type: application/json`, body
 *
 *     { "messages": [ { "id": "m-1", "from": "+14155550100", "to": "+14155550199",
 *                       "text": "STOP", "receivedAt": "2025-01-01T12:00:00Z" } ] }
 *
 * (`receivedAt` optional, ISO-8601 with offset; at most 1000 messages; `id` is the dedupe key),
 * signed with the account's generic secret:
 *
 *     X-Optout-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${raw body}`)>
 *
 * Several `v1=` entries may be sent while a secret is being rotated; one must match. `t` must
 * be within 300 s of the receiver's clock. Answer: 200 with `{ "replies": [...] }` (see
 * `buildProviderReply`).
 */
import { z } from "zod";
import { Instant } from "../../schemas.ts";
import { parseJson, toInstant, validate } from "../payload.ts";
import {
  checkTimestamp,
  fail,
  header,
  ok,
  type VerifyOptions,
  type VerifyResult,
  type WebhookRequest,
} from "../request.ts";
import { hex, hmac, matchesAny } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

export const GENERIC_SIGNATURE_HEADER = "X-Optout-Signature";

export const GenericInboundBody = z.object({
  messages: z
    .array(
      z.object({
        id: z.string().min(1).max(256),
        from: z.string().trim().min(1).max(320),
        to: z.string().trim().min(1).max(320),
        text: z.string().max(10_000),
        receivedAt: Instant.optional(),
      }),
    )
    .max(1000),
});
export type GenericInboundBody = z.infer<typeof GenericInboundBody>;

/** The `X-Optout-Signature` value for a body: what a sender computes, and what we check. */
export async function signGenericWebhook(secret: string, body: string, timestamp: number): Promise<string> {
  const t = Math.floor(timestamp);
  return `t=${t},v1=${hex(await hmac("SHA-256", secret, `${t}.${body}`))}`;
}

async function verify(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const value = header(request, GENERIC_SIGNATURE_HEADER);
  if (!value) return fail(`missing ${GENERIC_SIGNATURE_HEADER} header`);
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === "t") t = val;
    else if (key === "v1") v1.push(val.toLowerCase());
  }
  if (v1.length === 0) return fail(`${GENERIC_SIGNATURE_HEADER} has no v1 signature`);
  const stale = checkTimestamp(t, options, `${GENERIC_SIGNATURE_HEADER} t`);
  if (stale) return fail(stale);
  const expected = hex(await hmac("SHA-256", secret, `${t}.${request.body}`));
  let matched = false;
  for (const s of v1) matched = matchesAny(s, [expected]) || matched;
  return matched ? ok() : fail(`${GENERIC_SIGNATURE_HEADER} does not match`);
}

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const body = validate(GenericInboundBody, parseJson(request.body, "generic"), "generic", "webhook body");
  return body.messages.map((m) => ({
    provider: "generic" as const,
    providerMessageId: m.id,
    from: m.from,
    to: m.to,
    text: m.text,
    receivedAt: toInstant(m.receivedAt, context.now),
  }));
}

export const generic: ProviderAdapter = { verify, parse };
