/** Inbound webhooks in tests: each provider's credential, payload and signature, posted to the Worker. */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { inboundPayload, PROVIDERS, signWebhook, telnyxKeyPair } from "../scripts/mo-payloads.mjs";
import { call, callJson, expectStatus, type TestAccount } from "./helpers.ts";

export { PROVIDERS };
export const ORIGIN = "https://edge.test";

const telnyx = await telnyxKeyPair();

/** What the account stores (`PUT /v1/providers/{provider}`) and what the test signs with. */
export const CREDENTIALS: Record<
  string,
  { stored: { secret: string; options?: Record<string, string> }; signingSecret: string | CryptoKey }
> = {
  twilio: {
    stored: { secret: "twilio-auth-token-0123456789abcdef" },
    signingSecret: "twilio-auth-token-0123456789abcdef",
  },
  vonage: {
    stored: { secret: "vonageSignatureSecret123", options: { algorithm: "sha256" } },
    signingSecret: "vonageSignatureSecret123",
  },
  plivo: {
    stored: { secret: "MjM0NjRmNGYyZDFiZTk0YjQ0OGY1ZDk3ZjQ3" },
    signingSecret: "MjM0NjRmNGYyZDFiZTk0YjQ0OGY1ZDk3ZjQ3",
  },
  telnyx: { stored: { secret: telnyx.publicKey }, signingSecret: telnyx.privateKey },
  infobip: { stored: { secret: "infobip-hook:s3cret-Pa55" }, signingSecret: "infobip-hook:s3cret-Pa55" },
  sinch: { stored: { secret: "sinch-webhook-secret-1234" }, signingSecret: "sinch-webhook-secret-1234" },
  bandwidth: {
    stored: { secret: "bw-callback:0nly-Bandwidth-knows" },
    signingSecret: "bw-callback:0nly-Bandwidth-knows",
  },
  messagebird: { stored: { secret: "bird-signing-key-5678" }, signingSecret: "bird-signing-key-5678" },
  generic: { stored: { secret: "whsec_optout_generic_test" }, signingSecret: "whsec_optout_generic_test" },
  // Not in PROVIDERS (its keywords act on the whatsapp channel): see routes/mo/whatsapp.test.ts.
  whatsapp: {
    stored: { secret: "whatsapp-app-secret-0123456789", options: { verifyToken: "meta-verify-token-42" } },
    signingSecret: "whatsapp-app-secret-0123456789",
  },
};

/** A forged credential of the same kind, for each provider. */
export async function forgedSecret(provider: string): Promise<string | CryptoKey> {
  if (provider === "telnyx") return (await telnyxKeyPair()).privateKey;
  if (provider === "infobip" || provider === "bandwidth") return "intruder:guess";
  return "not-the-real-secret-0000";
}

export async function configureProvider(account: TestAccount, provider: string) {
  const res = await callJson(
    "PUT",
    `/v1/providers/${provider}`,
    account.apiKey,
    CREDENTIALS[provider]!.stored,
  );
  return expectStatus(res, 200);
}

export interface MoMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  receivedAt?: Date;
}

let counter = 0;
/** A message with a fresh provider message id. */
export function mo(text: string, fields: Partial<MoMessage> = {}): MoMessage {
  return { id: `MO${Date.now()}x${++counter}`, from: "+14155550100", to: "+14155550199", text, ...fields };
}

export interface PostOptions {
  /** Sign with this instead of the configured secret (forgery). */
  secret?: string | CryptoKey;
  timestamp?: number;
  /** Post to another account's URL (signed for that URL). */
  accountId?: string;
  /** Change the body after signing. */
  alterBody?: (body: string) => string;
  /** Leave out the signature headers entirely. */
  unsigned?: boolean;
  /** Send it this way instead of through the Worker's own binding (e.g. with a wrapped env). */
  via?: (path: string, init: RequestInit) => Response | Promise<Response>;
}

/** Builds the provider's payload for `message`, signs it like the provider, posts it. */
export async function postMo(
  account: TestAccount,
  provider: string,
  message: MoMessage,
  options: PostOptions = {},
): Promise<Response> {
  const { body, contentType } = inboundPayload(provider, message);
  return postSigned(account, provider, body, contentType, options);
}

export async function postSigned(
  account: TestAccount,
  provider: string,
  body: string,
  contentType: string,
  options: PostOptions = {},
): Promise<Response> {
  const path = `/mo/${provider}/${options.accountId ?? account.id}`;
  const signed = await signWebhook(provider, {
    url: `${ORIGIN}${path}`,
    body,
    contentType,
    secret: options.secret ?? CREDENTIALS[provider]!.signingSecret,
    timestamp: options.timestamp,
    algorithm: CREDENTIALS[provider]!.stored.options?.algorithm,
  });
  const headers = options.unsigned ? { "content-type": contentType } : signed.headers;
  const finalBody = options.alterBody ? options.alterBody(signed.body) : signed.body;
  return Promise.resolve((options.via ?? call)(path, { method: "POST", headers, body: finalBody }));
}

/** Ledger events and inbound records of an account, to assert what a webhook wrote. */
export async function inboundState(accountId: string) {
  const [events, records] = await Promise.all([
    env.DB.prepare(
      "SELECT seq, action, scope_key AS scopeKey, evidence FROM ledger_events WHERE account_id = ? ORDER BY seq",
    )
      .bind(accountId)
      .all<{ seq: number; action: string; scopeKey: string; evidence: string }>(),
    env.DB.prepare(
      "SELECT provider_message_id AS id, action, review, seqs FROM inbound_messages WHERE account_id = ? ORDER BY id",
    )
      .bind(accountId)
      .all<{ id: string; action: string; review: number; seqs: string }>(),
  ]);
  return { events: events.results, records: records.results };
}

/** The confirmation texts in a provider response (TwiML, Plivo XML or generic JSON). */
export async function repliesOf(res: Response): Promise<string[]> {
  const text = await res.clone().text();
  if (text === "") return [];
  if (text.startsWith("{"))
    return (JSON.parse(text) as { replies: { text: string }[] }).replies.map((r) => r.text);
  const decodeXml = (xml: string) =>
    xml.replace(
      /&(lt|gt|quot|apos|amp);/g,
      (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!,
    );
  return [...text.matchAll(/<Message[^>]*>([^<]*)<\/Message>/g)].map((m) => decodeXml(m[1]!));
}

/** Every provider with an inline reply format. */
export const INLINE_PROVIDERS = ["twilio", "plivo", "generic"];

/** Asserts the status (printing the body when wrong) and returns the body as text. */
export async function expectReply(res: Response, status = 200): Promise<string> {
  const text = await res.clone().text();
  expect(res.status, text).toBe(status);
  return text;
}
