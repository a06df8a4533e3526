/**
 * Inbound-message (MO) webhooks as each SMS provider sends them — payload shapes from the
 * providers' documentation (the fixtures of packages/core/test/inbound) — signed with each
 * provider's own scheme. WebCrypto only, so the same code runs in Node ≥ 20 (scripts/send-mo.mjs)
 * and in workerd (the edge's tests). Written independently of @optout/core's verifiers, so a
 * test that passes proves two readings of each scheme agree.
 */

export const PROVIDERS = [
  "twilio",
  "vonage",
  "plivo",
  "telnyx",
  "infobip",
  "sinch",
  "bandwidth",
  "messagebird",
  "generic",
];

const encoder = new TextEncoder();
const digits = (number) => number.replace(/^\+/, "");

/** `2026-05-01 12:00:00` (Vonage's message-timestamp, UTC). */
const sqlTime = (date) => date.toISOString().slice(0, 19).replace("T", " ");

/**
 * The provider's payload for one message.
 * @param {string} provider
 * @param {{ id: string; from: string; to: string; text: string; receivedAt?: Date }} m
 * @returns {{ body: string; contentType: string }}
 */
export function inboundPayload(provider, m) {
  const at = m.receivedAt ?? new Date();
  const json = (value) => ({ body: JSON.stringify(value), contentType: "application/json" });
  const form = (fields) => ({
    body: new URLSearchParams(fields).toString(),
    contentType: "application/x-www-form-urlencoded",
  });
  switch (provider) {
    case "twilio":
      return form({
        ToCountry: "US",
        SmsMessageSid: m.id,
        NumMedia: "0",
        SmsSid: m.id,
        SmsStatus: "received",
        Body: m.text,
        To: m.to,
        NumSegments: "1",
        MessageSid: m.id,
        AccountSid: "AC0123456789abcdef0123456789abcdef",
        From: m.from,
        ApiVersion: "2010-04-01",
      });
    case "vonage":
      return form({
        msisdn: digits(m.from),
        to: digits(m.to),
        messageId: m.id,
        text: m.text,
        type: "text",
        keyword: m.text.trim().split(/\s+/)[0]?.toUpperCase() ?? "",
        "api-key": "abcd1234",
        "message-timestamp": sqlTime(at),
      });
    case "plivo":
      return form({
        From: digits(m.from),
        To: digits(m.to),
        Text: m.text,
        Type: "sms",
        MessageUUID: m.id,
        TotalRate: "0",
        TotalAmount: "0",
        Units: "1",
      });
    case "telnyx":
      return json({
        data: {
          event_type: "message.received",
          id: crypto.randomUUID(),
          occurred_at: at.toISOString(),
          payload: {
            direction: "inbound",
            encoding: "GSM-7",
            errors: [],
            from: { carrier: "T-Mobile USA", line_type: "long_code", phone_number: m.from },
            id: m.id,
            media: [],
            messaging_profile_id: "740572b6-099c-44a1-89b9-6c92163bc68d",
            parts: 1,
            received_at: at.toISOString(),
            record_type: "message",
            text: m.text,
            to: [
              { carrier: "Telnyx", line_type: "Wireless", phone_number: m.to, status: "webhook_delivered" },
            ],
            type: "SMS",
          },
          record_type: "event",
        },
        meta: { attempt: 1, delivered_to: "https://example.com/webhooks" },
      });
    case "infobip":
      return json({
        results: [
          {
            messageId: m.id,
            from: digits(m.from),
            to: digits(m.to),
            text: m.text,
            cleanText: m.text,
            keyword: "",
            receivedAt: at.toISOString().replace("Z", "+0000"),
            smsCount: 1,
            price: { pricePerMessage: 0, currency: "EUR" },
          },
        ],
        messageCount: 1,
        pendingMessageCount: 0,
      });
    case "sinch":
      return json({
        type: "mo_text",
        id: m.id,
        from: digits(m.from),
        to: digits(m.to),
        body: m.text,
        operator_id: "310260",
        received_at: at.toISOString(),
      });
    case "bandwidth":
      return json([
        {
          type: "message-received",
          time: at.toISOString(),
          description: "Incoming message received",
          to: m.to,
          message: {
            id: m.id,
            time: at.toISOString(),
            to: [m.to],
            from: m.from,
            text: m.text,
            applicationId: "93de2206-9669-4e07-948d-329f4b722ee2",
            media: [],
            owner: m.to,
            direction: "in",
            segmentCount: 1,
          },
        },
      ]);
    case "messagebird":
      return json({
        service: "channels",
        event: "sms.inbound",
        payload: {
          id: m.id,
          channelId: "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
          sender: {
            contact: { id: crypto.randomUUID(), identifierKey: "phonenumber", identifierValue: m.from },
          },
          receiver: { connector: { id: "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f", identifierValue: m.to } },
          body: { type: "text", text: { text: m.text } },
          status: "delivered",
          direction: "incoming",
          createdAt: at.toISOString(),
          updatedAt: at.toISOString(),
        },
      });
    case "generic":
      return json({
        messages: [{ id: m.id, from: m.from, to: m.to, text: m.text, receivedAt: at.toISOString() }],
      });
    case "whatsapp":
      return whatsappPayload({ to: m.to, messages: [{ ...m, receivedAt: at }] });
    default:
      throw new Error(`unknown provider ${provider}`);
  }
}

