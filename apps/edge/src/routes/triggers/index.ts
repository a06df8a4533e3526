import { createRoute, z } from "@hono/zod-openapi";
import { CreateTriggerInput, MAX_TRIGGERS_PER_ACCOUNT, newId, scopeKey, TriggerRule } from "@optout/core";
import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { accounts, senders, triggerRules } from "../../db/schema/index.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, ErrorEnvelope } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { ruleFromRow, ruleView } from "../../triggers/rules.ts";

const tags = ["triggers"];

const TriggerResponse = TriggerRule.openapi("TriggerRule");

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "trg_4hT0t7m1cA9yYpQ2xW3bLk" }),
});

const notFound = jsonContent(ErrorEnvelope, "No such rule in this account (`not_found`)");

const createTrigger = createRoute({
  method: "post",
  path: "/v1/triggers",
  operationId: "createTriggerRule",
  tags,
  summary: "Create a trigger rule",
  description:
    "When `on` happens to a message on `channel` (default `*`: any) from the scope's sender (account " +
    "scope: any sender) of `campaign` (if given), the message's address is added to the blocklist on " +
    "`channel` at `scope` — an `opt_out` ledger event with source `trigger` whose evidence names the " +
    "rule and the events. `on`: `keyword_reply` (a reply that is exactly one of `keywords`), " +
    "`link_click` (a confirmed opt-out link), `bounced`, `complained`, or `not_opened` (no `opened` " +
    "or `clicked` strictly before `after`'s occurredAt + `withinSeconds`, 60..2,592,000; settled by a " +
    "cron within about two minutes after the deadline). A rule applies to events recorded after it " +
    "exists, fires at most once per message, and a sender scope must name a registered sender " +
    "(`POST /v1/senders`).",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(CreateTriggerInput) },
  responses: {
    201: jsonContent(TriggerResponse, "The rule"),
    ...commonErrors,
    ...authErrors,
    409: jsonContent(
      ErrorEnvelope,
      `The account already has ${MAX_TRIGGERS_PER_ACCOUNT} rules (\`conflict\`)`,
    ),
    422: jsonContent(
      ErrorEnvelope,
      "The scope names a sender the account has not registered (`unknown_sender`)",
    ),
    ...bodyErrors,
  },
});

const listTriggers = createRoute({
  method: "get",
  path: "/v1/triggers",
  operationId: "listTriggerRules",
  tags,
  summary: "List trigger rules",
  security: security.account,
  middleware: [requireAccount] as const,
  responses: {
    200: jsonContent(
      z.object({ items: z.array(TriggerResponse) }).openapi("TriggerRuleList"),
      "In creation order",
    ),
    ...commonErrors,
    ...authErrors,
  },
});

const getTrigger = createRoute({
  method: "get",
  path: "/v1/triggers/{id}",
  operationId: "getTriggerRule",
  tags,
  summary: "Read a trigger rule",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { params: IdParam },
  responses: { 200: jsonContent(TriggerResponse, "The rule"), ...commonErrors, ...authErrors, 404: notFound },
});

const deleteTrigger = createRoute({
  method: "delete",
  path: "/v1/triggers/{id}",
  operationId: "deleteTriggerRule",
  tags,
  summary: "Delete a trigger rule",
  description:
    "The rule stops firing at once; its pending not_opened deadlines are skipped when they fall due. " +
    "Opt-outs it already recorded stay (remove them with `DELETE /v1/blocklist`), and their ledger " +
    "evidence keeps naming it.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { params: IdParam },
  responses: {
    200: jsonContent(
      z.object({ id: z.string(), deleted: z.literal(true) }).openapi("TriggerDeleted"),
      "Deleted",
    ),
    ...commonErrors,
    ...authErrors,
    404: notFound,
  },
});

export const triggerRoutes = createRouter()
  .openapi(createTrigger, async (c) => {
    const input = c.req.valid("json");
    const { accountId } = c.var.principal;
    const db = c.var.db;
    if (input.scope.type === "sender") {
      const [known] = await db
        .select({ sender: senders.sender })
        .from(senders)
        .where(and(eq(senders.accountId, accountId), eq(senders.sender, input.scope.sender)))
        .limit(1);
      if (!known) {
        throw new ApiError(
          422,
          "unknown_sender",
          "scope.sender: not a registered sender of this account; register it with POST /v1/senders",
        );
      }
    }
    const [existing] = await db
      .select({ n: count() })
      .from(triggerRules)
      .where(and(eq(triggerRules.accountId, accountId), isNull(triggerRules.deletedAt)));
    if ((existing?.n ?? 0) >= MAX_TRIGGERS_PER_ACCOUNT) {
      throw new ApiError(
        409,
        "conflict",
        `an account may have at most ${MAX_TRIGGERS_PER_ACCOUNT} trigger rules`,
      );
    }
    const [[row]] = await db.batch([
      db
        .insert(triggerRules)
        .values({
          id: newId("trg"),
          accountId,
          name: input.name,
          on: JSON.stringify(input.on),
          channel: input.channel,
          scopeKey: scopeKey(input.scope),
          campaign: input.campaign ?? null,
          enabled: input.enabled,
          createdAt: new Date().toISOString(),
        })
        .returning(),
      rulesChanged(db, accountId),
    ]);
    return c.json(ruleView(ruleFromRow(row!)), 201);
  })
  .openapi(listTriggers, async (c) => {
    const rows = await c.var.db
      .select()
      .from(triggerRules)
      .where(and(eq(triggerRules.accountId, c.var.principal.accountId), isNull(triggerRules.deletedAt)))
      .orderBy(asc(triggerRules.createdAt), asc(triggerRules.id));
    return c.json({ items: rows.map((r) => ruleView(ruleFromRow(r))) }, 200);
  })
  .openapi(getTrigger, async (c) => {
    const { id } = c.req.valid("param");
    const row = await findRule(c.var.db, c.var.principal.accountId, id);
    return c.json(ruleView(ruleFromRow(row)), 200);
  })
  .openapi(deleteTrigger, async (c) => {
    const { id } = c.req.valid("param");
    const { accountId } = c.var.principal;
    await findRule(c.var.db, accountId, id);
    const db = c.var.db;
    await db.batch([
      db
        .update(triggerRules)
        .set({ deletedAt: new Date().toISOString() })
        .where(
          and(eq(triggerRules.id, id), eq(triggerRules.accountId, accountId), isNull(triggerRules.deletedAt)),
        ),
      rulesChanged(db, accountId),
    ]);
    return c.json({ id, deleted: true as const }, 200);
  });

/**
 * Moves the account's rules version in the same batch as the change: the account's writer caches
 * its rules and checks this inside every commit that relied on them (docs/adr/0010).
 */
function rulesChanged(db: Db, accountId: string) {
  return db
    .update(accounts)
    .set({ triggerRulesVersion: sql`${accounts.triggerRulesVersion} + 1` })
    .where(eq(accounts.id, accountId));
}

/** The account's live rule; another account's rule is "not found" like a missing one. */
async function findRule(db: Db, accountId: string, id: string) {
  const [row] = await db
    .select()
    .from(triggerRules)
    .where(
      and(eq(triggerRules.id, id), eq(triggerRules.accountId, accountId), isNull(triggerRules.deletedAt)),
    )
    .limit(1);
  if (!row) throw new ApiError(404, "not_found", "no such trigger rule");
  return row;
}
