/**
 * `POST /events/{provider}/{accountId}`: a provider's event webhook — an email provider's delivery
 * and engagement events (SendGrid, Amazon SES through SNS, Mailgun, Postmark, Resend), or an SMS
 * provider's status callbacks (Twilio, Vonage, Plivo, Telnyx, Infobip, Sinch, Bandwidth, Bird).
 *
 * Order of checks, each refusing before anything is written: known provider and account with
 * credentials for it (404, the same answer for all three), body size (413), UTF-8 (400), the
 * provider's signature over the raw body (401; SES: against the certificate at an allowed SNS URL,
 * fetched and cached), the payload (400). Then core decides (`planProviderEvents`) and the account's
 * writer commits the message events and the opt-outs in ONE op. Redeliveries change nothing:
 * message events are idempotent by (message, type), opt-outs by the provider's event id. Events
 * that name no one we can block (an unreadable address, an event older than 31 days) are skipped
 * with a 200: a provider would only redeliver them.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  EventsUrlProvider,
  isDomainError,
  isEventProvider,
  mailgunSignatureToken,
  type ProviderEvent,
  parseEvents,
  parseStatusCallbacks,
  planProviderEvents,
  signedWebhookUrl,
  snsCertificateUrl,
  snsSubscribeUrl,
  type VerifyResult,
  verifyEventWebhook,
  verifyWebhook,
  type WebhookRequest,
} from "@optout/core";
import type { Context } from "hono";
import { readRawBody } from "../../inbound/raw-body.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, commonErrors, errorResponse } from "../../lib/errors.ts";
import { log } from "../../lib/log.ts";
import { confirmSnsSubscription, snsCertificate } from "../../provider-events/sns-client.ts";
import { readEventsTarget } from "../../provider-events/target.ts";
import { commitWrite } from "../../writer/client.ts";

const tags = ["inbound"];

/**
 * The largest events body accepted. SendGrid batches up to 768 KB per POST, SNS messages are at
 * most 256 KiB; inbound messages keep their own, smaller limit.
 */
export const MAX_EVENTS_BODY_BYTES = 1024 * 1024;

const Params = z.object({
  provider: z.string().openapi({
    param: { name: "provider", in: "path" },
    description: EventsUrlProvider.options.join(", "),
    example: "sendgrid",
  }),
  accountId: z.string().openapi({ param: { name: "accountId", in: "path" }, example: "acc_..." }),
});

const EventsReceived = z
  .object({
    received: z.number().int().openapi({ description: "Events read from the payload" }),
    recorded: z
      .number()
      .int()
      .openapi({ description: "Message events recorded now (first reports, or earlier times)" }),
    optedOut: z.number().int().openapi({ description: "Opt-outs that added a ledger event now" }),
    skipped: z
      .number()
      .int()
      .openapi({ description: "Events naming no address we can block, or outside the 31-day window" }),
  })
  .openapi("EventsReceived");

const eventsRoute = createRoute({
  method: "post",
  path: "/events/{provider}/{accountId}",
  operationId: "receiveProviderEvents",
  // The provider's signature is the credential.
  security: [],
  tags,
  summary: "Event webhook of an email provider, or status callbacks of an SMS provider",
  description:
    "Point the provider's event webhook (SendGrid, Amazon SES through SNS, Mailgun, Postmark, " +
    "Resend) or SMS status callback (Twilio, Vonage, Plivo, Telnyx, Infobip, Sinch, Bandwidth, Bird) " +
    "here: `eventsUrl` of `PUT /v1/providers/{provider}`. Verified with the provider's own scheme " +
    "against the raw body (SES: the SNS signature, with the certificate fetched only from " +
    "`https://sns.<region>.amazonaws.com/…pem`, and only the configured topics; a subscription " +
    "confirmation is confirmed). Delivery and engagement events become message events for trigger " +
    "rules (`not_opened` works from the provider's own sent/processed and open events); the " +
    "provider's unsubscribes and suppressions, and SMS sends refused because the recipient opted " +
    "out (Twilio 21610, Telnyx 40300, …), become opt-outs with source `provider`: email for the " +
    "account, SMS for the sending number. All in one commit; a redelivery changes nothing.",
  request: {
    params: Params,
    body: {
      required: false,
      description: `The provider's own payload, JSON or form-encoded, at most ${MAX_EVENTS_BODY_BYTES} bytes`,
      content: {
        "application/json": { schema: { type: "object" as const } },
        "application/x-www-form-urlencoded": { schema: { type: "object" as const } },
      },
    },
  },
  responses: {
    200: {
      description: "Recorded (or already recorded), or nothing to record",
      content: { "application/json": { schema: EventsReceived } },
    },
    ...commonErrors,
    400: errorResponse("Malformed payload (`invalid_input`); nothing was recorded"),
    401: errorResponse(
      "Missing, forged or stale signature, an SNS topic or certificate URL not allowed, or a Mailgun " +
        "token replayed with another body (`invalid_signature`); nothing was recorded",
    ),
    404: errorResponse(
      "Unknown provider or account, or the provider is not configured for the account (`not_found`)",
    ),
    413: errorResponse(`Body larger than ${MAX_EVENTS_BODY_BYTES} bytes (\`payload_too_large\`)`),
    503: errorResponse(
      "Nothing was recorded: too much concurrent writing, or Amazon SNS could not be reached (`busy`); retry",
    ),
  },
});

