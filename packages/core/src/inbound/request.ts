/**
 * The transport-free shape of an inbound webhook request, and small readers for it.
 * The edge builds a `WebhookRequest` from its HTTP request; nothing here touches the network.
 */

/**
 * Header values as a plain record (names lower-case, as Node and hono give them) or a WHATWG
 * `Headers`. Lookup is case-insensitive either way.
 */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookRequest {
  method: string;
  /**
   * The URL the provider signed: `PUBLIC_BASE_URL` + path + query when the edge runs behind a
   * proxy or custom domain, else the request URL. Signatures cover it byte for byte.
   */
  url: string;
  headers: WebhookHeaders;
  /** The raw body exactly as received. Signatures are over these bytes, never over re-serialized JSON. */
  body: string;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

export interface VerifyOptions {
  /** Current time in unix seconds; defaults to the clock. Tests and replays pin it. */
  now?: number;
  /** Vonage SMS signature method as configured in its dashboard: md5hash (default), md5, sha1, sha256, sha512. */
  algorithm?: string;
  /** Accepted clock difference for timestamped schemes, in seconds. Default 300. */
  toleranceSeconds?: number;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

export const ok = (): VerifyResult => ({ ok: true });
export const fail = (reason: string): VerifyResult => ({ ok: false, reason });

function isHeaders(h: WebhookHeaders): h is Headers {
  return typeof (h as Headers).get === "function" && typeof (h as Headers).forEach === "function";
}

export function header(request: Pick<WebhookRequest, "headers">, name: string): string | undefined {
  const h = request.headers;
  if (isHeaders(h)) return h.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const key of Object.keys(h)) {
    if (key.toLowerCase() !== wanted) continue;
    const value = h[key];
    if (value === undefined) continue;
    return typeof value === "string" ? value : value.join(", ");
  }
  return undefined;
}

/**
 * The URL a provider signed: `publicBaseUrl` (the deployment's `PUBLIC_BASE_URL`, which may
 * carry a path prefix) + the request's path and query when set, else the request URL as is.
 */
export function signedWebhookUrl(requestUrl: string, publicBaseUrl?: string): string {
  if (!publicBaseUrl) return requestUrl;
  const url = parseUrl(requestUrl);
  if (!url) return requestUrl;
  return publicBaseUrl.replace(/\/+$/, "") + url.pathname + url.search;
}

export function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** Ordered key/value pairs of an `application/x-www-form-urlencoded` string ('+' is a space). */
export function formPairs(encoded: string): Array<[string, string]> {
  return [...new URLSearchParams(encoded)];
}

/** Key → all values, in order of appearance. */
export function multiMap(pairs: ReadonlyArray<readonly [string, string]>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
  }
  return map;
}

/** Last value wins, like most form parsers. */
export function singleMap(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

export function mediaType(request: Pick<WebhookRequest, "headers">): string {
  return (header(request, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** JSON by declared type, or by shape when the provider sends no usable content type. */
export function isJsonBody(request: Pick<WebhookRequest, "headers" | "body">): boolean {
  const type = mediaType(request);
  if (type === "application/json" || type.endsWith("+json")) return true;
  if (type === "application/x-www-form-urlencoded") return false;
  const first = request.body.trimStart()[0];
  return first === "{" || first === "[";
}

export function unixNow(options?: VerifyOptions): number {
  return options?.now ?? Math.floor(Date.now() / 1000);
}

export function tolerance(options?: VerifyOptions): number {
  return options?.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
}

/** A unix-seconds timestamp header/param within the window, or the reason it is not. */
export function checkTimestamp(
  raw: string | undefined,
  options: VerifyOptions | undefined,
  label: string,
): string | null {
  if (raw === undefined || raw === "") return `missing ${label}`;
  if (!/^\d{1,12}$/.test(raw.trim())) return `${label} is not a unix timestamp`;
  const t = Number(raw.trim());
  if (Math.abs(unixNow(options) - t) > tolerance(options))
    return `${label} is outside the ${tolerance(options)} s window`;
  return null;
}
