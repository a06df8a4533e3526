/**
 * Amazon SES, through an Amazon SNS topic (HTTPS subscription, raw message delivery off).
 *
 * Signature: the SNS message signature (see `../sns.ts`), checked against the PEM certificate the
 * edge fetched from `SigningCertURL` (passed as `options.certificate`; core does no I/O). SNS
 * signatures only prove that SNS sent the message, not whose topic it came from: anyone can
 * subscribe a URL to their own topic, so `options.topicArns` is required and every other topic is
 * refused. The shared `secret` is not used.
 *
 * Payload: the SNS `Message` is the SES record, either event publishing (`eventType`: Send,
 * Delivery, Open, Click, Bounce, Complaint, Subscription, …; "Examples of event data that Amazon
 * SES publishes to Amazon SNS") or identity feedback notifications (`notificationType`: Bounce,
 * Complaint, Delivery). Message tags (event publishing only) are `mail.tags`, `{ name: [value] }`.
 */
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { fail, header, ok, unixNow, type VerifyResult, type WebhookRequest } from "../../inbound/request.ts";
import { base64Decode, utf8 } from "../../inbound/signing.ts";
import { certificateKey, pemBlock } from "../der.ts";
import {
  messageEvent,
  occurredAt,
  optOut,
  parseJson,
  perRecipientId,
  present,
  userIds,
  validate,
} from "../payload.ts";
import {
  SnsMessage,
  type SnsMessage as SnsMessageType,
  snsCertificateUrlOf,
  snsStringToSign,
  snsTimestampProblem,
} from "../sns.ts";
import type { EventAdapter, EventParseContext, EventVerifyOptions, ProviderEvent } from "../types.ts";

function snsMessage(body: string): { message: SnsMessageType } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { problem: "body is not an SNS message (not JSON)" };
  }
  const parsed = SnsMessage.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "body")))];
    return { problem: `body is not an SNS message (${fields.join(", ")} missing or invalid)` };
  }
  return { message: parsed.data };
}

async function verify(
  request: WebhookRequest,
  _secret: string,
  options: EventVerifyOptions,
): Promise<VerifyResult> {
  const read = snsMessage(request.body);
  if ("problem" in read) return fail(read.problem);
  const message = read.message;
  const declared = header(request, "x-amz-sns-message-type");
  if (declared !== undefined && declared !== message.Type) {
    return fail("x-amz-sns-message-type header does not match the message Type");
  }
  const topics = options.topicArns ?? [];
  if (topics.length === 0) return fail("no allowed SNS topic ARNs are configured (options.topicArns)");
  if (!topics.includes(message.TopicArn)) return fail("TopicArn is not one of the configured topics");
  if (snsCertificateUrlOf(message.SigningCertURL) === null) {
    return fail("SigningCertURL is not an https://sns.<region>.amazonaws.com/….pem URL");
  }
  const stale = snsTimestampProblem(message.Timestamp, options);
  if (stale) return fail(stale);
  const hash =
    message.SignatureVersion === "1" ? "SHA-1" : message.SignatureVersion === "2" ? "SHA-256" : null;
  if (!hash) return fail("SignatureVersion is not 1 or 2");
  const signed = snsStringToSign(message);
  if (signed === null) return fail("confirmation lacks SubscribeURL or Token");
  const signature = base64Decode(message.Signature.trim());
  if (!signature) return fail("Signature is not base64");
  if (!options.certificate) return fail("no SNS signing certificate was supplied (options.certificate)");
  const der = pemBlock(options.certificate, "CERTIFICATE");
  if (!der) return fail("options.certificate is not a PEM certificate");
  let cert: ReturnType<typeof certificateKey>;
  try {
    cert = certificateKey(der);
  } catch {
    return fail("options.certificate is not an X.509 certificate");
  }
  const now = unixNow(options) * 1000;
  if (now < cert.notBefore || now > cert.notAfter)
    return fail("SNS signing certificate is expired or not yet valid");
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "spki",
      cert.spki as Uint8Array<ArrayBuffer>,
      { name: "RSASSA-PKCS1-v1_5", hash },
      false,
      ["verify"],
    );
  } catch {
    return fail("SNS signing certificate does not hold an RSA public key");
  }
  const valid = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    signature as Uint8Array<ArrayBuffer>,
    utf8(signed) as Uint8Array<ArrayBuffer>,
  );
  return valid ? ok() : fail("Signature does not match");
}

const Mail = z.object({
  messageId: z.string().min(1),
  timestamp: z.string().optional(),
  source: z.string().optional(),
  destination: z.array(z.string()).optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
});

const Recipient = z.object({ emailAddress: z.string().min(1) });

const SesRecord = z.object({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.unknown().optional(),
  delivery: z
    .object({ timestamp: z.string().optional(), recipients: z.array(z.string()).optional() })
    .optional(),
  open: z.object({ timestamp: z.string().optional() }).optional(),
  click: z.object({ timestamp: z.string().optional() }).optional(),
  bounce: z
    .object({
      bounceType: z.string(),
      bouncedRecipients: z.array(Recipient),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(Recipient),
      timestamp: z.string().optional(),
      complaintFeedbackType: z.string().optional(),
      complaintSubType: z.string().nullable().optional(),
    })
    .optional(),
  subscription: z
    .object({
      timestamp: z.string().optional(),
      newTopicPreferences: z.unknown().optional(),
      oldTopicPreferences: z.unknown().optional(),
    })
    .optional(),
});
type SesRecord = z.infer<typeof SesRecord>;

