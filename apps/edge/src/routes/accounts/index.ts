import { createRoute } from "@hono/zod-openapi";
import {
  CreateAccountInput,
  CreateAccountResult,
  GENESIS_HASH,
  generateApiKey,
  newId,
  sha256Hex,
} from "@optout/core";
import { accounts, apiKeys } from "../../db/schema/index.ts";
import { requireAdmin } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, bodyErrors, commonErrors } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";

const createAccount = createRoute({
  method: "post",
  path: "/v1/accounts",
  tags: ["accounts"],
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

export const accountRoutes = createRouter().openapi(createAccount, async (c) => {
  const input = c.req.valid("json");
  const mode = input.mode ?? (c.var.config.ENVIRONMENT === "production" ? "live" : "test");
  const apiKey = generateApiKey(mode);
  const id = newId("acc");
  const now = new Date().toISOString();
  const db = c.var.db;
  // One batch: an account never exists without its key.
  await db.batch([
    db.insert(accounts).values({
      id,
      name: input.name,
      defaultRegion: input.defaultRegion ?? null,
      keyMode: mode,
      ledgerHeadHash: GENESIS_HASH,
      createdAt: now,
    }),
    db.insert(apiKeys).values({
      id: newId("key"),
      accountId: id,
      keyHash: await sha256Hex(apiKey),
      keyPrefix: apiKey.slice(0, 12),
      lastFour: apiKey.slice(-4),
      createdAt: now,
    }),
  ]);
  return c.json({ id, name: input.name, defaultRegion: input.defaultRegion ?? null, apiKey }, 201);
});
