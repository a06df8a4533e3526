/**
 * Provider event webhooks as each provider sends them — email providers' events (SendGrid, Amazon
 * SES through SNS, Mailgun, Postmark, Resend) and SMS providers' status callbacks — signed with
 * each provider's own scheme. Payload shapes follow the providers' documentation (the fixtures of
 * packages/core/test/events). WebCrypto only, so the same code runs in Node ≥ 20
 * (scripts/send-event.mjs) and in workerd (the edge's tests). Written independently of
 * @optout/core's verifiers: a test that passes proves two readings of each scheme agree.
 */
import { signWebhook } from "./mo-payloads.mjs";

export const EMAIL_PROVIDERS = ["sendgrid", "ses", "mailgun", "postmark", "resend"];
/** SMS providers whose status callbacks `statusCallback` builds. */
export const STATUS_PROVIDERS = ["twilio", "telnyx", "vonage"];
/** What each email event builder can send; `unsubscribed` is the provider's own unsubscribe. */
export const EMAIL_EVENT_TYPES = [
  "sent",
  "delivered",
  "opened",
  "clicked",
  "bounced",
  "complained",
  "unsubscribed",
];

const encoder = new TextEncoder();
const base64 = (bytes) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const hexOf = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const digits = (number) => number.replace(/^\+/, "");
const unix = (date) => Math.floor(date.getTime() / 1000);
const json = (value) => ({ body: JSON.stringify(value), contentType: "application/json" });

async function hmac(hash, key, data) {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(data)));
}

/**
 * One email event as the provider posts it, or null when the provider has no such event
 * (Postmark reports no "sent"). For SES this is the SES record: `signEventWebhook` wraps it in
 * the signed SNS message.
 * @param {string} provider
 * @param {{ type: string; id: string; providerMessageId: string; messageId?: string; campaign?: string;
 *   to: string; from: string; at: Date }} e
 */