/**
 * A WhatsApp Cloud API webhook (Meta's "messages" field): text messages, quick-reply button taps
 * (`button: { payload, text }`) and statuses, for one business number `to`.
 * @param {{ to: string; messages?: { id: string; from: string; text?: string; button?: string; receivedAt?: Date }[];
 *   statuses?: { id: string; recipient: string; status: string; at?: Date; errorCode?: number }[] }} input
 */
export function whatsappPayload({ to, messages = [], statuses = [] }) {
  const unix = (date) => String(Math.floor((date ?? new Date()).getTime() / 1000));
  const value = {
    messaging_product: "whatsapp",
    metadata: { display_phone_number: digits(to), phone_number_id: "106540352242922" },
  };
  if (messages.length > 0) {
    value.contacts = messages.map((m) => ({ profile: { name: "Kerry Fisher" }, wa_id: digits(m.from) }));
    value.messages = messages.map((m) => ({
      from: digits(m.from),
      id: m.id,
      timestamp: unix(m.receivedAt),
      ...(m.button !== undefined
        ? { type: "button", button: { payload: m.button, text: m.button } }
        : { type: "text", text: { body: m.text ?? "" } }),
    }));
  }
  if (statuses.length > 0) {
    value.statuses = statuses.map((s) => ({
      id: s.id,
      status: s.status,
      timestamp: unix(s.at),
      recipient_id: digits(s.recipient),
      ...(s.errorCode !== undefined ? { errors: [{ code: s.errorCode, title: "error" }] } : {}),
    }));
  }
  return {
    body: JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "102290129340398", changes: [{ field: "messages", value }] }],
    }),
    contentType: "application/json",
  };
}

async function hmac(hash, key, data) {
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash }, false, [
    "sign",
  ]);
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", k, typeof data === "string" ? encoder.encode(data) : data),
  );
}

const base64 = (bytes) => btoa(String.fromCharCode(...bytes));
const hexOf = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const basic = (userPass) => `Basic ${btoa(userPass)}`;

/** Sorted `name + value` of form fields: Twilio's and Plivo's signed parameter string. */
function sortedPairs(body) {
  return [...new URLSearchParams(body)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => k + v)
    .join("");
}

/** A fresh Ed25519 key pair: the public key as Telnyx shows it (32 bytes, base64) and the private key. */
export async function telnyxKeyPair() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { publicKey: base64(raw), privateKey: pair.privateKey, privateKeyPkcs8: base64(pkcs8) };
}

