import { createRoute, z } from "@hono/zod-openapi";
import {
  ConfiguredProvider,
  EventsUrlProvider,
  InboundProvider,
  ProviderConfigInput,
  providerConfigProblem,
} from "@optout/core";
import type { Context } from "hono";
import { publicOrigin } from "../../config.ts";
import {
  deleteProviderCredentials,
  listProviders,
  type ProviderView,
  writeProviderCredentials,
} from "../../inbound/provider-store.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, errorResponse } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";

const tags = ["inbound"];

const ProviderParam = z.object({
  provider: ConfiguredProvider.openapi({ param: { name: "provider", in: "path" }, example: "twilio" }),
});

const Provider = z
  .object({
    provider: ConfiguredProvider,
    options: ProviderConfigInput.shape.options,
    webhookUrl: z.string().optional().openapi({
      description:
        "SMS and WhatsApp providers: the inbound-message URL to give the provider, `/mo/{provider}/{accountId}`",
    }),
    eventsUrl: z
      .string()
      .optional()
      .openapi({
        description:
          "Email providers, and SMS providers' status callbacks: the events URL to give the provider, " +
          "`/events/{provider}/{accountId}` (delivery, engagement and opt-out events; docs/providers.md)",
      }),
    sendConfigured: z.boolean().openapi({
      description:
        "Send credentials are stored (`send`): confirmations go out through the provider's send API " +
        "(Vonage, Telnyx, Infobip, Sinch, Bandwidth, Bird). They are never returned.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Provider", { description: "A configured provider. The secret is never returned." });

const notFound = {
  404: errorResponse("The provider is not configured (`not_found`)"),
};

const putProvider = createRoute({
  method: "put",
  path: "/v1/providers/{provider}",
  operationId: "configureProvider",
  tags,
  summary: "Store the credential that verifies a provider's webhooks",
  description:
    "`secret` is what the provider signs with: Twilio/Plivo auth token, Vonage signature secret " +
    "(`options.algorithm`: md5hash, md5, sha1, sha256 or sha512 as set in its dashboard), Telnyx " +
    "public key (base64), Infobip/Bandwidth `username:password` (Infobip `options.algorithm: " +
    "hmac-sha256` for HMAC), Sinch webhook secret or `username:password`, MessageBird/Bird signing " +
    "key, WhatsApp app secret (with `options.verifyToken`, and `options.stopPayloads` for stop buttons), " +
    "generic secret. Email providers' event webhooks: SendGrid verification key (base64 or PEM), " +
    "Mailgun webhook signing key, Postmark `username:password`, Resend `whsec_` secret; Amazon SES has " +
    "no secret but `options.topicArns` (the SNS topics allowed). `send` (Vonage, Telnyx, Infobip, Sinch, Bandwidth, Bird) holds the send API's " +
    "credentials: keyword confirmations and HELP answers are then sent through it after each change " +
    "commits (docs/providers.md). Replaces an earlier credential at once. Secrets, the verify token " +
    "and send credentials are never returned and never logged. Returns the webhook URL to configure " +
    "at the provider (`webhookUrl` for inbound messages, `eventsUrl` for events and status callbacks).",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { params: ProviderParam, body: jsonBodyOf(ProviderConfigInput) },
  responses: {
    200: jsonContent(Provider, "Stored"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const listProvidersRoute = createRoute({
  method: "get",
  path: "/v1/providers",
  operationId: "listProviders",
  tags,
  summary: "List configured providers (without secrets)",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: {
    200: jsonContent(z.object({ items: z.array(Provider) }).openapi("ProviderList"), "Configured providers"),
    ...commonErrors,
    ...authErrors,
  },
});

const deleteProvider = createRoute({
  method: "delete",
  path: "/v1/providers/{provider}",
  operationId: "removeProvider",
  tags,
  summary: "Remove a provider's credential",
  description: "Its webhook answers 404 from then on (providers stop or give up retrying).",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { params: ProviderParam },
  responses: {
    200: jsonContent(z.object({ deleted: z.literal(true) }), "Removed"),
    ...notFound,
    ...commonErrors,
    ...authErrors,
  },
});

/** What the provider must be given: built like the URL it signs, from PUBLIC_BASE_URL when set. */
function withWebhookUrl(c: Context<AppEnv>, view: ProviderView) {
  const base = publicOrigin(c.var.config, c.req.url);
  const path = `${view.provider}/${c.var.principal.accountId}`;
  return {
    provider: view.provider,
    options: view.options,
    ...(InboundProvider.safeParse(view.provider).success ? { webhookUrl: `${base}/mo/${path}` } : {}),
    ...(EventsUrlProvider.safeParse(view.provider).success ? { eventsUrl: `${base}/events/${path}` } : {}),
    sendConfigured: view.sendConfigured,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

export const providerRoutes = createRouter()
  .openapi(putProvider, async (c) => {
    const { provider } = c.req.valid("param");
    const input = c.req.valid("json");
    const problem = await providerConfigProblem(provider, input);
    if (problem) throw new ApiError(400, "invalid_input", problem);
    const view = await writeProviderCredentials(c.var.db, c.var.principal.accountId, provider, input);
    return c.json(withWebhookUrl(c, view), 200);
  })
  .openapi(listProvidersRoute, async (c) => {
    const views = await listProviders(c.var.db, c.var.principal.accountId);
    return c.json({ items: views.map((v) => withWebhookUrl(c, v)) }, 200);
  })
  .openapi(deleteProvider, async (c) => {
    const { provider } = c.req.valid("param");
    if (!(await deleteProviderCredentials(c.var.db, c.var.principal.accountId, provider))) {
      throw new ApiError(404, "not_found", `${provider} is not configured`);
    }
    return c.json({ deleted: true as const }, 200);
  });
