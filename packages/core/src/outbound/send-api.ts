/**
 * Confirmations through the providers' send APIs, for the SMS providers whose webhooks cannot
 * carry a reply (Vonage, Telnyx, Infobip, Sinch, Bandwidth, Bird): which credentials each needs,
 * the exact HTTP request that sends one text, and what the provider's answer means. Pure: the
 * edge does the fetch, keeps the credentials and decides when to try.
 *
 * Request shapes (docs/providers.md, "Confirmations through the send APIs", has the sources):
 *  - Vonage SMS API: `POST {base}/sms/json`, form `api_key`, `api_secret`, `from`, `to`, `text`
 *    (`type=unicode` for text outside GSM-7); numbers without "+". Answers 200 with
 *    `messages[].status` ("0" sent, "1" throttled).
 *  - Telnyx: `POST {base}/v2/messages`, `Authorization: Bearer <API key>`, `{ from, to, text }`.
 *  - Infobip: `POST {base}/sms/2/text/advanced`, `Authorization: App <API key>`,
 *    `{ messages: [{ from, destinations: [{ to }], text }] }`.
 *  - Sinch SMS (XMS): `POST {base}/xms/v1/{servicePlanId}/batches`, `Authorization: Bearer <API
 *    token>`, `{ from, to: [to], body }`.
 *  - Bandwidth: `POST {base}/api/v2/users/{accountId}/messages`, HTTP Basic (API user),
 *    `{ applicationId, from, to: [to], text }`.
 *  - Bird Channels API: `POST {base}/workspaces/{workspaceId}/channels/{channelId}/messages`,
 *    `Authorization: AccessKey <key>`, `{ receiver: { contacts: [{ identifierValue }] }, body:
 *    { type: "text", text: { text } } }` (the channel is the sender).
 */
import { z } from "zod";
import type { InboundProvider } from "../inbound/types.ts";

/** The providers optout sends confirmations through. */
export const SendApiProvider = z.enum(["vonage", "telnyx", "infobip", "sinch", "bandwidth", "messagebird"]);
export type SendApiProvider = z.infer<typeof SendApiProvider>;

export function isSendApiProvider(provider: InboundProvider | string): provider is SendApiProvider {
  return SendApiProvider.safeParse(provider).success;
}

/**
 * Where each send API lives unless the deployment says otherwise (`<PROVIDER>_API_BASE_URL`).
 * Infobip's is its global endpoint; an account's personal base URL (`xxxxx.api.infobip.com`)
 * works too, but it is the deployment's setting, never a tenant's.
 */
export const SEND_API_DEFAULT_BASE_URLS: Readonly<Record<SendApiProvider, string>> = {
  vonage: "https://rest.nexmo.com",
  telnyx: "https://api.telnyx.com",
  infobip: "https://api.infobip.com",
  sinch: "https://us.sms.api.sinch.com",
  bandwidth: "https://messaging.bandwidth.com",
  messagebird: "https://api.bird.com",
};

// Ids that end up in a URL path: nothing that could leave the path segment.
const PathId = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "letters, digits, _ and - only");
const Secret = z.string().trim().min(1).max(1024);

/**
 * The send credentials of `PUT /v1/providers/{provider}` (`send`), one shape for all providers;
 * `sendCredentialsProblem` says which fields each provider needs. Stored like the webhook secret
 * and never returned.
 */
export const SendCredentials = z.strictObject({
  /** Vonage API key; Telnyx API key; Infobip API key. */
  apiKey: Secret.optional(),
  /** Vonage API secret. */
  apiSecret: Secret.optional(),
  /** Sinch: the service plan id and its API token. */
  servicePlanId: PathId.optional(),
  apiToken: Secret.optional(),
  /** Bandwidth: account id, messaging application id, and the API user's `username:password`. */
  accountId: PathId.optional(),
  applicationId: Secret.optional(),
  basicAuth: Secret.optional(),
  /** Bird: access key, workspace id and the SMS channel id that sends. */
  accessKey: Secret.optional(),
  workspaceId: PathId.optional(),
  channelId: PathId.optional(),
});
export type SendCredentials = z.infer<typeof SendCredentials>;

const REQUIRED: Readonly<Record<SendApiProvider, readonly (keyof SendCredentials)[]>> = {
  vonage: ["apiKey", "apiSecret"],
  telnyx: ["apiKey"],
  infobip: ["apiKey"],
  sinch: ["servicePlanId", "apiToken"],
  bandwidth: ["accountId", "applicationId", "basicAuth"],
  messagebird: ["accessKey", "workspaceId", "channelId"],
};

/** What is wrong with `send` for `provider` (a missing or foreign field), or null. */
export function sendCredentialsProblem(provider: InboundProvider, send: SendCredentials): string | null {
  if (!isSendApiProvider(provider)) {
    return `send: ${provider} confirmations are not sent through a send API (${
      provider === "twilio" || provider === "plivo" || provider === "generic"
        ? "they go in the webhook's answer"
        : "none are sent"
    })`;
  }
  const required = REQUIRED[provider];
  for (const field of required) {
    if (send[field] === undefined) return `send.${field}: ${provider} needs ${required.join(", ")}`;
  }
  for (const field of Object.keys(send) as (keyof SendCredentials)[]) {
    if (send[field] !== undefined && !required.includes(field)) {
      return `send.${field}: not a ${provider} credential (${provider} takes ${required.join(", ")})`;
    }
  }
  if (provider === "bandwidth" && !send.basicAuth?.includes(":")) {
    return "send.basicAuth: the Bandwidth API user as username:password";
  }
  return null;
}

