/**
 * Which providers an account can configure (`PUT /v1/providers/{provider}`), what their credentials
 * look like, and which of them post to the events URL (`POST /events/{provider}/{accountId}`).
 * SMS providers keep their own checks (`providerCredentialsProblem`); this adds the email
 * providers' and the options only they have.
 */
import { z } from "zod";
import { ProviderCredentialsInput, providerCredentialsProblem } from "../inbound/provider-credentials.ts";
import { InboundProvider } from "../inbound/types.ts";
import { signingKey } from "./providers/resend.ts";
import { verificationKey } from "./providers/sendgrid.ts";
import { EventProvider, StatusCallbackProvider } from "./types.ts";

/** Every provider an account can store a credential for: SMS/WhatsApp inbound, and email events. */
export const ConfiguredProvider = z.enum([...InboundProvider.options, ...EventProvider.options]);
export type ConfiguredProvider = z.infer<typeof ConfiguredProvider>;

/**
 * SMS providers whose delivery/status callbacks the events URL reads. WhatsApp's statuses come in
 * its inbound webhook, and the generic format has no status callbacks.
 */
export const SmsStatusProvider = StatusCallbackProvider.exclude(["whatsapp"]);
export type SmsStatusProvider = z.infer<typeof SmsStatusProvider>;

/** Providers that post to `POST /events/{provider}/{accountId}`. */
export const EventsUrlProvider = z.enum([...EventProvider.options, ...SmsStatusProvider.options]);
export type EventsUrlProvider = z.infer<typeof EventsUrlProvider>;

export const isEventProvider = (provider: string): provider is EventProvider =>
  EventProvider.safeParse(provider).success;

/**
 * An SNS topic ARN: `arn:<partition>:sns:<region>:<12-digit account>:<topic>` (topic names are
 * up to 256 letters, digits, `-` and `_`, FIFO topics end in `.fifo`).
 */
export const SnsTopicArn = z
  .string()
  .trim()
  .regex(
    /^arn:aws(?:-cn|-us-gov)?:sns:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/,
    "must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)",
  );

/** At most this many SNS topics per account (one per SES configuration set or identity is usual). */
export const MAX_SNS_TOPICS = 20;

/**
 * The body of `PUT /v1/providers/{provider}`: `ProviderCredentialsInput` with the email
 * providers' additions. `secret` may be absent only for `ses` (SNS messages are checked against
 * Amazon's certificate, not a shared secret); SES names the SNS topics it accepts instead.
 */
export const ProviderConfigInput = z.strictObject({
  secret: ProviderCredentialsInput.shape.secret.optional(),
  options: ProviderCredentialsInput.shape.options
    .unwrap()
    .extend({
      /** Amazon SES (required): the SNS topics whose messages are accepted; every other is refused. */
      topicArns: z.array(SnsTopicArn).min(1).max(MAX_SNS_TOPICS).optional(),
    })
    .default({}),
  send: ProviderCredentialsInput.shape.send,
});
export type ProviderConfigInput = z.infer<typeof ProviderConfigInput>;

/**
 * Why this configuration could never verify a webhook of `provider` (a message naming the field,
 * never echoing the secret), or null. Async: SendGrid's key is checked by importing it.
 */
export async function providerConfigProblem(
  provider: ConfiguredProvider,
  input: ProviderConfigInput,
): Promise<string | null> {
  const { secret, options } = input;
  if (provider !== "ses" && options.topicArns !== undefined) {
    return "options.topicArns: only Amazon SES (ses) reads SNS topics";
  }
  if (!isEventProvider(provider)) {
    if (secret === undefined) return "secret: required";
    const { topicArns: _, ...smsOptions } = options;
    return providerCredentialsProblem(provider, { secret, options: smsOptions, send: input.send });
  }
  if (input.send !== undefined) return `send: ${provider} events need no send credentials`;
  if (options.algorithm !== undefined) return `options.algorithm: ${provider} has no signature options`;
  if (options.verifyToken !== undefined) return "options.verifyToken: only WhatsApp has a verify token";
  if (options.stopPayloads !== undefined) return "options.stopPayloads: only WhatsApp has stop buttons";
  if (provider === "ses") {
    if (secret !== undefined) {
      return "secret: Amazon SES has none (SNS messages are checked against Amazon's certificate); set options.topicArns";
    }
    return options.topicArns === undefined
      ? "options.topicArns: Amazon SES needs the SNS topic ARNs it publishes events to"
      : null;
  }
  if (secret === undefined) return "secret: required";
  switch (provider) {
    case "sendgrid": {
      const spki = verificationKey(secret);
      if (spki) {
        try {
          await crypto.subtle.importKey(
            "spki",
            spki as Uint8Array<ArrayBuffer>,
            { name: "ECDSA", namedCurve: "P-256" },
            false,
            ["verify"],
          );
          return null;
        } catch {
          // Falls through to the message below.
        }
      }
      return "secret: SendGrid's verification key is an ECDSA P-256 public key, base64 or PEM (Mail Settings → Signed Event Webhook)";
    }
    case "resend":
      return signingKey(secret)
        ? null
        : 'secret: Resend\'s signing secret is "whsec_" followed by base64 (Webhooks → your endpoint)';
    case "postmark":
      return secret.includes(":")
        ? null
        : 'secret: Postmark webhooks carry the "username:password" you put in the webhook URL';
    case "mailgun":
      return /\s/.test(secret.trim()) ? "secret: Mailgun's webhook signing key has no spaces" : null;
  }
}