export function emailEvent(provider, e) {
  const at = e.at;
  const iso = at.toISOString();
  const user = {
    ...(e.messageId ? { optout_message_id: e.messageId } : {}),
    ...(e.campaign ? { optout_campaign: e.campaign } : {}),
  };
  switch (provider) {
    case "sendgrid": {
      const event = {
        sent: "processed",
        delivered: "delivered",
        opened: "open",
        clicked: "click",
        bounced: "bounce",
        complained: "spamreport",
        unsubscribed: "unsubscribe",
      }[e.type];
      return json([
        {
          email: e.to,
          timestamp: unix(at),
          "smtp-id": `<${e.providerMessageId}@acme.test>`,
          event,
          ...(event === "bounce"
            ? { type: "bounce", reason: "550 5.1.1 unknown user", status: "5.1.1" }
            : {}),
          ...(event === "click" ? { url: "https://acme.test/offer" } : {}),
          sg_event_id: e.id,
          sg_message_id: e.providerMessageId,
          ...user,
        },
      ]);
    }
    case "ses": {
      const mail = {
        timestamp: iso,
        source: e.from,
        sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/acme.test",
        sendingAccountId: "123456789012",
        messageId: e.providerMessageId,
        destination: [e.to],
        tags: Object.fromEntries(Object.entries(user).map(([k, v]) => [k, [v]])),
      };
      const record = {
        sent: { eventType: "Send", mail, send: {} },
        delivered: {
          eventType: "Delivery",
          mail,
          delivery: {
            timestamp: iso,
            recipients: [e.to],
            processingTimeMillis: 546,
            smtpResponse: "250 2.6.0 OK",
          },
        },
        opened: {
          eventType: "Open",
          mail,
          open: { timestamp: iso, userAgent: "Mozilla/5.0", ipAddress: "192.0.2.1" },
        },
        clicked: { eventType: "Click", mail, click: { timestamp: iso, link: "https://acme.test/offer" } },
        bounced: {
          eventType: "Bounce",
          mail,
          bounce: {
            bounceType: "Permanent",
            bounceSubType: "General",
            bouncedRecipients: [{ emailAddress: e.to, action: "failed", status: "5.1.1" }],
            timestamp: iso,
            feedbackId: e.id,
          },
        },
        complained: {
          eventType: "Complaint",
          mail,
          complaint: {
            complainedRecipients: [{ emailAddress: e.to }],
            timestamp: iso,
            feedbackId: e.id,
            complaintFeedbackType: "abuse",
          },
        },
        unsubscribed: {
          eventType: "Subscription",
          mail,
          subscription: {
            contactList: "newsletter",
            timestamp: iso,
            source: "UnsubscribeHeader",
            newTopicPreferences: { unsubscribeAll: true, topicSubscriptionStatus: [] },
            oldTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [] },
          },
        },
      }[e.type];
      return json(record);
    }
    case "mailgun": {
      const event = {
        sent: "accepted",
        delivered: "delivered",
        opened: "opened",
        clicked: "clicked",
        bounced: "failed",
        complained: "complained",
        unsubscribed: "unsubscribed",
      }[e.type];
      return json({
        // Filled in by signEventWebhook.
        signature: { timestamp: "", token: "", signature: "" },
        "event-data": {
          event,
          id: e.id,
          timestamp: at.getTime() / 1000,
          recipient: e.to,
          ...(event === "failed" ? { severity: "permanent", reason: "bounce" } : {}),
          message: { headers: { "message-id": e.providerMessageId, from: e.from, to: e.to } },
          envelope: { sender: e.from },
          "user-variables": user,
        },
      });
    }
    case "postmark": {
      const common = { MessageID: e.providerMessageId, Metadata: user, MessageStream: "outbound" };
      switch (e.type) {
        case "sent":
          return null;
        case "delivered":
          return json({
            RecordType: "Delivery",
            ...common,
            Recipient: e.to,
            DeliveredAt: iso,
            Details: "ok",
          });
        case "opened":
          return json({ RecordType: "Open", ...common, Recipient: e.to, ReceivedAt: iso, FirstOpen: true });
        case "clicked":
          return json({
            RecordType: "Click",
            ...common,
            Recipient: e.to,
            ReceivedAt: iso,
            OriginalLink: "https://acme.test/offer",
          });
        case "bounced":
        case "complained":
          return json({
            RecordType: e.type === "bounced" ? "Bounce" : "SpamComplaint",
            ...common,
            ID: Number.parseInt(e.id.replace(/\D/g, "").slice(0, 12) || "1", 10),
            Type: e.type === "bounced" ? "HardBounce" : "SpamComplaint",
            Email: e.to,
            From: e.from,
            BouncedAt: iso,
          });
        case "unsubscribed":
          return json({
            RecordType: "SubscriptionChange",
            ...common,
            Recipient: e.to,
            ChangedAt: iso,
            SuppressSending: true,
            SuppressionReason: "ManualSuppression",
            Origin: "Recipient",
          });
      }
      return null;
    }
    case "resend": {
      if (e.type === "unsubscribed") {
        return json({
          type: "contact.updated",
          created_at: iso,
          data: { id: e.id, email: e.to, unsubscribed: true, created_at: iso, updated_at: iso },
        });
      }
      return json({
        type: `email.${e.type}`,
        created_at: iso,
        data: {
          email_id: e.providerMessageId,
          from: e.from,
          to: [e.to],
          subject: "Spring offers",
          created_at: iso,
          tags: user,
          ...(e.type === "bounced"
            ? { bounce: { type: "Permanent", subType: "General", message: "550" } }
            : {}),
          ...(e.type === "clicked" ? { click: { link: "https://acme.test/offer", timestamp: iso } } : {}),
        },
      });
    }
    default:
      throw new Error(`unknown email provider ${provider}`);
  }
}

/**
 * One SMS status callback as the provider posts it. `status`: sent, delivered, or opted_out (a
 * failure with the provider's "recipient opted out" code: Twilio 21610, Telnyx 40300, Vonage 9).
 * @param {string} provider
 * @param {{ id: string; from: string; to: string; status: "sent" | "delivered" | "opted_out"; at?: Date }} s
 */