export interface SendRequestInput {
  provider: SendApiProvider;
  credentials: SendCredentials;
  /** The deployment's base URL for the provider (no trailing slash needed). */
  baseUrl: string;
  /** The account's number the inbound message was sent to: the confirmation's sender. */
  from: string;
  /** The end user (E.164). */
  to: string;
  text: string;
}

export interface SendRequest {
  method: "POST";
  url: string;
  headers: Record<string, string>;
  body: string;
}

const digits = (number: string) => number.trim().replace(/^\+/, "");
const json = (value: unknown) => JSON.stringify(value);
const JSON_TYPE = { "content-type": "application/json", accept: "application/json" };

// GSM 03.38 basic set and its extension table: text outside it must go as Unicode on Vonage.
const GSM_7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;

function need(credentials: SendCredentials, field: keyof SendCredentials): string {
  const value = credentials[field];
  if (value === undefined) throw new Error(`send credentials lack ${field}`);
  return value;
}

/** The one HTTP request that sends `text` to `to` through the provider's send API. */
export function buildSendRequest(input: SendRequestInput): SendRequest {
  const base = input.baseUrl.replace(/\/+$/, "");
  const c = input.credentials;
  switch (input.provider) {
    case "vonage": {
      const form = new URLSearchParams({
        api_key: need(c, "apiKey"),
        api_secret: need(c, "apiSecret"),
        from: digits(input.from),
        to: digits(input.to),
        text: input.text,
      });
      if (!GSM_7.test(input.text)) form.set("type", "unicode");
      return {
        method: "POST",
        url: `${base}/sms/json`,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
      };
    }
    case "telnyx":
      return {
        method: "POST",
        url: `${base}/v2/messages`,
        headers: { ...JSON_TYPE, authorization: `Bearer ${need(c, "apiKey")}` },
        body: json({ from: input.from, to: input.to, text: input.text }),
      };
    case "infobip":
      return {
        method: "POST",
        url: `${base}/sms/2/text/advanced`,
        headers: { ...JSON_TYPE, authorization: `App ${need(c, "apiKey")}` },
        body: json({
          messages: [
            { from: digits(input.from), destinations: [{ to: digits(input.to) }], text: input.text },
          ],
        }),
      };
    case "sinch":
      return {
        method: "POST",
        url: `${base}/xms/v1/${encodeURIComponent(need(c, "servicePlanId"))}/batches`,
        headers: { ...JSON_TYPE, authorization: `Bearer ${need(c, "apiToken")}` },
        body: json({ from: digits(input.from), to: [digits(input.to)], body: input.text }),
      };
    case "bandwidth":
      return {
        method: "POST",
        url: `${base}/api/v2/users/${encodeURIComponent(need(c, "accountId"))}/messages`,
        headers: { ...JSON_TYPE, authorization: `Basic ${base64Utf8(need(c, "basicAuth"))}` },
        body: json({
          applicationId: need(c, "applicationId"),
          from: input.from,
          to: [input.to],
          text: input.text,
        }),
      };
    case "messagebird":
      return {
        method: "POST",
        url: `${base}/workspaces/${encodeURIComponent(need(c, "workspaceId"))}/channels/${encodeURIComponent(
          need(c, "channelId"),
        )}/messages`,
        headers: { ...JSON_TYPE, authorization: `AccessKey ${need(c, "accessKey")}` },
        body: json({
          receiver: { contacts: [{ identifierValue: input.to }] },
          body: { type: "text", text: { text: input.text } },
        }),
      };
  }
}

function base64Utf8(value: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(value)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * What a send API's answer means: `sent` (the provider took it), `retry` (it said it did not, for
 * now: throttled or failing), `failed` (it never will: refused credentials or request).
 */
export type SendOutcome = { outcome: "sent" } | { outcome: "retry" | "failed"; reason: string };

const VonageAnswer = z.object({
  messages: z.array(z.object({ status: z.union([z.string(), z.number()]) }).loose()).min(1),
});

export function sendOutcome(provider: SendApiProvider, status: number, body: string): SendOutcome {
  if (status === 429 || status === 408 || status >= 500)
    return { outcome: "retry", reason: `http ${status}` };
  if (status < 200 || status >= 300) return { outcome: "failed", reason: `http ${status}` };
  if (provider !== "vonage") return { outcome: "sent" };
  // The SMS API answers 200 whatever happened: the status of each part says.
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { outcome: "failed", reason: "vonage answer is not JSON" };
  }
  const answer = VonageAnswer.safeParse(parsed);
  if (!answer.success) return { outcome: "failed", reason: "vonage answer has no messages" };
  const statuses = answer.data.messages.map((m) => String(m.status));
  if (statuses.every((s) => s === "0")) return { outcome: "sent" };
  // Only the first part can fail without any part having gone out (Vonage stops at a failed part).
  if (statuses[0] === "1") return { outcome: "retry", reason: "vonage status 1 (throttled)" };
  return { outcome: "failed", reason: `vonage status ${statuses.find((s) => s !== "0")}` };
}
