/**
 * Amazon SNS HTTP(S) messages, as Amazon SES delivers its events through them.
 *
 * Read from AWS's "Verifying the signatures of Amazon SNS messages" (sns-verify-signature-of-message)
 * and "Parsing message formats" docs, and from aws/aws-js-sns-message-validator `index.js`: the
 * signature is RSA PKCS#1 v1.5 over a canonical string of `name\nvalue\n` pairs in a fixed order
 * (Notification: Message, MessageId, Subject if present, Timestamp, TopicArn, Type; the two
 * confirmations: Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type), SHA-1 for
 * `SignatureVersion` 1 and SHA-256 for 2, checked with the key of the certificate at
 * `SigningCertURL`. That URL, and a confirmation's `SubscribeURL`, must be HTTPS on an
 * `sns.<region>.amazonaws.com` host (`.com.cn` in China, as the AWS validator allows): anything
 * else could point the edge at a certificate an attacker made.
 */
import { z } from "zod";
import { parseUrl, tolerance, unixNow, type VerifyOptions } from "../inbound/request.ts";

export const SnsMessageType = z.enum(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]);
export type SnsMessageType = z.infer<typeof SnsMessageType>;

/** The fields of an SNS HTTP(S) message that verification and parsing read. */
export const SnsMessage = z.object({
  Type: SnsMessageType,
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.string(),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  // Lambda writes an absent subject as null; HTTP deliveries omit it.
  Subject: z.string().nullable().optional(),
  SubscribeURL: z.string().optional(),
  Token: z.string().optional(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

/**
 * SNS retries an HTTP(S) delivery for at most 3,600 s ("Amazon SNS message delivery retries": a
 * hard limit), and every retry carries the original `Timestamp`: older than that, plus clock skew,
 * is a replay.
 */
export const SNS_MAX_AGE_SECONDS = 3600;

const NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] as const;
const CONFIRMATION_KEYS = [
  "Message",
  "MessageId",
  "SubscribeURL",
  "Timestamp",
  "Token",
  "TopicArn",
  "Type",
] as const;

/** The string SNS signs, or null when a confirmation lacks its SubscribeURL or Token. */
export function snsStringToSign(message: SnsMessage): string | null {
  const keys = message.Type === "Notification" ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  let out = "";
  for (const key of keys) {
    const value = message[key];
    if (value === undefined || value === null) {
      if (key === "Subject") continue;
      return null;
    }
    out += `${key}\n${value}\n`;
  }
  return out;
}

// Regions look like us-east-1, us-gov-west-1, cn-north-1, ap-southeast-3.
const SNS_HOST = /^sns\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?$/;

/** An HTTPS URL on an SNS host, with nothing that could redirect it elsewhere, or null. */
function snsUrl(raw: string): { url: URL; region: string } | null {
  const url = parseUrl(raw);
  if (url?.protocol !== "https:") return null;
  if (url.username !== "" || url.password !== "" || url.port !== "" || url.hash !== "") return null;
  const m = SNS_HOST.exec(url.hostname);
  return m ? { url, region: m[1]! } : null;
}

/** The SigningCertURL as the edge may fetch it (normalized), if it is an SNS certificate URL. */
export function snsCertificateUrlOf(raw: string): string | null {
  const sns = snsUrl(raw);
  if (sns?.url.search !== "" || !/^\/[A-Za-z0-9._-]+\.pem$/.test(sns.url.pathname)) return null;
  return sns.url.href;
}

function bodyObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * The certificate URL the edge may fetch for this SNS message body: its `SigningCertURL` when that
 * is `https://sns.<region>.amazonaws.com/<name>.pem`, else null (fetch nothing, refuse the message).
 */
export function snsCertificateUrl(body: string): string | null {
  const message = bodyObject(body);
  const raw = message?.SigningCertURL;
  return typeof raw === "string" ? snsCertificateUrlOf(raw) : null;
}

/**
 * The URL that confirms the subscription a `SubscriptionConfirmation` body asks for, validated like
 * `snsCertificateUrl` (HTTPS on the SNS host of the topic's own region, `Action=ConfirmSubscription`
 * for this topic and token), else null. Call only after `verifyEventWebhook` accepted the body: it
 * is what restricts confirmations to the configured topics.
 */
export function snsSubscribeUrl(body: string): string | null {
  const message = bodyObject(body);
  if (message?.Type !== "SubscriptionConfirmation") return null;
  const { SubscribeURL, TopicArn, Token } = message;
  if (typeof SubscribeURL !== "string" || typeof TopicArn !== "string") return null;
  const sns = snsUrl(SubscribeURL);
  if (sns?.url.pathname !== "/") return null;
  const params = sns.url.searchParams;
  if (params.get("Action") !== "ConfirmSubscription") return null;
  if (params.get("TopicArn") !== TopicArn) return null;
  const token = params.get("Token");
  if (token === null || (typeof Token === "string" && token !== Token)) return null;
  // arn:<partition>:sns:<region>:<account>:<topic>
  if (TopicArn.split(":")[3] !== sns.region) return null;
  return sns.url.href;
}

const SNS_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** Why this SNS `Timestamp` is outside the replay window at `now`, or null. */
export function snsTimestampProblem(timestamp: string, options: VerifyOptions): string | null {
  const ms = SNS_TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (!Number.isFinite(ms)) return "Timestamp is not an ISO-8601 UTC instant";
  const now = unixNow(options) * 1000;
  const skew = tolerance(options) * 1000;
  if (ms - now > skew) return `Timestamp is more than ${tolerance(options)} s in the future`;
  if (now - ms > SNS_MAX_AGE_SECONDS * 1000 + skew) {
    return `Timestamp is older than SNS's ${SNS_MAX_AGE_SECONDS} s retry period (plus ${tolerance(options)} s)`;
  }
  return null;
}
