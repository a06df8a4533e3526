import { API_KEY_FORMAT, sha256Hex, timingSafeEqual } from "@optout/core";
import { and, eq, isNull } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { accounts, apiKeys } from "../db/schema/index.ts";
import type { AppEnv } from "./app-env.ts";
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
 * Account routes: `Authorization: Bearer sk_live_...|sk_test_...`. The key is looked up by its
 * SHA-256 (the only form stored). No per-isolate cache: a revoked key stops working on the next
 * request, at the cost of one indexed D1 read.
 */
export const requireAccount = createMiddleware<AppEnv>(async (c, next) => {
  const key = bearerToken(c.req.header("authorization"));
  if (!API_KEY_FORMAT.test(key)) throw new ApiError(401, "unauthorized", "malformed API key");
  const keyHash = await sha256Hex(key);
  const [row] = await c.var.db
    .select({ keyHash: apiKeys.keyHash, accountId: accounts.id, defaultRegion: accounts.defaultRegion })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  // The index found the row by equality; the constant-time re-check costs nothing and keeps
  // the rule "secrets are compared in constant time" true without exceptions.
  if (!row || !timingSafeEqual(row.keyHash, keyHash)) {
    throw new ApiError(401, "unauthorized", "unknown or revoked API key");
  }
  c.set("principal", { accountId: row.accountId, defaultRegion: row.defaultRegion });
  await next();
});
