import { createRoute, z } from "@hono/zod-openapi";
import { Instant, Sender } from "@optout/core";
import { sql } from "../../db/sql.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, ErrorEnvelope } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";

/** Senders are few per account (numbers, short codes, IDs, email addresses); one page holds them all. */
export const MAX_SENDERS_PER_ACCOUNT = 1000;

const tags = ["triggers"];

/** A sender as the API returns it, read from the senders table. */
const SENDER_COLUMNS = sql.raw("sender, created_at AS createdAt");
type SenderView = { sender: string; createdAt: string };

const RegisterSenderInput = z.strictObject({ sender: Sender }).openapi("RegisterSenderInput");
const SenderResponse = z.object({ sender: z.string(), createdAt: Instant }).openapi("Sender");

const registerSender = createRoute({
  method: "post",
  path: "/v1/senders",
  operationId: "registerSender",
  tags,
  summary: "Register a sender",
  description:
    "Registers one of the account's senders exactly as its events and checks spell it (`+14155550100`, " +
    "`ACME`, `news@acme.example`). Sender-scoped trigger rules may only name registered senders. " +
    "Registering a sender again changes nothing (200).",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(RegisterSenderInput) },
  responses: {
    201: jsonContent(SenderResponse, "Registered"),
    200: jsonContent(SenderResponse, "Already registered"),
    ...commonErrors,
    ...authErrors,
    409: jsonContent(
      ErrorEnvelope,
      `The account already has ${MAX_SENDERS_PER_ACCOUNT} senders (\`conflict\`)`,
    ),
    ...bodyErrors,
  },
});

const listSenders = createRoute({
  method: "get",
  path: "/v1/senders",
  operationId: "listSenders",
  tags,
  summary: "List registered senders",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: {
    200: jsonContent(
      z.object({ items: z.array(SenderResponse) }).openapi("SenderList"),
      "All of them, by sender",
    ),
    ...commonErrors,
    ...authErrors,
  },
});

export const senderRoutes = createRouter()
  .openapi(registerSender, async (c) => {
    const { sender } = c.req.valid("json");
    const { accountId } = c.var.principal;
    const db = c.var.db;
    const find = () =>
      db.get<SenderView>(
        sql`SELECT ${SENDER_COLUMNS} FROM senders WHERE account_id = ${accountId} AND sender = ${sender} LIMIT 1`,
      );
    const existing = await find();
    if (existing) return c.json(existing, 200);
    const registered = await db.get<{ n: number }>(
      sql`SELECT COUNT(*) AS n FROM senders WHERE account_id = ${accountId}`,
    );
    if ((registered?.n ?? 0) >= MAX_SENDERS_PER_ACCOUNT) {
      throw new ApiError(
        409,
        "conflict",
        `an account may register at most ${MAX_SENDERS_PER_ACCOUNT} senders`,
      );
    }
    const row = await db.get<SenderView>(
      sql`INSERT INTO senders (account_id, sender, created_at)
        VALUES (${accountId}, ${sender}, ${new Date().toISOString()})
        ON CONFLICT DO NOTHING RETURNING ${SENDER_COLUMNS}`,
    );
    // A concurrent registration of the same sender won: it exists either way.
    if (!row) return c.json((await find())!, 200);
    return c.json(row, 201);
  })
  .openapi(listSenders, async (c) => {
    const items = await c.var.db.all<SenderView>(
      sql`SELECT ${SENDER_COLUMNS} FROM senders WHERE account_id = ${c.var.principal.accountId}
        ORDER BY sender LIMIT ${MAX_SENDERS_PER_ACCOUNT}`,
    );
    return c.json({ items }, 200);
  });
