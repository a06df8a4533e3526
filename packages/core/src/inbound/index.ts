/**
 * Inbound messages (MO): provider webhook verification and parsing, keyword classification,
 * confirmations and provider-format replies. Pure: no I/O, WebCrypto only.
 */
export { verifyBasicAuth } from "./basic-auth.ts";
export {
  type ClassifyOptions,
  classifyInbound,
  InboundAction,
  InboundClassification,
} from "./classify-inbound.ts";
export { type ConfirmationInput, confirmationText } from "./confirmations.ts";
export { KEYWORD_PACKS, type KeywordPack, keywordPack } from "./keyword-packs/index.ts";
export {
  CreateKeywordRuleInput,
  type DefaultKeywordRulesOptions,
  defaultKeywordRules,
  KeywordAction,
  KeywordLevel,
  KeywordRule,
  type KeywordRuleInput,
  LanguageTag,
  UpdateKeywordRuleInput,
} from "./keyword-rule.ts";
export {
  DEFAULT_KEYWORD_SETTINGS,
  KeywordSettings,
  PackLanguage,
  UpdateKeywordSettingsInput,
} from "./keyword-settings.ts";
export { normalizedTokens, normalizeText } from "./normalize-text.ts";
export { type ParseInboundInput, parseInbound } from "./parse-inbound.ts";
export {
  type ConfirmInput,
  type InboundPlan,
  inboundChannel,
  inboundConfirmation,
  inboundOccurredAt,
  keywordScopes,
  type PlanInboundInput,
  planInboundMessage,
} from "./plan-inbound.ts";
export { ProviderCredentialsInput, providerCredentialsProblem } from "./provider-credentials.ts";
export { GENERIC_SIGNATURE_HEADER, GenericInboundBody, signGenericWebhook } from "./providers/generic.ts";
export { WHATSAPP_DEFAULT_STOP_PAYLOADS, WHATSAPP_SIGNATURE_HEADER } from "./providers/whatsapp.ts";
export { buildProviderReply, escapeXml, type ProviderReply, type ReplyItem } from "./reply.ts";
export {
  DEFAULT_TOLERANCE_SECONDS,
  signedWebhookUrl,
  type VerifyOptions,
  type VerifyResult,
  type WebhookHeaders,
  type WebhookRequest,
} from "./request.ts";
export {
  isReviewOverdue,
  type PlanReviewOptOutInput,
  planReviewOptOut,
  REVIEW_BUSINESS_DAYS,
  ReviewDecision,
  type ReviewItem,
  type ReviewOptOutPlan,
  reviewOverdueBefore,
} from "./review.ts";
export { InboundMessage, type InboundParseOptions, InboundProvider } from "./types.ts";
export { type VerifyWebhookInput, verifyWebhook } from "./verify-webhook.ts";
export { type WhatsAppHandshakeInput, whatsappHandshake } from "./whatsapp-handshake.ts";