const TopicPreferences = z.object({
  unsubscribeAll: z.boolean().optional(),
  topicSubscriptionStatus: z
    .array(z.object({ topicName: z.string(), subscriptionStatus: z.string() }))
    .optional(),
});

/** What a Subscription event newly opted out of: everything, some topics, or nothing. */
function unsubscribed(record: SesRecord): string | null {
  const next = TopicPreferences.safeParse(record.subscription?.newTopicPreferences ?? {});
  const prev = TopicPreferences.safeParse(record.subscription?.oldTopicPreferences ?? {});
  if (!next.success) return null;
  const before = prev.success ? prev.data : {};
  if (next.data.unsubscribeAll === true && before.unsubscribeAll !== true)
    return "ses list unsubscribe (all topics)";
  const wasOut = new Set(
    (before.topicSubscriptionStatus ?? [])
      .filter((t) => t.subscriptionStatus === "OptOut")
      .map((t) => t.topicName),
  );
  const newlyOut = (next.data.topicSubscriptionStatus ?? [])
    .filter((t) => t.subscriptionStatus === "OptOut" && !wasOut.has(t.topicName))
    .map((t) => t.topicName);
  return newlyOut.length > 0 ? `ses list unsubscribe (topic ${newlyOut.join(", ")})` : null;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new DomainError("invalid_input", `ses ${what} is missing`);
  return value;
}

const READ = new Set(["Send", "Delivery", "Open", "Click", "Bounce", "Complaint", "Subscription"]);

function toEvents(
  sns: SnsMessageType,
  kind: string,
  record: SesRecord,
  context: EventParseContext,
): ProviderEvent[] {
  if (!READ.has(kind)) return [];
  const mail = validate(Mail, record.mail, "ses", `${kind} record mail`);
  const user = userIds(mail.tags);
  const destination = mail.destination ?? [];
  const sender = present(mail.source);
  const messageId = user.messageId ?? mail.messageId;

  const events = (
    type: "sent" | "delivered" | "opened" | "clicked" | "bounced" | "complained",
    recipients: readonly string[],
    at: string | undefined,
  ): ProviderEvent[] =>
    recipients.flatMap((address, i) =>
      messageEvent({
        type,
        messageId,
        address,
        sender,
        occurredAt: occurredAt(at, context.now),
        campaign: user.campaign,
        providerEventId: perRecipientId(sns.MessageId, i),
      }),
    );

  switch (kind) {
    case "Send":
      return events("sent", destination, mail.timestamp);
    case "Delivery":
      return events("delivered", record.delivery?.recipients ?? destination, record.delivery?.timestamp);
    case "Open":
      return events("opened", destination, record.open?.timestamp);
    case "Click":
      return events("clicked", destination, record.click?.timestamp);
    case "Bounce": {
      const bounce = required(record.bounce, "Bounce record's bounce object");
      // Transient and Undetermined bounces are soft: the address may still work.
      if (bounce.bounceType !== "Permanent") return [];
      return events(
        "bounced",
        bounce.bouncedRecipients.map((r) => r.emailAddress),
        bounce.timestamp,
      );
    }
    case "Complaint": {
      const complaint = required(record.complaint, "Complaint record's complaint object");
      // "not-spam" is a report that the message is fine; a complaint about an address already on
      // the account's suppression list is SES refusing to send, not a new complaint.
      if (complaint.complaintFeedbackType === "not-spam") return [];
      if (complaint.complaintSubType === "OnAccountSuppressionList") return [];
      return events(
        "complained",
        complaint.complainedRecipients.map((r) => r.emailAddress),
        complaint.timestamp,
      );
    }
    case "Subscription": {
      const reason = unsubscribed(record);
      if (!reason) return [];
      return destination.flatMap((address, i) =>
        optOut({
          address,
          occurredAt: occurredAt(record.subscription?.timestamp, context.now),
          providerEventId: perRecipientId(sns.MessageId, i),
          reason,
          messageId,
        }),
      );
    }
    default:
      return [];
  }
}

function parse(request: WebhookRequest, context: EventParseContext): ProviderEvent[] {
  const sns = validate(SnsMessage, parseJson(request.body, "ses"), "ses", "SNS message");
  // Subscription confirmations are the edge's to confirm (`snsSubscribeUrl`), not events.
  if (sns.Type !== "Notification") return [];
  const record = validate(SesRecord, parseJson(sns.Message, "ses", "SNS Message"), "ses", "SES record");
  // Anything else on the topic (AmazonSnsSubscriptionSucceeded, a test publish) is not an SES event.
  const kind = record.eventType ?? record.notificationType;
  return kind === undefined ? [] : toEvents(sns, kind, record, context);
}

export const ses: EventAdapter = { verify, parse };
