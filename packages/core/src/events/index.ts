/**
 * Email providers' event webhooks (SendGrid, Amazon SES via SNS, Mailgun, Postmark, Resend):
 * verification with each provider's own scheme, and parsing into message events and opt-outs.
 * Pure: no I/O (SES's certificate is fetched by the caller), WebCrypto only.
 */
export { type ParseEventsInput, parseEvents } from "./parse-events.ts";
export {
  SNS_MAX_AGE_SECONDS,
  SnsMessage,
  SnsMessageType,
  snsCertificateUrl,
  snsStringToSign,
  snsSubscribeUrl,
} from "./sns.ts";
export {
  EventProvider,
  type EventVerifyOptions,
  OPTOUT_CAMPAIGN_KEY,
  OPTOUT_MESSAGE_ID_KEY,
  ProviderEvent,
  ProviderMessageEvent,
  ProviderOptOut,
} from "./types.ts";
export { type VerifyEventWebhookInput, verifyEventWebhook } from "./verify-event-webhook.ts";
