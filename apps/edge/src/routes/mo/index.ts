/**
 * `POST /mo/{provider}/{accountId}`: an SMS provider's inbound-message (MO) webhook.
 *
 * Order of checks, each refusing before anything is written: known provider and account with
 * credentials for it (404 — the same answer for all three, so the route does not reveal which
 * accounts exist), body size (413), UTF-8 (400), the provider's signature over the raw body and
 * the URL it signed (401), the payload (400). Then every message is recorded with its effects in
 * one D1 batch (see inbound/apply-inbound.ts), and the answer goes back in the provider's format.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  buildProviderReply,
  InboundProvider,
  isDomainError,
  isSendApiProvider,
  parseInbound,
  parseStatusCallbacks,
  planProviderEvents,
  signedWebhookUrl,
  verifyWebhook,
  type WebhookRequest,
  whatsappHandshake,
} from "@optout/core";
import type { Context } from "hono";
import { applyInbound } from "../../inbound/apply-inbound.ts";
import { cachedEffectiveRules } from "../../inbound/keyword-store.ts";
import { readWebhookTarget } from "../../inbound/provider-store.ts";
import { MAX_WEBHOOK_BYTES, readRawBody } from "../../inbound/raw-body.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, commonErrors, errorResponse } from "../../lib/errors.ts";
import { log } from "../../lib/log.ts";

const tags = ["inbound"];

const MoParams = z.object({
  provider: z.string().openapi({
    param: { name: "provider", in: "path" },
    description: InboundProvider.options.join(", "),
    example: "twilio",
  }),
  accountId: z.string().openapi({ param: { name: "accountId", in: "path" }, example: "acc_..." }),
});

const reply = {
  description:
    "Accepted and recorded. The body is the provider's reply format with the confirmations: TwiML " +
    "(`text/xml`) for twilio, Plivo XML (`application/xml`) for plivo, `{ replies: [{ to, from, text }] }` " +
    "for generic, and an empty body for providers with no inline reply (vonage, telnyx, infobip, " +
    "sinch, bandwidth, messagebird). A retried delivery of a recorded message gets the same status " +
    "with no confirmation.",
  content: {
    "text/xml": { schema: { type: "string" as const } },
    "application/xml": { schema: { type: "string" as const } },
    "application/json": {
      schema: z.object({
        replies: z.array(z.object({ to: z.string(), from: z.string(), text: z.string() })),
      }),
    },
  },
};

const moRoute = (method: "post" | "get") =>
  createRoute({
    method,
    path: "/mo/{provider}/{accountId}",
    operationId: method === "post" ? "receiveInboundMessage" : "receiveInboundMessageByGet",
    security: [],
    tags,
    summary:
      method === "post"
        ? "Inbound message webhook (MO) of an SMS provider or WhatsApp"
        : "Inbound message webhook sent as GET (Vonage, MessageBird); WhatsApp's subscription check",
    description:
      "Point the provider's inbound-message webhook here (see docs/providers.md for each provider's " +
      "setup). Verified with the credential stored by `PUT /v1/providers/{provider}` against the raw " +
      "body and the URL the provider signed (`PUBLIC_BASE_URL` + path + query when set). Each message " +
      "is deduplicated by the provider's message id, classified against the account's keyword rules " +
      "and applied: a STOP-like keyword adds an `sms` entry at the rule's level (account, or the " +
      "sender the message was sent to), a START-like keyword removes it (and the sender's own entry), " +
      "HELP changes nothing. WhatsApp (`/mo/whatsapp/{accountId}`) applies the same rules to the " +
      "`whatsapp` channel, reads the stop buttons of marketing templates as STOP, records the " +
      "webhook's statuses as message events (`read` as `opened`) in the same commit, and answers " +
      "Meta's GET subscription check (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`: " +
      "the challenge as text/plain, or 403). Vonage, Telnyx, Infobip, Sinch, Bandwidth and Bird " +
      "accounts with send credentials get their confirmations through the provider's send API " +
      "after the commit, at most once per change. A 5xx means nothing was recorded: the provider " +
      "should retry.",
    request: {
      params: MoParams,
      ...(method === "post"
        ? {
            body: {
              required: false,
              description: "The provider's own payload, form-encoded or JSON, at most 64 KiB",
              content: {
                "application/x-www-form-urlencoded": { schema: { type: "object" as const } },
                "application/json": { schema: { type: "object" as const } },
              },
            },
          }
        : {}),
    },
    responses: {
      200:
        method === "post"
          ? reply
          : {
              ...reply,
              content: { ...reply.content, "text/plain": { schema: { type: "string" as const } } },
              description: `${reply.description} WhatsApp's subscription check: the challenge (text/plain).`,
            },
      ...commonErrors,
      400: errorResponse(
        "Malformed or truncated payload (`invalid_input`), or a sender number that cannot be read " +
          "(`invalid_address`; the other messages of a batch were applied)",
      ),
      401: errorResponse("Missing, forged or stale signature (`invalid_signature`); nothing was recorded"),
      ...(method === "get"
        ? {
            403: errorResponse(
              "WhatsApp's subscription check with a wrong verify token or mode (`forbidden`)",
            ),
          }
        : {}),
      404: errorResponse(
        "Unknown provider or account, or the provider is not configured for the account (`not_found`)",
      ),
      413: errorResponse(`Body larger than ${MAX_WEBHOOK_BYTES} bytes (\`payload_too_large\`)`),
      503: errorResponse("Too much concurrent writing (`busy`); nothing was recorded, retry"),
    },
  });

const NO_WEBHOOK = "no inbound webhook for this provider and account";

async function handleWebhook(c: Context<AppEnv>) {
  const { provider: rawProvider, accountId } = c.req.param() as { provider: string; accountId: string };
  const provider = InboundProvider.safeParse(rawProvider);
  if (!provider.success) throw new ApiError(404, "not_found", NO_WEBHOOK);
  const target = await readWebhookTarget(c.env.DB, accountId, provider.data);
  if (!target?.credentials) throw new ApiError(404, "not_found", NO_WEBHOOK);

  const reject = (
    status: 400 | 401,
    code: "invalid_input" | "invalid_signature",
    reason: string,
    message: string,
  ) => {
    // Reasons name headers and checks, never values: no numbers, text or secrets reach the logs.
    log.warn("mo_rejected", { requestId: c.var.requestId, accountId, provider: provider.data, reason });
    return new ApiError(status, code, message);
  };

  if (provider.data === "whatsapp" && c.req.method === "GET") {
    // Meta's subscription check: the verify token proves the URL is the account's (constant time).
    const challenge = whatsappHandshake({
      query: new URL(c.req.url).searchParams,
      verifyToken: target.credentials.options.verifyToken,
    });
    if (challenge === null) {
      log.warn("mo_rejected", {
        requestId: c.var.requestId,
        accountId,
        provider: provider.data,
        reason: "whatsapp subscription check refused",
      });
      throw new ApiError(403, "forbidden", "the subscription check does not match this webhook");
    }
    return c.text(challenge, 200);
  }

  const body = c.req.method === "GET" ? "" : await readRawBody(c.req.raw);
  const request: WebhookRequest = {
    method: c.req.method,
    url: signedWebhookUrl(c.req.url, c.var.config.PUBLIC_BASE_URL),
    headers: c.req.raw.headers,
    body,
  };
  const verified = await verifyWebhook({
    provider: provider.data,
    request,
    secret: target.credentials.secret,
    options: target.credentials.options,
  });
  if (!verified.ok)
    throw reject(401, "invalid_signature", verified.reason, "webhook signature is missing or invalid");

  // The account is known for sure only now; the request log names it from here on.
  c.set("principal", { accountId, defaultRegion: target.account.defaultRegion });
  const parsedAt = Math.floor(Date.now() / 1000);
  let messages: ReturnType<typeof parseInbound>;
  let statuses: ReturnType<typeof parseStatusCallbacks> = [];
  try {
    messages = parseInbound({
      provider: provider.data,
      request,
      now: parsedAt,
      options: { stopPayloads: target.credentials.options.stopPayloads },
    });
    // WhatsApp posts statuses to the same webhook as messages.
    if (provider.data === "whatsapp")
      statuses = parseStatusCallbacks({ provider: "whatsapp", request, now: parsedAt });
  } catch (err) {
    if (!isDomainError(err)) throw err;
    throw reject(400, "invalid_input", "malformed_payload", err.message);
  }

  const planned = statuses.length
    ? planProviderEvents({
        provider: provider.data,
        events: statuses,
        defaultRegion: target.account.defaultRegion,
        now: new Date(),
        requestId: c.var.requestId,
      })
    : null;
  // In the answer where the provider's format carries it; else through the provider's send API
  // when the account stored its credentials (recorded in the commit, sent after it).
  // A format with a body (TwiML, Plivo XML, generic JSON) carries replies.
  const confirmVia =
    buildProviderReply(provider.data, []).contentType !== null
      ? "reply"
      : isSendApiProvider(provider.data) && target.credentials.sendConfigured
        ? "send_api"
        : "none";
  const result = await applyInbound(c.env, {
    account: target.account,
    provider: provider.data,
    confirmVia,
    ...(planned ? { statuses: { events: planned.messageEvents, optOuts: planned.optOuts } } : {}),
    messages,
    rules: await cachedEffectiveRules(c.var.db, accountId, target.keywords),
    settings: target.keywords.settings,
    parsedAt,
    now: new Date(),
    requestId: c.var.requestId,
  });
  const applied = result.applied;
  log.info("mo_applied", {
    requestId: c.var.requestId,
    accountId,
    provider: provider.data,
    messages: messages.length,
    replays: applied.filter((a) => a.replay).length,
    changed: applied.filter((a) => a.changed).length,
    review: applied.filter((a) => !a.replay && a.classification.review).length,
    replies: result.replies.length,
    sendApiConfirmations:
      confirmVia === "send_api" ? applied.filter((a) => a.confirmation !== null).length : 0,
    statuses: statuses.length,
    rejected: result.rejected.length,
  });
  if (result.rejected.length > 0) {
    for (const { index, reason } of result.rejected) {
      log.warn("mo_rejected", {
        requestId: c.var.requestId,
        accountId,
        provider: provider.data,
        reason,
        providerMessageId: messages[index]!.providerMessageId,
      });
    }
    const problems = result.rejected.map(({ index, reason }) =>
      reason === "sender_not_a_phone_number"
        ? `messages.${index}: the sender's address is not a phone number, so it cannot be blocked on sms`
        : `messages.${index}: the sender's phone number could not be read with the account's default region`,
    );
    const others = applied.length ? "; the other messages were applied" : "";
    throw new ApiError(400, "invalid_address", `${problems.join("; ")}${others}`);
  }

  const answer = buildProviderReply(provider.data, result.replies);
  if (!answer.contentType) return c.body(null, answer.status as 200);
  c.header("content-type", answer.contentType);
  return c.body(answer.body, answer.status as 200);
}

export const moRoutes = createRouter()
  .openapi(moRoute("post"), (c) => handleWebhook(c) as never)
  .openapi(moRoute("get"), (c) => handleWebhook(c) as never);
