import { PROVIDER_ADAPTERS } from "./providers/index.ts";
import { fail, type VerifyOptions, type VerifyResult, type WebhookRequest } from "./request.ts";
import { InboundProvider } from "./types.ts";

export interface VerifyWebhookInput {
  provider: InboundProvider | string;
  request: WebhookRequest;
  /**
   * The provider credential stored for the account: Twilio auth token, Vonage signature secret,
   * Plivo auth token, Telnyx public key (base64), Infobip/Bandwidth/Sinch-SMS "user:password",
   * Sinch webhook secret, MessageBird/Bird signing key, WhatsApp app secret, generic secret.
   */
  secret: string;
  options?: VerifyOptions;
}

/**
 * Checks that an inbound webhook — or a delivery/status callback, which each provider signs the
 * same way — was sent by the provider, with the provider's own scheme, against the raw body and
 * in constant time. Never throws: anything malformed is `{ ok: false, reason }`, and the reason
 * is safe to log (it never contains the secret).
 */
export async function verifyWebhook({
  provider,
  request,
  secret,
  options,
}: VerifyWebhookInput): Promise<VerifyResult> {
  const known = InboundProvider.safeParse(provider);
  if (!known.success) return fail(`unknown provider "${String(provider)}"`);
  if (typeof secret !== "string" || secret.length === 0) return fail(`no ${known.data} secret is configured`);
  if (!request || typeof request.body !== "string" || typeof request.url !== "string") {
    return fail("request must have a url and a raw string body");
  }
  try {
    return await PROVIDER_ADAPTERS[known.data].verify(request, secret, options ?? {});
  } catch (e) {
    return fail(`${known.data} signature could not be checked (${(e as Error).message})`);
  }
}
