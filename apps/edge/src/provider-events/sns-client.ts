/**
 * The edge's only outbound calls for Amazon SES: fetching an SNS signing certificate, and visiting
 * a subscription's SubscribeURL. Both URLs have already been allowed by core (`snsCertificateUrl`,
 * `snsSubscribeUrl`: HTTPS on `sns.<region>.amazonaws.com`), so nothing a tenant or a caller sends
 * can point the edge at another host. Only a deployment setting can: `SNS_BASE_URL_OVERRIDE`
 * (development and test only, see config.ts) sends both to a stand-in for Amazon.
 */
import type { Config } from "../config.ts";
import { ApiError } from "../lib/errors.ts";
import { errorName, log } from "../lib/log.ts";

/** Certificates are immutable per URL (a new key gets a new URL): cached a day in KV, an hour here. */
const KV_TTL_SECONDS = 24 * 60 * 60;
const ISOLATE_TTL_MS = 60 * 60 * 1000;
const ISOLATE_MAX = 100;
/** A certificate is about 2 KiB; anything much larger is not one. */
const MAX_CERTIFICATE_BYTES = 16 * 1024;
const FETCH_TIMEOUT_MS = 5000;

const certificates = new Map<string, { pem: string; until: number }>();

/** Where the edge actually fetches `url`: Amazon, or the deployment's stand-in for it. */
export function snsFetchUrl(config: Config, url: string): string {
  const override = config.SNS_BASE_URL_OVERRIDE;
  // config.ts refuses the override outside development and test; checked again at the point of use.
  if (override === "" || (config.ENVIRONMENT !== "development" && config.ENVIRONMENT !== "test")) return url;
  const u = new URL(url);
  return `${override.replace(/\/+$/, "")}/${u.host}${u.pathname}${u.search}`;
}

const unavailable = (what: string) =>
  new ApiError(503, "busy", `${what} could not be reached; nothing was recorded, retry`);

async function kvKey(url: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(url)));
  return `sns-cert:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The PEM certificate at `url` (an allowed SigningCertURL): from this isolate, else KV, else
 * Amazon. A failure to fetch is a 503, so SNS retries the delivery.
 */
export async function snsCertificate(
  env: Pick<Env, "KV">,
  config: Config,
  url: string,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<string> {
  const now = Date.now();
  const cached = certificates.get(url);
  if (cached && cached.until > now) return cached.pem;
  const key = await kvKey(url);
  let pem = await env.KV.get(key);
  if (pem === null) {
    let res: Response;
    try {
      res = await fetch(snsFetchUrl(config, url), {
        redirect: "manual",
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch (err) {
      log.warn("sns_certificate_fetch_failed", { error: errorName(err) });
      throw unavailable("Amazon SNS's signing certificate");
    }
    const text = await res.text();
    if (!res.ok || text.length > MAX_CERTIFICATE_BYTES || !text.includes("-----BEGIN CERTIFICATE-----")) {
      log.warn("sns_certificate_fetch_failed", { status: res.status });
      throw unavailable("Amazon SNS's signing certificate");
    }
    pem = text;
    waitUntil(env.KV.put(key, pem, { expirationTtl: KV_TTL_SECONDS }));
  }
  if (certificates.size >= ISOLATE_MAX) certificates.delete(certificates.keys().next().value!);
  certificates.set(url, { pem, until: now + ISOLATE_TTL_MS });
  return pem;
}

/** Visits a verified SubscriptionConfirmation's SubscribeURL; a failure is a 503 (SNS retries). */
export async function confirmSnsSubscription(config: Config, subscribeUrl: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(snsFetchUrl(config, subscribeUrl), {
      redirect: "manual",
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (err) {
    log.warn("sns_subscription_confirm_failed", { error: errorName(err) });
    throw unavailable("Amazon SNS");
  }
  await res.body?.cancel();
  if (!res.ok) {
    log.warn("sns_subscription_confirm_failed", { status: res.status });
    throw unavailable("Amazon SNS");
  }
}
