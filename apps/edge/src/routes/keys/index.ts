import { createRoute, z } from "@hono/zod-openapi";
import { generateApiKey, Instant, newId, sha256Hex } from "@optout/core";
import { sql } from "../../db/sql.ts";
import { forgetVerifiedKey, KEY_CACHE_TTL_MS, requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, ErrorEnvelope } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";

/** Active keys per account; enough for rotation across many services, small enough to list. */
export const MAX_ACTIVE_KEYS_PER_ACCOUNT = 100;

const tags = ["keys"];
const KeyMode = z.enum(["live", "test"]);

const CreateKeyInput = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional().openapi({ example: "billing service" }),
    mode: KeyMode.optional().openapi({ description: "Default: the mode of the key making the request" }),
  })
  .openapi("CreateApiKeyInput");

const keyFields = {
  id: z.string().openapi({ example: "key_4hT0t7m1cA9yYpQ2xW3bLk" }),
  name: z.string().nullable(),
  prefix: z
    .string()
    .openapi({ description: "The key's first 12 characters, safe to display", example: "sk_live_AbCd" }),
  mode: KeyMode,
  createdAt: Instant,
};

const CreatedKey = z
  .object({ ...keyFields, apiKey: z.string().openapi({ description: "The key; shown only this once" }) })
  .openapi("CreatedApiKey");

const KeyView = z
  .object({
    ...keyFields,
    revokedAt: Instant.nullable(),
    lastFour: z.string().optional().openapi({ description: "The key's last four characters (newer keys)" }),
  })
  .openapi("ApiKey");

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "key_4hT0t7m1cA9yYpQ2xW3bLk" }),
});

const createKey = createRoute({
  method: "post",
  path: "/v1/keys",
  operationId: "createApiKey",
  tags,
  summary: "Create an API key",
  description:
    "Issues another key for the calling account, for rotation: create the new key, deploy it, then " +
    "revoke the old one. The key is returned once and stored only as its SHA-256. A `sk_test_` key " +
    "can create only test keys.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(CreateKeyInput) },
  responses: {
    201: jsonContent(CreatedKey, "The new key (shown once)"),
    ...commonErrors,
    ...authErrors,
    403: jsonContent(ErrorEnvelope, "A test key asked for a live key (`forbidden`)"),
    409: jsonContent(
      ErrorEnvelope,
      `The account already has ${MAX_ACTIVE_KEYS_PER_ACCOUNT} active keys (\`conflict\`)`,
    ),
    ...bodyErrors,
  },
});

const listKeys = createRoute({
  method: "get",
  path: "/v1/keys",
  operationId: "listApiKeys",
  tags,
  summary: "List API keys",
  description: "The account's keys, active and revoked, oldest first. Never the key or its hash.",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: {
    200: jsonContent(z.object({ items: z.array(KeyView) }).openapi("ApiKeyList"), "All of them"),
    ...commonErrors,
    ...authErrors,
  },
});

const revokeKey = createRoute({
  method: "delete",
  path: "/v1/keys/{id}",
  operationId: "revokeApiKey",
  tags,
  summary: "Revoke an API key",
  description:
    "The key stops authenticating at once in the isolate that served this request, and everywhere " +
    `within ${KEY_CACHE_TTL_MS / 1000} s (each isolate caches verified keys that long). The key ` +
    "making the request may revoke itself; the account's last active key may not be revoked. " +
    "Revoking a revoked key changes nothing and answers its original `revokedAt`.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { params: IdParam },
  responses: {
    200: jsonContent(z.object({ id: z.string(), revokedAt: Instant }).openapi("ApiKeyRevoked"), "Revoked"),
    ...commonErrors,
    ...authErrors,
    404: jsonContent(ErrorEnvelope, "No such key in this account (`not_found`)"),
    409: jsonContent(ErrorEnvelope, "It is the account's last active key (`conflict`)"),
  },
});