const NO_WEBHOOK = "no events webhook for this provider and account";

const sha256Hex = async (text: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");

/** The SNS message type of a body already verified as one. */
function snsType(body: string): string | undefined {
  return (JSON.parse(body) as { Type?: string }).Type;
}

async function handleEvents(c: Context<AppEnv>) {
  const { provider: rawProvider, accountId } = c.req.param() as { provider: string; accountId: string };
  const known = EventsUrlProvider.safeParse(rawProvider);
  if (!known.success) throw new ApiError(404, "not_found", NO_WEBHOOK);
  const provider = known.data;
  const target = await readEventsTarget(c.env.DB, accountId, provider);
  if (!target?.credentials) throw new ApiError(404, "not_found", NO_WEBHOOK);
  const { secret, options } = target.credentials;

  const reject = (
    status: 400 | 401,
    code: "invalid_input" | "invalid_signature",
    reason: string,
    message: string,
  ) => {
    // Reasons name headers and checks, never values: no addresses, numbers or secrets reach the logs.
    log.warn("events_rejected", { requestId: c.var.requestId, accountId, provider, reason });
    return new ApiError(status, code, message);
  };
  const forged = (reason: string) =>
    reject(401, "invalid_signature", reason, "webhook signature is missing or invalid");

  const body = await readRawBody(c.req.raw, MAX_EVENTS_BODY_BYTES);
  const request: WebhookRequest = {
    method: c.req.method,
    url: signedWebhookUrl(c.req.url, c.var.config.PUBLIC_BASE_URL),
    headers: c.req.raw.headers,
    body,
  };
  let verified: VerifyResult;
  if (isEventProvider(provider)) {
    let certificate: string | undefined;
    if (provider === "ses") {
      // Only an allowed SNS URL is ever fetched: anything else is refused before any I/O.
      const certificateUrl = snsCertificateUrl(body);
      if (certificateUrl === null) throw forged("SigningCertURL is not an SNS certificate URL");
      certificate = await snsCertificate(c.env, c.var.config, certificateUrl, (p) =>
        c.executionCtx.waitUntil(p),
      );
    }
    verified = await verifyEventWebhook({
      provider,
      request,
      secret,
      options: { topicArns: options.topicArns, certificate },
    });
  } else {
    verified = await verifyWebhook({ provider, request, secret, options });
  }
  if (!verified.ok) throw forged(verified.reason);
  // The account is known for sure only now; the request log names it from here on.
  c.set("principal", { accountId, defaultRegion: target.account.defaultRegion });

  if (provider === "ses") {
    const type = snsType(body);
    if (type === "SubscriptionConfirmation") {
      // verifyEventWebhook allowed only the configured topics; the URL must be that topic's own.
      const subscribeUrl = snsSubscribeUrl(body);
      if (subscribeUrl === null)
        throw reject(400, "invalid_input", "bad_subscribe_url", "SubscribeURL is not this topic's SNS URL");
      await confirmSnsSubscription(c.var.config, subscribeUrl);
      log.info("sns_subscription_confirmed", { requestId: c.var.requestId, accountId });
      return c.json({ received: 0, recorded: 0, optedOut: 0, skipped: 0 }, 200);
    }
    if (type === "UnsubscribeConfirmation")
      return c.json({ received: 0, recorded: 0, optedOut: 0, skipped: 0 }, 200);
  }

  const now = new Date();
  let events: ProviderEvent[];
  try {
    const input = { request, now: Math.floor(now.getTime() / 1000) };
    events = isEventProvider(provider)
      ? parseEvents({ provider, ...input })
      : parseStatusCallbacks({ provider, ...input });
  } catch (err) {
    if (!isDomainError(err)) throw err;
    throw reject(400, "invalid_input", "malformed_payload", err.message);
  }
  const plan = planProviderEvents({
    provider,
    events,
    defaultRegion: target.account.defaultRegion,
    now,
    requestId: c.var.requestId,
  });
  const token = provider === "mailgun" ? mailgunSignatureToken(body) : null;
  let recorded = 0;
  let optedOut = 0;
  if (plan.messageEvents.length > 0 || plan.optOuts.length > 0 || token !== null) {
    const { result } = await commitWrite(c.env, accountId, {
      kind: "provider_events",
      provider,
      events: plan.messageEvents,
      optOuts: plan.optOuts,
      ...(token !== null ? { token: { id: `token:${token}`, fingerprint: await sha256Hex(body) } } : {}),
    });
    if (result.tokenReused) throw forged("signature.token was used before with another body");
    recorded = result.events?.results.filter((r) => r.status === "recorded").length ?? 0;
    optedOut = result.optOuts.filter((o) => o.status === "appended").length;
  }
  const skipped = plan.skipped.length;
  log.info("events_applied", {
    requestId: c.var.requestId,
    accountId,
    provider,
    received: events.length,
    recorded,
    optedOut,
    skipped,
    ...(skipped > 0 ? { skippedReasons: [...new Set(plan.skipped.map((s) => s.reason))].join(",") } : {}),
  });
  return c.json({ received: events.length, recorded, optedOut, skipped }, 200);
}

export const providerEventRoutes = createRouter().openapi(eventsRoute, (c) => handleEvents(c) as never);
