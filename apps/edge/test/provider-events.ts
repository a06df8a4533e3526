/** Provider event webhooks in tests: each provider's credential, signed deliveries, the SNS stand-in. */
import { env } from "cloudflare:workers";
import {
  emailEvent,
  sendgridKeyPair,
  signEventWebhook,
  snsSigningKey,
  statusCallback,
} from "../scripts/event-payloads.mjs";
import { call, callJson, expectStatus, type TestAccount } from "./helpers.ts";
import { CREDENTIALS } from "./mo.ts";

export const ORIGIN = "https://edge.test";
export const TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events";
export const CERT_URL =
  "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";

const sendgrid = await sendgridKeyPair();
const sns = await snsSigningKey();

/** What each email provider stores and what the test signs with. */
export const EMAIL_CREDENTIALS: Record<string, { stored: Record<string, unknown>; signingSecret: unknown }> =
  {
    sendgrid: { stored: { secret: sendgrid.publicKey }, signingSecret: sendgrid.privateKey },
    ses: {
      stored: { options: { topicArns: [TOPIC] } },
      signingSecret: { privateKey: sns.privateKey, certUrl: CERT_URL, topicArn: TOPIC },
    },
    mailgun: {
      stored: { secret: "mailgun-signing-key-0123456789" },
      signingSecret: "mailgun-signing-key-0123456789",
    },
    postmark: { stored: { secret: "postmark-hook:s3cret-Pa55" }, signingSecret: "postmark-hook:s3cret-Pa55" },
    resend: {
      stored: { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
  };

/** A forged credential of the same kind. */
export async function forgedEventSecret(provider: string): Promise<unknown> {
  switch (provider) {
    case "sendgrid":
      return (await sendgridKeyPair()).privateKey;
    case "ses":
      return { privateKey: (await snsSigningKey()).privateKey, certUrl: CERT_URL, topicArn: TOPIC };
    case "postmark":
      return "intruder:guess";
    case "resend":
      return "whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0";
    default:
      return "not-the-real-secret-0000";
  }
}

/** Puts the test's SNS certificate where the stand-in serves it (the path the Worker asks for). */
export async function serveSnsCertificate(url = CERT_URL, pem = sns.certificatePem): Promise<void> {
  const u = new URL(url);
  const res = await fetch(`${env.SNS_BASE_URL_OVERRIDE}/${u.host}${u.pathname}`, {
    method: "PUT",
    body: pem,
  });
  if (!res.ok) throw new Error(`the SNS stand-in refused the certificate: ${res.status}`);
}

/** Every GET the SNS stand-in has served (path and query), oldest first. */
export async function snsRequests(): Promise<string[]> {
  return (await fetch(`${env.SNS_BASE_URL_OVERRIDE}/__requests`)).json();
}

export async function configureEventProvider(account: TestAccount, provider: string, stored?: unknown) {
  const body = stored ?? EMAIL_CREDENTIALS[provider]?.stored ?? CREDENTIALS[provider]!.stored;
  return expectStatus(await callJson("PUT", `/v1/providers/${provider}`, account.apiKey, body), 200);
}

export interface Signed {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** Signs a body as `provider` would for this account's events URL. */
export async function signEvent(
  account: { id: string },
  provider: string,
  payload: { body: string; contentType: string },
  options: { secret?: unknown; timestamp?: number; token?: string; id?: string } = {},
): Promise<Signed> {
  const secret =
    options.secret ?? EMAIL_CREDENTIALS[provider]?.signingSecret ?? CREDENTIALS[provider]!.signingSecret;
  return signEventWebhook(provider, {
    url: `${ORIGIN}/events/${provider}/${account.id}`,
    body: payload.body,
    contentType: payload.contentType,
    secret: secret as string,
    timestamp: options.timestamp,
    token: options.token,
    id: options.id,
  });
}

export function postSigned(signed: Signed): Promise<Response> {
  return call(signed.url.slice(ORIGIN.length), {
    method: "POST",
    headers: signed.headers,
    body: signed.body,
  });
}

export async function postEmailEvent(
  account: { id: string },
  provider: string,
  event: Parameters<typeof emailEvent>[1],
  options: Parameters<typeof signEvent>[3] = {},
): Promise<Response> {
  const payload = emailEvent(provider, event);
  if (!payload) throw new Error(`${provider} has no ${event.type} event`);
  return postSigned(await signEvent(account, provider, payload, options));
}

export async function postStatusCallback(
  account: { id: string },
  provider: string,
  callback: Parameters<typeof statusCallback>[1],
  options: Parameters<typeof signEvent>[3] = {},
): Promise<Response> {
  return postSigned(await signEvent(account, provider, statusCallback(provider, callback), options));
}

/** The account's stored message events, as the trigger rules see them. */
export async function messageEvents(accountId: string, messageId: string) {
  const { results } = await env.DB.prepare(
    `SELECT e.type AS type, e.origin AS origin, e.occurred_at AS occurredAt, m.address AS address,
      m.channel AS channel, m.campaign AS campaign
    FROM message_events e JOIN messages m ON m.account_id = e.account_id AND m.message_id = e.message_id
    WHERE e.account_id = ?1 AND e.message_id = ?2 ORDER BY e.type`,
  )
    .bind(accountId, messageId)
    .all<{
      type: string;
      origin: string;
      occurredAt: string;
      address: string;
      channel: string;
      campaign: string | null;
    }>();
  return results;
}

/** The address's ledger events with source `provider`. */
export async function providerOptOuts(accountId: string, address: string) {
  const { results } = await env.DB.prepare(
    `SELECT channel, scope_key AS scopeKey, action, source, evidence FROM ledger_events
    WHERE account_id = ?1 AND address = ?2 AND source = 'provider' ORDER BY seq`,
  )
    .bind(accountId, address)
    .all<{ channel: string; scopeKey: string; action: string; source: string; evidence: string }>();
  return results.map((r) => ({ ...r, evidence: JSON.parse(r.evidence) as Record<string, unknown> }));
}
