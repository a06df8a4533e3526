/** Shared readers for provider payloads: JSON, zod validation with precise errors, times, numbers. */
import type { z } from "zod";
import { DomainError } from "../errors.ts";
import { formPairs, isJsonBody, parseUrl, singleMap, type WebhookRequest } from "./request.ts";
import type { InboundProvider } from "./types.ts";

export function parseJson(body: string, provider: InboundProvider): unknown {
  if (body.trim() === "") throw new DomainError("invalid_input", `${provider} webhook body is empty`);
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new DomainError(
      "invalid_input",
      `${provider} webhook body is not valid JSON (${(e as Error).message})`,
    );
  }
}

/**
 * The fields of a webhook that may come three ways (Vonage, MessageBird): a GET's query, a form
 * body (last value wins), or a JSON object. `params` for the first two, `json` for the third;
 * `what` names the request in errors, `jsonWhat` the JSON body.
 */
export function webhookFields(
  request: WebhookRequest,
  provider: InboundProvider,
  what: string,
  jsonWhat: string,
): { params: Record<string, string> } | { json: Record<string, unknown> } {
  if (request.method.toUpperCase() === "GET") {
    const url = parseUrl(request.url);
    if (!url) throw new DomainError("invalid_input", `${what} URL is not a valid absolute URL`);
    return { params: Object.fromEntries(url.searchParams) };
  }
  if (!isJsonBody(request)) {
    const pairs = formPairs(request.body);
    if (pairs.length === 0) throw new DomainError("invalid_input", `${what} carries no parameters`);
    return { params: singleMap(pairs) };
  }
  const json = parseJson(request.body, provider);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new DomainError("invalid_input", `${jsonWhat} is not a JSON object`);
  }
  return { json: json as Record<string, unknown> };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
}

export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  provider: InboundProvider,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new DomainError(
      "invalid_input",
      `${provider} ${what} is malformed: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

const SQL_LIKE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/;
const COMPACT_OFFSET = /([+-]\d{2})(\d{2})$/;

/**
 * Reads a provider timestamp into an ISO-8601 UTC instant. Accepts ISO-8601 with `Z`, `+00:00`
 * or `+0000`, Vonage's `YYYY-MM-DD HH:MM:SS` (UTC), and unix seconds or milliseconds. Anything
 * unreadable becomes the time of receipt: a STOP must not be lost over a date format.
 */
export function toInstant(raw: string | number | null | undefined, nowSeconds: number): string {
  const fallback = new Date(nowSeconds * 1000).toISOString();
  if (raw === null || raw === undefined || raw === "") return fallback;
  let ms: number;
  if (typeof raw === "number" || /^\d{9,13}$/.test(raw)) {
    const n = Number(raw);
    ms = n >= 1e12 ? n : n * 1000;
  } else {
    let text = raw.trim();
    const sqlLike = SQL_LIKE.exec(text);
    if (sqlLike) text = `${sqlLike[1]}T${sqlLike[2]}Z`;
    else text = text.replace(COMPACT_OFFSET, "$1:$2");
    ms = Date.parse(text);
  }
  if (!Number.isFinite(ms)) return fallback;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? fallback : date.toISOString();
}

/**
 * Providers that send international numbers without "+" (E.164 digits only). 8–15 digits is a
 * full international number; shorter is a short code, letters are an alphanumeric ID: both kept.
 */
export function internationalNumber(raw: string): string {
  const value = raw.trim();
  return /^\d{8,15}$/.test(value) ? `+${value}` : value;
}
