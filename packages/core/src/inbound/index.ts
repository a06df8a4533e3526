/**
 * Inbound messages (MO): provider webhook verification and parsing, and provider-format
 * replies. Pure: no I/O, WebCrypto only.
 */
export { verifyBasicAuth } from "./basic-auth.ts";
export { type ParseInboundInput, parseInbound } from "./parse-inbound.ts";
export { GENERIC_SIGNATURE_HEADER, GenericInboundBody, signGenericWebhook } from "./providers/generic.ts";
export { buildProviderReply, escapeXml, type ProviderReply, type ReplyItem } from "./reply.ts";
export {
  DEFAULT_TOLERANCE_SECONDS,
  type VerifyOptions,
  type VerifyResult,
  type WebhookHeaders,
  type WebhookRequest,
} from "./request.ts";
export { InboundMessage, InboundProvider } from "./types.ts";
export { type VerifyWebhookInput, verifyWebhook } from "./verify-webhook.ts";
