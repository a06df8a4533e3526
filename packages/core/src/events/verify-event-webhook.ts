import { fail, type VerifyResult, type WebhookRequest } from "../inbound/request.ts";
import { EVENT_ADAPTERS } from "./providers/index.ts";
import { EventProvider, type EventVerifyOptions } from "./types.ts";

export interface VerifyEventWebhookInput {
  provider: EventProvider | string;
  request: WebhookRequest;
  /**
   * The credential stored for the account: SendGrid's verification key (base64 SPKI or PEM),
   * Mailgun's webhook signing key, Postmark's `user:password`, Resend's `whsec_…` secret. Not used
   * for `ses`, whose messages are checked against `options.certificate` and `options.topicArns`.
   */
  secret?: string;
  options?: EventVerifyOptions;
  /** Current time in unix seconds; overrides `options.now`; defaults to the clock. */
  now?: number;
}

/**
 * Checks that an email provider's event webhook was sent by the provider, with the provider's own
 * scheme, against the raw body, in constant time where a secret is compared, within the scheme's
 * replay window. Never throws: anything malformed is `{ ok: false, reason }`, and the reason names
 * the check or header that failed, never a value.
 */
export async function verifyEventWebhook({
  provider,
  request,
  secret,
  options,
  now,
}: VerifyEventWebhookInput): Promise<VerifyResult> {
  const known = EventProvider.safeParse(provider);
  if (!known.success) return fail(`unknown provider "${String(provider)}"`);
  if (known.data !== "ses" && (typeof secret !== "string" || secret.length === 0)) {
    return fail(`no ${known.data} secret is configured`);
  }
  if (!request || typeof request.body !== "string" || typeof request.url !== "string") {
    return fail("request must have a url and a raw string body");
  }
  try {
    return await EVENT_ADAPTERS[known.data].verify(request, secret ?? "", {
      ...options,
      now: now ?? options?.now,
    });
  } catch (e) {
    return fail(`${known.data} signature could not be checked (${(e as Error).name})`);
  }
}