export function statusCallback(provider, s) {
  const at = s.at ?? new Date();
  switch (provider) {
    case "twilio":
      return {
        body: new URLSearchParams({
          SmsSid: s.id,
          SmsStatus: s.status === "opted_out" ? "undelivered" : s.status,
          MessageStatus: s.status === "opted_out" ? "undelivered" : s.status,
          To: s.to,
          MessageSid: s.id,
          AccountSid: "AC0123456789abcdef0123456789abcdef",
          From: s.from,
          ApiVersion: "2010-04-01",
          ...(s.status === "opted_out" ? { ErrorCode: "21610" } : {}),
        }).toString(),
        contentType: "application/x-www-form-urlencoded",
      };
    case "telnyx":
      return json({
        data: {
          event_type: s.status === "sent" ? "message.sent" : "message.finalized",
          id: `${s.id}-${s.status}`,
          occurred_at: at.toISOString(),
          record_type: "event",
          payload: {
            id: s.id,
            direction: "outbound",
            type: "SMS",
            from: { phone_number: s.from },
            to: [
              {
                phone_number: s.to,
                status: s.status === "opted_out" ? "delivery_failed" : s.status,
              },
            ],
            errors: s.status === "opted_out" ? [{ code: "40300", title: "Blocked due to STOP message" }] : [],
            sent_at: at.toISOString(),
            completed_at: at.toISOString(),
          },
        },
        meta: { attempt: 1, delivered_to: "https://edge.test" },
      });
    case "vonage":
      return {
        body: new URLSearchParams({
          msisdn: digits(s.to),
          to: digits(s.from),
          "network-code": "310090",
          messageId: s.id,
          price: "0.00570000",
          status: s.status === "opted_out" ? "failed" : s.status === "sent" ? "accepted" : "delivered",
          scts: "2001011400",
          "err-code": s.status === "opted_out" ? "9" : "0",
          "api-key": "abcd1234",
          "message-timestamp": at.toISOString().slice(0, 19).replace("T", " "),
        }).toString(),
        contentType: "application/x-www-form-urlencoded",
      };
    default:
      throw new Error(`this script builds status callbacks for ${STATUS_PROVIDERS.join(", ")}`);
  }
}

// ---------- SendGrid: ECDSA P-256 ----------

/** A SendGrid-style key pair: the verification key as SendGrid shows it (base64 SPKI), and the signing key. */
export async function sendgridKeyPair() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { publicKey: base64(spki), privateKey: pair.privateKey, privateKeyPkcs8: base64(pkcs8) };
}

/** WebCrypto's r‖s as the DER SEQUENCE of two INTEGERs that SendGrid sends. */
function p1363ToDer(sig) {
  const integer = (bytes) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const trimmed = bytes.slice(i);
    const body = trimmed[0] & 0x80 ? [0, ...trimmed] : [...trimmed];
    return [0x02, body.length, ...body];
  };
  const half = sig.length / 2;
  const content = [...integer(sig.slice(0, half)), ...integer(sig.slice(half))];
  return new Uint8Array([0x30, content.length, ...content]);
}

// ---------- Amazon SNS: RSA, and a self-signed certificate for the stand-in to serve ----------

function derLength(n) {
  if (n < 0x80) return [n];
  const bytes = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}
const der = (tag, ...parts) => {
  const body = parts.flatMap((p) => [...p]);
  return [tag, ...derLength(body.length), ...body];
};
const oidBytes = (dotted) => {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const groups = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return der(0x06, out);
};
const utcTime = (date) => {
  const p = (n) => String(n).padStart(2, "0");
  const text = `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}Z`;
  return der(0x17, [...encoder.encode(text)]);
};

/**
 * An RSA key pair and a self-signed certificate holding its public key (PEM), valid from a day ago
 * for a year: what an SNS signing certificate is, for a stand-in to serve.
 */
export async function snsSigningKey() {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const spki = [...new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey))];
  const algorithm = der(0x30, oidBytes("1.2.840.113549.1.1.11"), [0x05, 0x00]);
  const name = der(
    0x30,
    der(0x31, der(0x30, oidBytes("2.5.4.3"), der(0x0c, [...encoder.encode("sns.amazonaws.com")]))),
  );
  const now = Date.now();
  const serial = [...crypto.getRandomValues(new Uint8Array(8))];
  serial[0] &= 0x7f;
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, [2])),
    der(0x02, serial),
    algorithm,
    name,
    der(0x30, utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name,
    spki,
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, new Uint8Array(tbs)),
  );
  const certificate = der(0x30, tbs, algorithm, der(0x03, [0, ...signature]));
  const pem = `-----BEGIN CERTIFICATE-----\n${base64(new Uint8Array(certificate))
    .match(/.{1,64}/g)
    .join("\n")}\n-----END CERTIFICATE-----\n`;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { privateKey: pair.privateKey, privateKeyPkcs8: base64(pkcs8), certificatePem: pem };
}

async function rsaKey(key, hash) {
  const pkcs8 =
    typeof key === "string" ? fromBase64(key) : new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["sign"]);
}

const SNS_NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const SNS_CONFIRMATION_KEYS = [
  "Message",
  "MessageId",
  "SubscribeURL",
  "Timestamp",
  "Token",
  "TopicArn",
  "Type",
];