function modeOf(prefix: string): "live" | "test" {
  return prefix.startsWith("sk_live_") ? "live" : "test";
}

export const keyRoutes = createRouter()
  .openapi(createKey, async (c) => {
    const input = c.req.valid("json");
    const { accountId, keyMode } = c.var.principal;
    const mode = input.mode ?? keyMode ?? "test";
    // A test key is what a sandbox, a CI job or a laptop holds: it must not mint the keys that
    // production traffic runs on.
    if (mode === "live" && keyMode !== "live") {
      throw new ApiError(403, "forbidden", "mode: only a live key can create live keys");
    }
    const apiKey = generateApiKey(mode);
    const id = newId("key");
    const createdAt = new Date().toISOString();
    const name = input.name ?? null;
    const prefix = apiKey.slice(0, 12);
    // One statement: the cap holds even when keys are created concurrently.
    const inserted = await c.var.db.run(
      sql`INSERT INTO api_keys (id, account_id, key_hash, key_prefix, name, last_four, created_at)
        SELECT ${id}, ${accountId}, ${await sha256Hex(apiKey)}, ${prefix}, ${name}, ${apiKey.slice(-4)}, ${createdAt}
        WHERE (SELECT COUNT(*) FROM api_keys WHERE account_id = ${accountId} AND revoked_at IS NULL)
          < ${MAX_ACTIVE_KEYS_PER_ACCOUNT}`,
    );
    if (inserted.meta.changes !== 1) {
      throw new ApiError(
        409,
        "conflict",
        `an account may have at most ${MAX_ACTIVE_KEYS_PER_ACCOUNT} active keys; revoke one first`,
      );
    }
    return c.json({ id, name, prefix, mode, createdAt, apiKey }, 201);
  })
  .openapi(listKeys, async (c) => {
    const rows = await c.var.db.all<{
      id: string;
      name: string | null;
      prefix: string;
      createdAt: string;
      revokedAt: string | null;
      lastFour: string | null;
    }>(
      sql`SELECT id, name, key_prefix AS prefix, created_at AS createdAt, revoked_at AS revokedAt,
          last_four AS lastFour
        FROM api_keys WHERE account_id = ${c.var.principal.accountId}
        ORDER BY created_at, id`,
    );
    const items = rows.map(({ lastFour, ...row }) => ({
      ...row,
      mode: modeOf(row.prefix),
      ...(lastFour ? { lastFour } : {}),
    }));
    return c.json({ items }, 200);
  })
  .openapi(revokeKey, async (c) => {
    const { id } = c.req.valid("param");
    const { accountId } = c.var.principal;
    const db = c.var.db;
    const revokedAt = new Date().toISOString();
    // One statement: two concurrent revocations can never leave the account without a key.
    const revoked = await db.get<{ keyHash: string }>(
      sql`UPDATE api_keys SET revoked_at = ${revokedAt}
        WHERE id = ${id} AND account_id = ${accountId} AND revoked_at IS NULL
          AND EXISTS (SELECT 1 FROM api_keys others
            WHERE others.account_id = ${accountId} AND others.revoked_at IS NULL AND others.id <> ${id})
        RETURNING key_hash AS keyHash`,
    );
    if (revoked) {
      forgetVerifiedKey(revoked.keyHash);
      return c.json({ id, revokedAt }, 200);
    }
    const row = await db.get<{ revokedAt: string | null }>(
      sql`SELECT revoked_at AS revokedAt FROM api_keys WHERE id = ${id} AND account_id = ${accountId} LIMIT 1`,
    );
    // Another account's key id answers exactly like an unknown one.
    if (!row) throw new ApiError(404, "not_found", "no such API key");
    if (row.revokedAt) return c.json({ id, revokedAt: row.revokedAt }, 200);
    throw new ApiError(
      409,
      "conflict",
      "this is the account's last active API key; create another key (POST /v1/keys) before revoking it",
    );
  });
