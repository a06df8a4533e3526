/**
 * Minimal JWS (compact, HMAC) verification for the two providers that sign webhooks with a JWT
 * (Vonage Messages API, MessageBird). Only HS256/384/512 are accepted: `none` and asymmetric
 * algorithms are refused, so a forged header cannot choose a weaker check.
 */
import {
  base64UrlDecode,
  base64UrlEncode,
  type HmacHash,
  hex,
  hmac,
  sha256,
  timingSafeEqual,
} from "./signing.ts";

const HASHES: Record<string, HmacHash> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

export type JwtClaims = Record<string, unknown>;
export type JwtResult = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

function decodeJson(segment: string): Record<string, unknown> | null {
  const raw = base64UrlDecode(segment);
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw),
    );
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export async function verifyHmacJwt(
  token: string,
  secret: string,
  allowed: readonly string[],
): Promise<JwtResult> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "token is not a compact JWT" };
  const [h, p, s] = parts as [string, string, string];
  const headerJson = decodeJson(h);
  if (!headerJson) return { ok: false, reason: "JWT header is not base64url JSON" };
  const alg = headerJson.alg;
  if (typeof alg !== "string" || !allowed.includes(alg) || !HASHES[alg]) {
    return { ok: false, reason: `JWT algorithm ${String(alg)} is not accepted` };
  }
  const expected = base64UrlEncode(await hmac(HASHES[alg], secret, `${h}.${p}`));
  if (!timingSafeEqual(s, expected)) return { ok: false, reason: "JWT signature does not match" };
  const claims = decodeJson(p);
  if (!claims) return { ok: false, reason: "JWT payload is not base64url JSON" };
  return { ok: true, claims };
}

export function numericClaim(claims: JwtClaims, name: string): number | undefined {
  const v = claims[name];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * The `payload_hash` claim (hex SHA-256 of the raw body) both JWT-signing providers use: when
 * present it must match the body; when absent the body must be empty, or the signature would not
 * cover what we are about to act on. Returns the reason it fails, or undefined.
 */
export async function payloadHashProblem(claims: JwtClaims, body: string): Promise<string | undefined> {
  const payloadHash = claims.payload_hash;
  if (typeof payloadHash === "string") {
    if (body.length === 0) return "JWT payload_hash is set but the request has no body";
    if (!timingSafeEqual(payloadHash.toLowerCase(), hex(await sha256(body)))) {
      return "JWT payload_hash does not match the body";
    }
    return undefined;
  }
  return body.length > 0 ? "JWT has no payload_hash claim but the request has a body" : undefined;
}