/** Signs an SNS message's fields as SNS does (v1: SHA1withRSA, v2: SHA256withRSA). */
export async function signSnsMessage(fields, { privateKey, certUrl, version = "2" }) {
  const keys = fields.Type === "Notification" ? SNS_NOTIFICATION_KEYS : SNS_CONFIRMATION_KEYS;
  const canonical = keys
    .filter((k) => fields[k] !== undefined)
    .map((k) => `${k}\n${fields[k]}\n`)
    .join("");
  const key = await rsaKey(privateKey, version === "1" ? "SHA-1" : "SHA-256");
  const signature = new Uint8Array(
    await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, encoder.encode(canonical)),
  );
  return { ...fields, SignatureVersion: version, Signature: base64(signature), SigningCertURL: certUrl };
}

/** An SNS SubscriptionConfirmation for `topicArn` (its region's SNS host), unsigned. */
export function snsSubscriptionConfirmation(
  topicArn,
  { token = hexOf(crypto.getRandomValues(new Uint8Array(64))), at = new Date() } = {},
) {
  const region = topicArn.split(":")[3];
  const subscribeUrl = `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`;
  return {
    Type: "SubscriptionConfirmation",
    MessageId: crypto.randomUUID(),
    Token: token,
    TopicArn: topicArn,
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: subscribeUrl,
    Timestamp: at.toISOString(),
  };
}

/**
 * Signs an email provider's event webhook like the provider. `secret`: SendGrid's private key
 * (CryptoKey or PKCS#8 base64), Mailgun's signing key, Postmark's `user:password`, Resend's
 * `whsec_` secret; for SES `{ privateKey, certUrl, topicArn, version? }` (the body is the SES
 * record, or a whole SNS message object for confirmations). `timestamp` (unix s) defaults to now.
 * Mailgun and SES put the signature into the body, so the body changes. SMS providers' status
 * callbacks are signed like their inbound webhooks (mo-payloads.mjs `signWebhook`).
 * @returns {Promise<{ url: string; body: string; headers: Record<string, string> }>}
 */
export async function signEventWebhook(
  provider,
  { url, body, contentType = "application/json", secret, timestamp, token, id },
) {
  const t = String(timestamp ?? Math.floor(Date.now() / 1000));
  const headers = { "content-type": contentType };
  switch (provider) {
    case "sendgrid": {
      const key =
        typeof secret === "string"
          ? await crypto.subtle.importKey(
              "pkcs8",
              fromBase64(secret),
              { name: "ECDSA", namedCurve: "P-256" },
              false,
              ["sign"],
            )
          : secret;
      const sig = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, encoder.encode(t + body)),
      );
      headers["x-twilio-email-event-webhook-signature"] = base64(p1363ToDer(sig));
      headers["x-twilio-email-event-webhook-timestamp"] = t;
      return { url, body, headers };
    }
    case "mailgun": {
      const value = JSON.parse(body);
      const nonce = token ?? hexOf(crypto.getRandomValues(new Uint8Array(25)));
      value.signature = {
        timestamp: t,
        token: nonce,
        signature: hexOf(await hmac("SHA-256", secret, t + nonce)),
      };
      return { url, body: JSON.stringify(value), headers };
    }
    case "postmark":
      headers.authorization = `Basic ${btoa(secret)}`;
      return { url, body, headers };
    case "resend": {
      const msgId = id ?? `msg_${crypto.randomUUID()}`;
      const key = fromBase64(secret.replace(/^whsec_/, ""));
      headers["svix-id"] = msgId;
      headers["svix-timestamp"] = t;
      headers["svix-signature"] = `v1,${base64(await hmac("SHA-256", key, `${msgId}.${t}.${body}`))}`;
      return { url, body, headers };
    }
    case "ses": {
      const parsed = JSON.parse(body);
      const at = new Date(Number(t) * 1000).toISOString();
      const fields =
        parsed.Type === "SubscriptionConfirmation" || parsed.Type === "UnsubscribeConfirmation"
          ? { ...parsed, Timestamp: at }
          : {
              Type: "Notification",
              MessageId: id ?? crypto.randomUUID(),
              TopicArn: secret.topicArn,
              Message: body,
              Timestamp: at,
              UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${secret.topicArn}:0`,
            };
      const signed = await signSnsMessage(fields, secret);
      headers["content-type"] = "text/plain; charset=UTF-8";
      headers["x-amz-sns-message-type"] = fields.Type;
      headers["x-amz-sns-message-id"] = fields.MessageId;
      headers["x-amz-sns-topic-arn"] = fields.TopicArn;
      return { url, body: JSON.stringify(signed), headers };
    }
    default:
      return signWebhook(provider, { url, body, contentType, secret, timestamp });
  }
}
