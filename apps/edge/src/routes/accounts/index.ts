import { createRoute, z } from "@hono/zod-openapi";
import {
  CreateAccountInput,
  CreateAccountResult,
  GENESIS_HASH,
  generateApiKey,
  newId,
  Region,
  sha256Hex,
} from "@optout/core";
import { type Query, sql } from "../../db/sql.ts";
import { forgetAccountKeys, KEY_CACHE_TTL_MS, requireAdmin } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, ErrorEnvelope } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { LINK_KV_TTL_SECONDS } from "../../links/store.ts";

const tags = ["accounts"];

const createAccount = createRoute({
  method: "post",
  path: "/v1/accounts",
  operationId: "createAccount",
  tags,
  summary: "Create an account",
  description:
    "Creates an account and its first API key. The key is returned once and stored only as its " +
    "SHA-256. `mode` picks `sk_live_` or `sk_test_` keys (default: test, or live when " +
    "ENVIRONMENT=production).",
  security: security.admin,
  middleware: [requireAdmin, jsonBody] as const,
  request: { body: jsonBodyOf(CreateAccountInput) },
  responses: {
    201: jsonContent(CreateAccountResult, "The account and its API key (shown once)"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

const AccountIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "acc_4hT0t7m1cA9yYpQ2xW3bLk" }),
});

const UpdateAccountInput = z
  .strictObject({
    name: CreateAccountInput.shape.name.optional(),
    defaultRegion: Region.nullable()
      .optional()
      .openapi({ description: "`null` clears it: national-format numbers are then refused" }),
  })
  .refine((input) => input.name !== undefined || input.defaultRegion !== undefined, {
    message: "name or defaultRegion is required",
  })
  .openapi("UpdateAccountInput");

// The region as stored: an account created before regions were checked may hold any two letters.
const Account = z
  .object({ id: z.string(), name: z.string(), defaultRegion: z.string().nullable() })
  .openapi("Account");

const updateAccount = createRoute({
  method: "patch",
  path: "/v1/accounts/{id}",
  operationId: "updateAccount",
  tags,
  summary: "Rename an account or change its default region",
  description:
    "Changes the fields the body names (at least one). The region is the one national-format phone " +
    "numbers are read with from then on; entries already stored are E.164 and stay as they are. " +
    "A new region applies at once in the isolate that served this request and to inbound " +
    `webhooks (read per delivery); other isolates hold an account's API keys, with its region, ` +
    `for up to ${KEY_CACHE_TTL_MS / 1000} s, so everywhere within ${KEY_CACHE_TTL_MS / 1000} s. ` +
    "A new name is the brand of webhook confirmations at once, and of opt-out pages without their " +
    `own \`brandName\` within ${LINK_KV_TTL_SECONDS / 3600} h (links are cached in KV that long). ` +
    "Never returns a key.",
  security: security.admin,
  middleware: [requireAdmin, jsonBody] as const,
  request: { params: AccountIdParam, body: jsonBodyOf(UpdateAccountInput) },
  responses: {
    200: jsonContent(Account, "The account as it now is"),
    ...commonErrors,
    ...authErrors,
    404: jsonContent(ErrorEnvelope, "No account has this id (`not_found`)"),
    ...bodyErrors,
  },
});

export const accountRoutes = createRouter()
  .openapi(createAccount, async (c) => {
    const input = c.req.valid("json");
    const mode = input.mode ?? (c.var.config.ENVIRONMENT === "production" ? "live" : "test");
    const apiKey = generateApiKey(mode);
    const id = newId("acc");
    const now = new Date().toISOString();
    const db = c.var.db;
    // One batch: an account never exists without its key.
    await db.batch([
      sql`INSERT INTO accounts (id, name, default_region, key_mode, ledger_head_hash, created_at)
        VALUES (${id}, ${input.name}, ${input.defaultRegion ?? null}, ${mode}, ${GENESIS_HASH}, ${now})`,
      sql`INSERT INTO api_keys (id, account_id, key_hash, key_prefix, last_four, created_at)
        VALUES (${newId("key")}, ${id}, ${await sha256Hex(apiKey)}, ${apiKey.slice(0, 12)},
          ${apiKey.slice(-4)}, ${now})`,
    ]);
    return c.json({ id, name: input.name, defaultRegion: input.defaultRegion ?? null, apiKey }, 201);
  })
  .openapi(updateAccount, async (c) => {
    const { id } = c.req.valid("param");
    const { name, defaultRegion } = c.req.valid("json");
    // Only these two columns: the ledger head is written by ledger appends alone.
    // The body names at least one of them (UpdateAccountInput's refine), so the SET is never empty.
    const set: Query[] = [];
    if (name !== undefined) set.push(sql`name = ${name}`);
    if (defaultRegion !== undefined) set.push(sql`default_region = ${defaultRegion}`);
    const account = await c.var.db.get<{ id: string; name: string; defaultRegion: string | null }>(
      sql`UPDATE accounts SET ${sql.join(set, ", ")} WHERE id = ${id}
        RETURNING id, name, default_region AS defaultRegion`,
    );
    if (!account) throw new ApiError(404, "not_found", "no such account");
    // The cached keys carry the old region; new requests here read it afresh.
    forgetAccountKeys(id);
    return c.json(account, 200);
  });
