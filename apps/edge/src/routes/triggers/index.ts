import { createRoute, z } from "@hono/zod-openapi";
import { CreateTriggerInput, MAX_TRIGGERS_PER_ACCOUNT, newId, scopeKey, TriggerRule } from "@optout/core";
import type { Db, Stored } from "../../db/client.ts";
import type { TriggerRuleRow } from "../../db/schema/index.ts";
import { sql } from "../../db/sql.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, ErrorEnvelope } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { RULE_COLUMNS, ruleFromRow, ruleView } from "../../triggers/rules.ts";

/** A trigger_rules row as D1 returns it (`enabled` is 0 or 1); ruleFromRow reads it. */
type RuleRow = Stored<TriggerRuleRow>;

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
      const known = await db.get<{ sender: string }>(
        sql`SELECT sender FROM senders WHERE account_id = ${accountId} AND sender = ${input.scope.sender} LIMIT 1`,
      );
      if (!known) {
        throw new ApiError(
          422,
          "unknown_sender",
          "scope.sender: not a registered sender of this account; register it with POST /v1/senders",
        );
      }
    }
    const existing = await db.get<{ n: number }>(
      sql`SELECT COUNT(*) AS n FROM trigger_rules WHERE account_id = ${accountId} AND deleted_at IS NULL`,
    );
    if ((existing?.n ?? 0) >= MAX_TRIGGERS_PER_ACCOUNT) {
      throw new ApiError(
        409,
        "conflict",
        `an account may have at most ${MAX_TRIGGERS_PER_ACCOUNT} trigger rules`,
      );
    }
    const [inserted] = await db.batch<RuleRow>([
      // RULE_COLUMNS without its `r.`: SQLite's RETURNING cannot name the table by an alias.
      sql`INSERT INTO trigger_rules
          (id, account_id, name, trigger_on, channel, scope_key, campaign, enabled, created_at)
        VALUES (${newId("trg")}, ${accountId}, ${input.name}, ${JSON.stringify(input.on)}, ${input.channel},
          ${scopeKey(input.scope)}, ${input.campaign ?? null}, ${input.enabled}, ${new Date().toISOString()})
        RETURNING id, account_id AS accountId, name, trigger_on AS "on", channel, scope_key AS scopeKey,
          campaign, enabled, created_at AS createdAt, deleted_at AS deletedAt`,
      rulesChanged(accountId),
    ]);
    return c.json(ruleView(ruleFromRow(inserted!.results[0]!)), 201);
  })
  .openapi(listTriggers, async (c) => {
    const rows = await c.var.db.all<RuleRow>(
      sql`SELECT ${sql.raw(RULE_COLUMNS)} FROM trigger_rules r
        WHERE r.account_id = ${c.var.principal.accountId} AND r.deleted_at IS NULL
        ORDER BY r.created_at, r.id`,
    );
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
      sql`UPDATE trigger_rules SET deleted_at = ${new Date().toISOString()}
        WHERE id = ${id} AND account_id = ${accountId} AND deleted_at IS NULL`,
      rulesChanged(accountId),
    ]);
    return c.json({ id, deleted: true as const }, 200);
  });

/**
 * Moves the account's rules version in the same batch as the change: the account's writer caches
 * its rules and checks this inside every commit that relied on them (docs/adr/0010).
 */
function rulesChanged(accountId: string) {
  return sql`UPDATE accounts SET trigger_rules_version = trigger_rules_version + 1 WHERE id = ${accountId}`;
}

/** The account's live rule; another account's rule is "not found" like a missing one. */
async function findRule(db: Db, accountId: string, id: string) {
  const row = await db.get<RuleRow>(
    sql`SELECT ${sql.raw(RULE_COLUMNS)} FROM trigger_rules r
      WHERE r.id = ${id} AND r.account_id = ${accountId} AND r.deleted_at IS NULL LIMIT 1`,
  );
  if (!row) throw new ApiError(404, "not_found", "no such trigger rule");
  return row;
}
