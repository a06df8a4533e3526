/**
 * Telnyx Messaging (API v2).
 *
 * Signature (read from telnyx-node `src/lib/webhooks.ts` and the earlier `src/Webhooks.ts`):
 * Ed25519 over `${telnyx-timestamp}|${raw body}`, signature base64 in
 * `telnyx-signature-ed25519`, verified with the account's public key (base64, 32 bytes, from
 * Mission Control) — which is what this provider's "secret" holds. Timestamps more than 300 s
 * from now are refused, as the SDK does.
 *
 * Payload: `{ data: { event_type: "message.received", payload: { id, from: { phone_number },
 * to: [{ phone_number }], text, received_at } } }`; other event types are not messages.
 */
import { z } from "zod";
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
import { base64Decode, utf8 } from "../signing.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

async function verify(
  request: WebhookRequest,
  secret: string,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const signature = header(request, "telnyx-signature-ed25519");
  const timestamp = header(request, "telnyx-timestamp");
  if (!signature) return fail("missing telnyx-signature-ed25519 header");
  const stale = checkTimestamp(timestamp, options, "telnyx-timestamp header");
  if (stale) return fail(stale);
  const sig = base64Decode(signature.trim());
  if (sig?.length !== 64) return fail("telnyx-signature-ed25519 is not a base64 Ed25519 signature");
  const key = base64Decode(secret.trim());
  if (key?.length !== 32) return fail("configured Telnyx public key is not 32 bytes of base64");
  const publicKey = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  const valid = await crypto.subtle.verify(
    { name: "Ed25519" },
    publicKey,
    sig as Uint8Array<ArrayBuffer>,
    utf8(`${timestamp!.trim()}|${request.body}`) as Uint8Array<ArrayBuffer>,
  );
  return valid ? ok() : fail("telnyx-signature-ed25519 does not match");
}

const Envelope = z.object({
  data: z.object({
    event_type: z.string(),
    payload: z.unknown(),
  }),
});

const Received = z.object({
  id: z.string().min(1),
  from: z.object({ phone_number: z.string().min(1) }),
  to: z.array(z.object({ phone_number: z.string().min(1) })).min(1),
  text: z.string().nullable().optional(),
  received_at: z.string().nullable().optional(),
});

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const envelope = validate(Envelope, parseJson(request.body, "telnyx"), "telnyx", "webhook envelope");
  if (envelope.data.event_type !== "message.received") return [];
  const m = validate(Received, envelope.data.payload, "telnyx", "message.received payload");
  return [
    {
      provider: "telnyx",
      providerMessageId: m.id,
      from: m.from.phone_number,
      to: m.to[0]!.phone_number,
      text: m.text ?? "",
      receivedAt: toInstant(m.received_at, context.now),
    },
  ];
}

export const telnyx: ProviderAdapter = { verify, parse };
