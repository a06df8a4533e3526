/**
 * Email providers' event webhooks (SendGrid, Amazon SES via SNS, Mailgun, Postmark, Resend):
 * verification with each provider's own scheme, and parsing into message events and opt-outs;
 * SMS providers' status callbacks and WhatsApp's statuses read into the same events.
 * Pure: no I/O (SES's certificate is fetched by the caller), WebCrypto only.
 */
export { type ParseEventsInput, parseEvents } from "./parse-events.ts";
export { type ParseStatusCallbacksInput, parseStatusCallbacks } from "./parse-status-callbacks.ts";
export {
  type PlannedProviderEvents,
  type PlanProviderEventsInput,
  type ProviderOptOutPlan,
  planProviderEvents,
  type SkippedProviderEvent,
} from "./plan-provider-events.ts";
export {
  ConfiguredProvider,
  EventsUrlProvider,
  isEventProvider,
  MAX_SNS_TOPICS,
  ProviderConfigInput,
  providerConfigProblem,
  SmsStatusProvider,
  SnsTopicArn,
} from "./provider-config.ts";
export { mailgunSignatureToken } from "./providers/mailgun.ts";
export {
  SNS_MAX_AGE_SECONDS,
  SnsMessage,
  SnsMessageType,
  snsCertificateUrl,
  snsStringToSign,
  snsSubscribeUrl,
} from "./sns.ts";
export {
  EventChannel,
  EventProvider,
  type EventVerifyOptions,
  OPTOUT_CAMPAIGN_KEY,
  OPTOUT_MESSAGE_ID_KEY,
  ProviderEvent,
  ProviderMessageEvent,
  ProviderOptOut,
  StatusCallbackProvider,
} from "./types.ts";
export { type VerifyEventWebhookInput, verifyEventWebhook } from "./verify-event-webhook.ts";
