import { createRoute } from "@hono/zod-openapi";
import {
  futureInstantProblem,
  isDomainError,
  normalizeAddress,
  SyncApplyInput,
  SyncApplyResult,
} from "@optout/core";
import { sql } from "../../db/sql.ts";
import { requireSync } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, bodyErrors, commonErrors, writeErrors } from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { commitWrite } from "../../writer/client.ts";
import type { ChangeItem } from "../../writer/ops.ts";

const applyChanges = createRoute({
  method: "post",
  path: "/v1/sync/apply",
  operationId: "applySyncChanges",
  tags: ["sync"],
  summary: "Apply changes made in the primary database",
  description:
    "Records each change as a `primary` ledger event, in order per account (each account's changes in " +
    "one commit of its writer). Idempotent by " +
    "change `id`: a replayed id appends nothing and answers with the seq and `applied` it got the " +
    "first time. Ordering follows docs/adr/0002: a change older (by `occurredAt`, then seq) than " +
    "the entry's current state is still recorded, for audit, but does not change the entry " +
    "(`applied: false`). A change is recorded even when the entry is already in that state: the " +
    "primary database said so, and the ledger keeps what was said. Any invalid change (unknown " +
    "account, unreadable address, an `occurredAt` more than 15 minutes in the future) rejects the " +
    "whole request and nothing is written.",
  security: security.sync,
  middleware: [requireSync, jsonBody] as const,
  request: { body: jsonBodyOf(SyncApplyInput) },
  responses: {
    200: jsonContent(SyncApplyResult.openapi("SyncApplyResult"), "One result per change, in input order"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
    ...writeErrors,
  },
});

export const syncRoutes = createRouter().openapi(applyChanges, async (c) => {
  const { changes } = c.req.valid("json");
  const db = c.var.db;

  const accountIds = [...new Set(changes.map((ch) => ch.accountId))];
  // One statement with one bound parameter, whatever the number of accounts (D1 allows 100).
  const rows = await db.all<{ id: string; defaultRegion: string | null }>(sql`
    SELECT id, default_region AS defaultRegion FROM accounts
    WHERE id IN (SELECT value FROM json_each(${JSON.stringify(accountIds)}))`);
  const known = new Map(rows.map((row) => [row.id, row.defaultRegion]));

  // Validate everything before writing anything.
  const now = new Date();
  const items: (ChangeItem & { accountId: string })[] = changes.map((ch, i) => {
    // The latest occurredAt wins, so a change dated in the future would outrank every real change
    // to its entry (an opt_in dated 2999 would make every STOP until then lose).
    const future = futureInstantProblem(ch.occurredAt, now);
    if (future) throw new ApiError(400, "invalid_input", `changes.${i}.occurredAt: ${future}`);
    if (!known.has(ch.accountId))
      throw new ApiError(400, "invalid_input", `changes.${i}.accountId: unknown account`);
    let address: string;
    try {
      address = normalizeAddress(ch.address, { defaultRegion: known.get(ch.accountId) ?? undefined }).value;
    } catch (err) {
      if (isDomainError(err))
        throw new ApiError(400, "invalid_address", `changes.${i}.address: ${err.message}`);
      throw err;
    }
    return {
      accountId: ch.accountId,
      syncChangeId: ch.id,
      change: {
        address,
        channel: ch.channel,
        scope: ch.scope,
        action: ch.action,
        source: "primary",
        // One instant format everywhere, so ordering and hashing see the same string.
        occurredAt: new Date(ch.occurredAt).toISOString(),
        evidence: { changeId: ch.id, ...(ch.reason ? { reason: ch.reason } : {}) },
        reason: ch.reason ?? null,
      },
    };
  });

  // Each account's changes go to its own writer, all at once; each writer keeps their order.
  const byAccount = Map.groupBy(
    items.map((item, index) => ({ item, index })),
    ({ item }) => item.accountId,
  );
  const results: { id: string; seq: number; applied: boolean }[] = new Array(items.length);
  await Promise.all(
    [...byAccount].map(async ([accountId, group]) => {
      const answer = await commitWrite(c.env, accountId, {
        kind: "changes",
        items: group.map(({ item: { change, syncChangeId } }) => ({ change, syncChangeId })),
      });
      answer.results.forEach((outcome, j) => {
        const index = group[j]!.index;
        // Sync changes never ask to skip or expect: every outcome is an append or a replay.
        if (outcome.status === "appended")
          results[index] = { id: changes[index]!.id, seq: outcome.event.seq, applied: outcome.applied };
        else if (outcome.status === "replayed")
          results[index] = { id: changes[index]!.id, seq: outcome.seq, applied: outcome.applied };
        else throw new Error(`sync change unexpectedly ${outcome.status}`);
      });
    }),
  );
  return c.json({ results }, 200);
});
