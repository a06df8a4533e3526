import { API_KEY_FORMAT, sha256Hex, timingSafeEqual } from "@optout/core";
import { createMiddleware } from "hono/factory";
import { sql } from "../db/sql.ts";
import type { AppEnv, Principal } from "./app-env.ts";
import { ApiError } from "./errors.ts";

function bearerToken(header: string | undefined): string {
  if (!header) throw new ApiError(401, "unauthorized", "missing Authorization: Bearer <token> header");
  // The scheme is case-insensitive (RFC 9110 §11.1); the token is printable ASCII, no spaces.
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header);
  if (!match) throw new ApiError(401, "unauthorized", "Authorization header must be: Bearer <token>");
  return match[1]!;
}

// Hashing both sides first makes the comparison independent of the secret's length too.
async function secretMatches(presented: string, expected: string): Promise<boolean> {
  return timingSafeEqual(await sha256Hex(presented), await sha256Hex(expected));
}

function requireSecret(pick: (c: { ADMIN_TOKEN: string; SYNC_TOKEN: string }) => string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!(await secretMatches(token, pick(c.var.config)))) {
      throw new ApiError(401, "unauthorized", "invalid token");
    }
    await next();
  });
}

/** Admin routes: `Authorization: Bearer <ADMIN_TOKEN>`. */
export const requireAdmin = requireSecret((s) => s.ADMIN_TOKEN);

/** The change feed and sync apply: `Authorization: Bearer <SYNC_TOKEN>`. */
export const requireSync = requireSecret((s) => s.SYNC_TOKEN);

/**
 * Verified keys per isolate, by key hash: the hot routes (the check API is called before every
 * message) then authenticate without a D1 round trip. Revoking a key (`api_keys.revoked_at`)
 * therefore takes effect within `KEY_CACHE_TTL_MS` in isolates that saw the key recently, and on
 * the next request everywhere else. Only successes are cached: an unknown or revoked key always
 * reads D1, so a key works the moment it is created and guesses gain nothing.
 */
export const KEY_CACHE_TTL_MS = 30_000;
const KEY_CACHE_MAX = 1000;
const verifiedKeys = new Map<string, { principal: Principal; until: number }>();

function cachedPrincipal(keyHash: string, now: number): Principal | undefined {
  const hit = verifiedKeys.get(keyHash);
  if (!hit) return undefined;
  if (hit.until > now) return hit.principal;
  verifiedKeys.delete(keyHash);
  return undefined;
}

function rememberPrincipal(keyHash: string, principal: Principal, now: number) {
  verifiedKeys.set(keyHash, { principal, until: now + KEY_CACHE_TTL_MS });
  // Insertion order: the first key is the oldest entry.
  if (verifiedKeys.size > KEY_CACHE_MAX) verifiedKeys.delete(verifiedKeys.keys().next().value!);
}

/**
 * Drops a key from this isolate's cache, so a revoked key stops working here at once (other
 * isolates drop it within `KEY_CACHE_TTL_MS`). Called by `DELETE /v1/keys/{id}`.
 */
export function forgetVerifiedKey(keyHash: string): void {
  verifiedKeys.delete(keyHash);
}

/**
 * Drops every key of an account from this isolate's cache, so what the principal carries (the
 * account's default region) is read afresh here at once (other isolates within
 * `KEY_CACHE_TTL_MS`). Called by `PATCH /v1/accounts/{id}`.
 */
export function forgetAccountKeys(accountId: string): void {
  for (const [keyHash, hit] of verifiedKeys) {
    if (hit.principal.accountId === accountId) verifiedKeys.delete(keyHash);
  }
}

/**
 * Account routes: `Authorization: Bearer sk_live_...|sk_test_...`. The key is looked up by its
 * SHA-256 (the only form stored), from the isolate's cache of recently verified keys or D1.
 */
export const requireAccount = createMiddleware<AppEnv>(async (c, next) => {
  const key = bearerToken(c.req.header("authorization"));
  if (!API_KEY_FORMAT.test(key)) throw new ApiError(401, "unauthorized", "malformed API key");
  const keyHash = await sha256Hex(key);
  const now = Date.now();
  // A hit is keyed by the full hash, so it is an exact match: no comparison leaks timing there.
  let principal = cachedPrincipal(keyHash, now);
  if (!principal) {
    const row = await c.var.db.get<{ keyHash: string; accountId: string; defaultRegion: string | null }>(sql`
      SELECT k.key_hash AS keyHash, a.id AS accountId, a.default_region AS defaultRegion
      FROM api_keys k INNER JOIN accounts a ON a.id = k.account_id
      WHERE k.key_hash = ${keyHash} AND k.revoked_at IS NULL
      LIMIT 1`);
    // The index found the row by equality; the constant-time re-check costs nothing and keeps
    // the rule "secrets are compared in constant time" true without exceptions.
    if (!row || !timingSafeEqual(row.keyHash, keyHash)) {
      throw new ApiError(401, "unauthorized", "unknown or revoked API key");
    }
    principal = {
      accountId: row.accountId,
      defaultRegion: row.defaultRegion,
      keyMode: key.startsWith("sk_live_") ? "live" : "test",
    };
    rememberPrincipal(keyHash, principal, now);
  }
  c.set("principal", principal);
  await next();
});
