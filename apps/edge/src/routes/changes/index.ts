import { createRoute } from "@hono/zod-openapi";
import { ChangesPage, ChangesQuery } from "@optout/core";
import { EVENT_COLUMNS, eventFromRow } from "../../db/rows.ts";
import type { LedgerEventRow } from "../../db/schema/index.ts";
import { sql } from "../../db/sql.ts";
import { requireSync } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, commonErrors } from "../../lib/errors.ts";
import { jsonContent, security } from "../../lib/openapi.ts";

const listChanges = createRoute({
  method: "get",
  path: "/v1/changes",
  operationId: "listChanges",
  tags: ["sync"],
  summary: "The change feed: ledger events after a seq",
  description:
    "Every account's consent events with `seq > after`, in seq order. `seq` is gap-free: a reader " +
    "that sees a gap has a bug or a broken database, never a reason to skip. Ask again with " +
    "`after = next` while `hasMore`.",
  security: security.sync,
  middleware: [requireSync] as const,
  request: { query: ChangesQuery },
  responses: {
    200: jsonContent(ChangesPage.openapi("ChangesPage"), "One page of the feed"),
    ...commonErrors,
    ...authErrors,
  },
});

export const changesRoutes = createRouter().openapi(listChanges, async (c) => {
  const { after, limit } = c.req.valid("query");
  const rows = await c.var.db.all<LedgerEventRow>(sql`
    SELECT ${sql.raw(EVENT_COLUMNS)} FROM ledger_events
    WHERE seq > ${Number(after)} ORDER BY seq LIMIT ${limit + 1}`);
  const changes = rows.slice(0, limit).map(eventFromRow);
  const next = changes.length ? String(changes.at(-1)!.seq) : after;
  return c.json({ changes, next, hasMore: rows.length > limit }, 200);
});