async function telnyxPrivateKey(secret) {
  if (typeof secret !== "string") return secret;
  const der = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
}

/**
 * Signs a webhook like the provider. `secret` is what the provider signs with (for Telnyx: the
 * private key, a CryptoKey or PKCS#8 base64); `timestamp` (unix s) defaults to now; `algorithm`
 * is Vonage's signature method. Vonage puts its signature into the body, so the body may change.
 * @returns {Promise<{ url: string; body: string; headers: Record<string, string> }>}
 */
export async function signWebhook(provider, { url, body, contentType, secret, timestamp, algorithm }) {
  const t = String(timestamp ?? Math.floor(Date.now() / 1000));
  const headers = { "content-type": contentType };
  switch (provider) {
    case "twilio": {
      headers["x-twilio-signature"] = base64(await hmac("SHA-1", secret, url + sortedPairs(body)));
      return { url, body, headers };
    }
    case "vonage": {
      const params = Object.fromEntries(new URLSearchParams(body));
      params.timestamp = t;
      params.nonce = crypto.randomUUID();
      const signed = Object.keys(params)
        .sort()
        .map((k) => `&${k}=${params[k].replace(/[&=]/g, "_")}`)
        .join("");
      const hash = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" }[algorithm ?? "sha256"];
      if (!hash) throw new Error("this signer does Vonage's sha1, sha256 and sha512 HMAC methods");
      params.sig = hexOf(await hmac(hash, secret, signed));
      return { url, body: new URLSearchParams(params).toString(), headers };
    }
    case "plivo": {
      const nonce = String(Math.floor(Math.random() * 1e18));
      const u = new URL(url);
      const query = [...u.searchParams]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join("&");
      const base = `${u.origin}${u.pathname}?${query}${query ? "." : ""}${sortedPairs(body)}`;
      headers["x-plivo-signature-v3"] = base64(await hmac("SHA-256", secret, `${base}.${nonce}`));
      headers["x-plivo-signature-v3-nonce"] = nonce;
      return { url, body, headers };
    }
    case "telnyx": {
      const key = await telnyxPrivateKey(secret);
      const signature = await crypto.subtle.sign("Ed25519", key, encoder.encode(`${t}|${body}`));
      headers["telnyx-signature-ed25519"] = base64(new Uint8Array(signature));
      headers["telnyx-timestamp"] = t;
      return { url, body, headers };
    }
    case "infobip":
    case "bandwidth":
      headers.authorization = basic(secret);
      return { url, body, headers };
    case "sinch": {
      const nonce = crypto.randomUUID();
      headers["x-sinch-webhook-signature"] = base64(await hmac("SHA-256", secret, `${body}.${nonce}.${t}`));
      headers["x-sinch-webhook-signature-nonce"] = nonce;
      headers["x-sinch-webhook-signature-timestamp"] = t;
      headers["x-sinch-webhook-signature-algorithm"] = "HmacSHA256";
      return { url, body, headers };
    }
    case "whatsapp":
      headers["x-hub-signature-256"] = `sha256=${hexOf(await hmac("SHA-256", secret, body))}`;
      return { url, body, headers };
    case "messagebird": {
      const bodyHash = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
      const prefix = encoder.encode(`${t}\n${url}\n`);
      const data = new Uint8Array(prefix.length + bodyHash.length);
      data.set(prefix);
      data.set(bodyHash, prefix.length);
      headers["messagebird-signature"] = base64(await hmac("SHA-256", secret, data));
      headers["messagebird-request-timestamp"] = t;
      return { url, body, headers };
    }
    case "generic":
      headers["x-optout-signature"] = `t=${t},v1=${hexOf(await hmac("SHA-256", secret, `${t}.${body}`))}`;
      return { url, body, headers };
    default:
      throw new Error(`unknown provider ${provider}`);
  }
}
