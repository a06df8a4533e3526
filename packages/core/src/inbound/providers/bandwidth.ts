/**
 * Bandwidth Messaging API v2.
 *
 * Authentication: Bandwidth does not sign callbacks; an application's callbacks carry HTTP
 * Basic credentials configured on it (`callbackCreds` / "Callback authentication" in the
 * Bandwidth App). The secret is that "user:password", compared in constant time.
 *
 * Payload: a JSON array of events; inbound messages are `{ type: "message-received", time, to,
 * message: { id, from, to: [...], owner, text, time } }`. Delivery and failure callbacks
 * (`message-delivered`, `message-failed`, ...) are not messages.
 */
import { z } from "zod";
import { verifyBasicAuth } from "../basic-auth.ts";
import { parseJson, toInstant, validate } from "../payload.ts";
import type { VerifyResult, WebhookRequest } from "../request.ts";
import type { InboundMessage, ParseContext, ProviderAdapter } from "../types.ts";

async function verify(request: WebhookRequest, secret: string): Promise<VerifyResult> {
  return verifyBasicAuth(request, secret);
}

const Event = z.object({ type: z.string() }).passthrough();
const Received = z.object({
  type: z.literal("message-received"),
  time: z.string().optional(),
  to: z.string().min(1).optional(),
  message: z.object({
    id: z.string().min(1),
    from: z.string().min(1),
    owner: z.string().min(1).optional(),
    to: z.array(z.string()).optional(),
    text: z.string().nullable().optional(),
    time: z.string().optional(),
  }),
});

function parse(request: WebhookRequest, context: ParseContext): InboundMessage[] {
  const json = parseJson(request.body, "bandwidth");
  const events = validate(z.array(Event), Array.isArray(json) ? json : [json], "bandwidth", "callback body");
  const messages: InboundMessage[] = [];
  for (const [i, event] of events.entries()) {
    if (event.type !== "message-received") continue;
    const e = validate(Received, event, "bandwidth", `event[${i}]`);
    // `to` on the event is the number that received it; `owner` is the same for 1:1 messages.
    const to = e.to ?? e.message.owner ?? e.message.to?.[0];
    messages.push({
      provider: "bandwidth",
      providerMessageId: e.message.id,
      from: e.message.from,
      to: validate(z.string().min(1), to, "bandwidth", `event[${i}].to`),
      text: e.message.text ?? "",
      receivedAt: toInstant(e.message.time ?? e.time, context.now),
    });
  }
  return messages;
}

export const bandwidth: ProviderAdapter = { verify, parse };
