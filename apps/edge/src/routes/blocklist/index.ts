import { createRoute, z } from "@hono/zod-openapi";
import {
  AddToBlocklistInput,
  type ConsentAction,
  ListBlocklistQuery,
  RemoveFromBlocklistInput,
} from "@optout/core";
import type { Context } from "hono";
import type { Stored } from "../../db/client.ts";
import { ENTRY_COLUMNS, entryFromRow, entryView } from "../../db/rows.ts";
import type { BlocklistEntryRow } from "../../db/schema/index.ts";
import { type Query, sql } from "../../db/sql.ts";
import { accountAddress } from "../../lib/address.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, bodyErrors, commonErrors, writeErrors } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { EntryResponse, jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { commitWrite } from "../../writer/client.ts";

const tags = ["blocklist"];

const addEntry = createRoute({
  method: "post",
  path: "/v1/blocklist",
  operationId: "addToBlocklist",
  tags,
  summary: "Add an address to the blocklist",
  description:
    "Blocks `address` on `channel` (default `*`, every channel) at `scope` (default the whole " +
    "account; `{ type: sender, sender }` blocks one sender). Appends an `opt_out` event with source " +
    "`api`. If the entry is already active nothing is appended and the existing entry is returned " +
    "with 200 instead of 201.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(AddToBlocklistInput) },
  responses: {
    201: jsonContent(EntryResponse, "The entry, now active"),
    200: jsonContent(
      EntryResponse,
      "The entry was already active (or a later change governs it): nothing changed",
    ),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
    ...writeErrors,
  },
});

const RemoveResult = z
  .object({
    removed: z.boolean().openapi({ description: "true if this call made the entry inactive" }),
    entry: EntryResponse.nullable().openapi({
      description: "The entry's state now; null if it never existed",
    }),
  })
  .openapi("RemoveResult");

const removeEntry = createRoute({
  method: "delete",
  path: "/v1/blocklist",
  operationId: "removeFromBlocklist",
  tags,
  summary: "Remove an address from the blocklist",
  description:
    "Takes the same key fields as adding. Appends an `opt_in` event, so the removal is in the " +
    "ledger too. Removing an entry that is not active changes nothing and appends nothing " +
    "(`removed: false`).",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(RemoveFromBlocklistInput) },
  responses: {
    200: jsonContent(RemoveResult, "The entry's state after the call"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
    ...writeErrors,
  },
});

const ListResult = z
  .object({
    items: z.array(EntryResponse),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next page; null at the end" }),
  })
  .openapi("BlocklistPage");

const listEntries = createRoute({
  method: "get",
  path: "/v1/blocklist",
  operationId: "listBlocklist",
  tags,
  summary: "List active entries",
  description: "The account's active entries in creation order, optionally for one address and/or channel.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { query: ListBlocklistQuery },
  responses: {
    200: jsonContent(ListResult, "One page of active entries"),
    ...commonErrors,
    ...authErrors,
  },
});

/** An add or a remove through the API: one change, skipped if the entry is already in that state. */
async function apiChange(c: Context<AppEnv>, action: ConsentAction, input: AddToBlocklistInput) {
  const principal = c.var.principal;
  const { results } = await commitWrite(c.env, principal.accountId, {
    kind: "changes",
    items: [
      {
        change: {
          address: accountAddress(principal, input.address),
          channel: input.channel,
          scope: input.scope,
          action,
          source: "api",
          occurredAt: new Date().toISOString(),
          evidence: { requestId: c.var.requestId, ...(input.reason ? { reason: input.reason } : {}) },
          reason: input.reason ?? null,
          skipIfUnchanged: true,
        },
      },
    ],
  });
  return results[0];
}

export const blocklistRoutes = createRouter()
  .openapi(addEntry, async (c) => {
    const outcome = await apiChange(c, "opt_out", c.req.valid("json"));
    // "unchanged" always carries the existing active entry (opt_out is skipped only when active).
    if (outcome?.status === "appended") return c.json(entryView(outcome.entry), outcome.applied ? 201 : 200);
    if (outcome?.status === "unchanged" && outcome.entry) return c.json(entryView(outcome.entry), 200);
    throw new Error("the writer returned no outcome for an add");
  })
  .openapi(removeEntry, async (c) => {
    const outcome = await apiChange(c, "opt_in", c.req.valid("json"));
    if (outcome?.status === "appended")
      return c.json({ removed: outcome.applied, entry: entryView(outcome.entry) }, 200);
    const entry = outcome?.status === "unchanged" && outcome.entry ? entryView(outcome.entry) : null;
    return c.json({ removed: false, entry }, 200);
  })
  .openapi(listEntries, async (c) => {
    const query = c.req.valid("query");
    const principal = c.var.principal;
    const where: Query[] = [
      sql`e.account_id = ${principal.accountId}`,
      sql`e.active = 1`,
      sql`e.id > ${Number(query.cursor ?? "0")}`,
    ];
    if (query.address) where.push(sql`e.address = ${accountAddress(principal, query.address)}`);
    if (query.channel) where.push(sql`e.channel = ${query.channel}`);
    const rows = await c.var.db.all<Stored<BlocklistEntryRow>>(sql`
      SELECT ${sql.raw(ENTRY_COLUMNS)} FROM blocklist_entries e
      WHERE ${sql.join(where, " AND ")} ORDER BY e.id LIMIT ${query.limit + 1}`);
    const page = rows.slice(0, query.limit);
    const nextCursor = rows.length > query.limit ? String(page.at(-1)!.id) : null;
    return c.json({ items: page.map(entryFromRow), nextCursor }, 200);
  });
