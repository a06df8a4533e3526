import { z } from "zod";
import { SendCredentials, sendCredentialsProblem } from "../outbound/send-api.ts";
import { vonageSignatureMethod } from "./providers/vonage.ts";
import { base64Decode } from "./signing.ts";
import type { InboundProvider } from "./types.ts";

/**
 * The body of `PUT /v1/providers/{provider}`: the credential that verifies the provider's
 * webhooks (see `verifyWebhook` for what each provider's secret is) and its options.
 */
export const ProviderCredentialsInput = z.strictObject({
  secret: z.string().min(1).max(4096),
  options: z
    .strictObject({
      /** Vonage: the dashboard's signature method; Infobip: `basic` or `hmac-sha256`/`-sha1`/`-sha512`. */
      algorithm: z.string().trim().min(1).max(32).optional(),
      /**
       * WhatsApp (required): the verify token entered in Meta's App Dashboard, which Meta's
       * subscription check (`whatsappHandshake`) sends back. A credential: keep it like the secret.
       */
      verifyToken: z.string().min(1).max(256).optional(),
      /** WhatsApp: button payloads or labels read as `STOP` (default `WHATSAPP_DEFAULT_STOP_PAYLOADS`). */
      stopPayloads: z.array(z.string().trim().min(1).max(256)).max(50).optional(),
    })
    .default({}),
  /**
   * Vonage, Telnyx, Infobip, Sinch, Bandwidth, Bird: what their send API takes, so that optout
   * sends the keyword confirmations they cannot carry in a webhook answer (`sendCredentialsProblem`
   * says which fields each needs). Stored like the secret; never returned.
   */
  send: SendCredentials.optional(),
});
export type ProviderCredentialsInput = z.infer<typeof ProviderCredentialsInput>;

const INFOBIP_ALGORITHMS = ["basic", "hmac-sha1", "hmac-sha256", "hmac-sha512"];

/**
 * Why these credentials could never verify a webhook of `provider` (a message naming the field,
 * never echoing the secret), or null. Catches configuration mistakes when they are made rather
 * than as 401s on every webhook later.
 */
export function providerCredentialsProblem(
  provider: InboundProvider,
  input: ProviderCredentialsInput,
): string | null {
  const { secret, options } = input;
  const algorithm = options.algorithm;
  if (input.send !== undefined) {
    const problem = sendCredentialsProblem(provider, input.send);
    if (problem) return problem;
  }
  if (provider !== "whatsapp") {
    if (options.verifyToken !== undefined) return "options.verifyToken: only WhatsApp has a verify token";
    if (options.stopPayloads !== undefined) return "options.stopPayloads: only WhatsApp has stop buttons";
  }
  switch (provider) {
    case "vonage":
      return algorithm !== undefined && !vonageSignatureMethod(algorithm)
        ? "options.algorithm: Vonage's signature method is one of md5hash, md5, sha1, sha256, sha512"
        : null;
    case "infobip":
      if (algorithm !== undefined && !INFOBIP_ALGORITHMS.includes(algorithm.toLowerCase()))
        return `options.algorithm: Infobip's authentication is one of ${INFOBIP_ALGORITHMS.join(", ")}`;
      if ((algorithm ?? "basic").toLowerCase() === "basic" && !secret.includes(":"))
        return 'secret: Infobip Basic authentication needs "username:password"';
      return null;
    case "bandwidth":
      if (algorithm !== undefined) return "options.algorithm: Bandwidth has no signature options";
      return secret.includes(":") ? null : 'secret: Bandwidth callbacks need "username:password"';
    case "telnyx":
      if (algorithm !== undefined) return "options.algorithm: Telnyx has no signature options";
      return base64Decode(secret.trim())?.length === 32
        ? null
        : "secret: the Telnyx public key is 32 bytes in base64 (Mission Control → Keys & Credentials)";
    case "whatsapp":
      if (algorithm !== undefined) return "options.algorithm: WhatsApp has no signature options";
      if (options.verifyToken === undefined) {
        return "options.verifyToken: WhatsApp needs the verify token entered in Meta's App Dashboard";
      }
      // Access tokens (EAA…) are the usual mix-up: Meta signs webhooks with the app secret.
      return /^EAA/.test(secret.trim())
        ? "secret: WhatsApp webhooks are signed with the app secret (App Dashboard → App settings → Basic), not an access token"
        : null;
    case "twilio":
    case "plivo":
    case "sinch":
    case "messagebird":
    case "generic":
      return algorithm !== undefined ? `options.algorithm: ${provider} has no signature options` : null;
  }
}
