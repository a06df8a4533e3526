import { SEND_API_DEFAULT_BASE_URLS, type SendApiProvider } from "@optout/core";
import { z } from "zod";
import { ApiError } from "./lib/errors.ts";
import { log } from "./lib/log.ts";

const Secret = z.string().min(8, "must be at least 8 characters");
const UrlOrEmpty = z.union([z.literal(""), z.url({ protocol: /^https?$/ })]);

export const DEFAULT_RETENTION_DAYS = 90;

/** Secrets that must be long where real data lives (the committed examples are public). */
const PRODUCTION_SECRETS = ["ADMIN_TOKEN", "SYNC_TOKEN", "EDGE_SECRET"] as const;

/**
 * Vars and secrets the Worker needs. Parsed once per isolate (env does not change).
 * `ENVIRONMENT` defaults to production, the safe side: local dev sets `development` in
 * `.dev.vars`, and the tests set `test`.
 */
export const Config = z
  .object({
    ADMIN_TOKEN: Secret,
    SYNC_TOKEN: Secret,
    /**
     * Keys the edge's own MACs and keyed hashes: end users' IP addresses and user agents in the
     * ledger's evidence are HMACs under it (a bare SHA-256 of an IPv4 address is reversed in a
     * fraction of a second), and so are the short-lived undo tokens of the unsubscribe page.
     */
    EDGE_SECRET: Secret,
    /** Absolute origin for URLs we print (webhooks, docs); "" = the request's origin (not in production). */
    PUBLIC_BASE_URL: UrlOrEmpty.default(""),
    /** Origin of minted opt-out links; "" = PUBLIC_BASE_URL. */
    PUBLIC_LINK_BASE: UrlOrEmpty.default(""),
    ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("production"),
    /**
     * Days that rows growing with traffic are kept: settled deadlines, message events, messages.
     * Never ledger events. At least 62: a message's deadlines all fall due within 61 days of it.
     */
    RETENTION_DAYS: z.coerce.number().int().min(62).max(3650).default(DEFAULT_RETENTION_DAYS),
    /**
     * Tests and local development only: the origin that stands in for Amazon SNS. SNS signing
     * certificates and subscription confirmations are then fetched from
     * `<override>/<sns host>/<path>` instead of `https://<sns host>/<path>`. Refused in staging and
     * production, and never per tenant: which hosts the edge fetches from is a deployment decision.
     */
    SNS_BASE_URL_OVERRIDE: UrlOrEmpty.default(""),
  })
  // One token must never open another door.
  .refine((c) => c.ADMIN_TOKEN !== c.SYNC_TOKEN, {
    message: "must differ from ADMIN_TOKEN",
    path: ["SYNC_TOKEN"],
  })
  .refine((c) => c.EDGE_SECRET !== c.ADMIN_TOKEN && c.EDGE_SECRET !== c.SYNC_TOKEN, {
    message: "must differ from ADMIN_TOKEN and SYNC_TOKEN",
    path: ["EDGE_SECRET"],
  })
  .refine(
    (c) => c.SNS_BASE_URL_OVERRIDE === "" || c.ENVIRONMENT === "development" || c.ENVIRONMENT === "test",
    { message: "may only be set when ENVIRONMENT is development or test", path: ["SNS_BASE_URL_OVERRIDE"] },
  )
  .superRefine((c, ctx) => {
    if (c.ENVIRONMENT !== "production") return;
    for (const name of PRODUCTION_SECRETS) {
      if (c[name].length < 32) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "must be at least 32 characters in production",
        });
      }
    }
    // Without it, the URLs we hand out (opt-out links, webhook URLs) would follow whatever Host
    // header a caller sent.
    if (c.PUBLIC_BASE_URL === "") {
      ctx.addIssue({
        code: "custom",
        path: ["PUBLIC_BASE_URL"],
        message: "must be set in production (absolute links are built only from it)",
      });
    }
  });
export type Config = z.infer<typeof Config>;

const parsed = new WeakMap<object, Config>();

export function readConfig(env: Env): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = Config.safeParse(env);
  if (!result.success) {
    // Names the fields, never their values.
    const fields = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    log.error("config_invalid", { fields });
    throw new ApiError(500, "misconfigured", "the service is misconfigured; see its logs");
  }
  parsed.set(env, result.data);
  return result.data;
}

/**
 * The origin absolute URLs are built from: PUBLIC_BASE_URL, or — outside production, where it may
 * be empty — the request's own origin (local dev, tests).
 */
export function publicOrigin(config: Config, requestUrl: string): string {
  return (config.PUBLIC_BASE_URL || new URL(requestUrl).origin).replace(/\/+$/, "");
}

/**
 * Where the send APIs confirmations go through live: deployment settings (never a tenant's input),
 * `<PROVIDER>_API_BASE_URL`, empty or absent for the provider's own (core
 * `SEND_API_DEFAULT_BASE_URLS`). Tests point them at a local stand-in. Plain http only outside
 * production: in production a send API carries the provider credentials.
 */
export const SEND_API_BASE_URL_VARS: Readonly<Record<SendApiProvider, string>> = {
  vonage: "VONAGE_API_BASE_URL",
  telnyx: "TELNYX_API_BASE_URL",
  infobip: "INFOBIP_API_BASE_URL",
  sinch: "SINCH_API_BASE_URL",
  bandwidth: "BANDWIDTH_API_BASE_URL",
  messagebird: "BIRD_API_BASE_URL",
};

const baseUrlCache = new WeakMap<object, Map<SendApiProvider, string>>();

/** The base URL of `provider`'s send API in this deployment; throws if the setting is malformed. */
export function sendApiBaseUrl(env: object, provider: SendApiProvider): string {
  let cache = baseUrlCache.get(env);
  if (!cache) {
    cache = new Map();
    baseUrlCache.set(env, cache);
  }
  const cached = cache.get(provider);
  if (cached) return cached;
  const vars = env as Record<string, unknown>;
  const name = SEND_API_BASE_URL_VARS[provider];
  const raw = typeof vars[name] === "string" ? (vars[name] as string).trim() : "";
  const value = raw === "" ? SEND_API_DEFAULT_BASE_URLS[provider] : raw;
  const production = (vars.ENVIRONMENT ?? "production") === "production";
  const parsed = z.url({ protocol: production ? /^https$/ : /^https?$/ }).safeParse(value);
  if (!parsed.success) throw new Error(`${name} must be an ${production ? "https" : "http(s)"} URL`);
  const url = parsed.data.replace(/\/+$/, "");
  cache.set(provider, url);
  return url;
}
