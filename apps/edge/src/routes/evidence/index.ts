import { createRoute, z } from "@hono/zod-openapi";
import { ChainVerification, ConsentEvent, checkEventHashes, EvidenceQuery, verifyChain } from "@optout/core";
import { EVENT_COLUMNS, eventFromRow } from "../../db/rows.ts";
import type { LedgerEventRow } from "../../db/schema/index.ts";
import { sql } from "../../db/sql.ts";
import { accountAddress } from "../../lib/address.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, bodyErrors, commonErrors } from "../../lib/errors.ts";
import { readOnlyJsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { unambiguousJson } from "./unambiguous-json.ts";

/** Column list that reads ledger_events under LedgerEventRow's property names, for eventFromRow. */
// D1 binds at most 100 parameters a statement: the account id and this many seqs.
const SEQS_PER_QUERY = 90;

const EvidenceResult = z
  .object({
    events: z.array(ConsentEvent.openapi("ConsentEvent")),
    verified: ChainVerification.openapi("ChainVerification"),
  })
  .openapi("Evidence");

const getEvidence = createRoute({
  method: "get",
  path: "/v1/evidence",
  operationId: "getEvidence",
  tags: ["evidence"],
  summary: "An address's consent history, with chain verification",
  description:
    "The address's ledger events in seq order, and `verified`: whether the account's whole hash " +
    "chain verifies (each event's hash covers its content and the previous event's hash, so any " +
    "edit, deletion or reordering is detected). An address with no history has `events: []`.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { query: EvidenceQuery },
  responses: {
    200: jsonContent(EvidenceResult, "Events and verification"),
    ...commonErrors,
    ...authErrors,
  },
});

const VerifyEvidenceInput = z
  .strictObject({ events: z.array(ConsentEvent.strict()).min(1).max(1000) })
  .openapi("VerifyEvidenceInput");

const EvidenceCheck = z
  .object({
    seq: z.number().int(),
    ok: z.boolean(),
    reason: z
      .enum(["hash_mismatch", "not_in_ledger", "differs_from_ledger"])
      .optional()
      .openapi({
        description:
          "`hash_mismatch`: the copy's content does not match its own hash (it was edited); " +
          "`not_in_ledger`: the account's ledger has no event with this seq; " +
          "`differs_from_ledger`: self-consistent, but not the event the ledger holds at this seq",
      }),
  })
  .openapi("EvidenceCheck");

const verifyEvidence = createRoute({
  method: "post",
  path: "/v1/evidence/verify",
  operationId: "verifyEvidence",
  tags: ["evidence"],
  summary: "Verify a copy of evidence against the ledger",
  description:
    "Takes events as `GET /v1/evidence` returned them (e.g. a copy kept with a complaint file) and " +
    "checks each one: its hash must match its content, and the account's ledger must hold the " +
    "same event at that seq. `verified` is true only if every event passes. A body that repeats a " +
    "key within an object, or has a `__proto__` key, is refused (400 `invalid_input`, naming where): " +
    "its parsed value would not be what it says, so no answer about it could be trusted.",
  security: security.account,
  middleware: [requireAccount, readOnlyJsonBody, unambiguousJson] as const,
  request: { body: jsonBodyOf(VerifyEvidenceInput) },
  responses: {
    200: jsonContent(
      z.object({ verified: z.boolean(), results: z.array(EvidenceCheck) }).openapi("EvidenceVerification"),
      "One result per event, in input order",
    ),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

export const evidenceRoutes = createRouter()
  .openapi(getEvidence, async (c) => {
    const principal = c.var.principal;
    const address = accountAddress(principal, c.req.valid("query").address);
    // The whole chain is needed to verify any link of it. Fine at today's sizes; a checkpointed
    // head (verify from a signed earlier hash) is the next step when chains grow long.
    const rows = await c.var.db.all<LedgerEventRow>(
      sql`SELECT ${sql.raw(EVENT_COLUMNS)} FROM ledger_events WHERE account_id = ${principal.accountId} ORDER BY seq`,
    );
    const chain = rows.map(eventFromRow);
    const verified = await verifyChain(chain);
    return c.json({ events: chain.filter((e) => e.address === address), verified }, 200);
  })
  .openapi(verifyEvidence, async (c) => {
    const principal = c.var.principal;
    const { events } = c.req.valid("json");
    const own = await checkEventHashes(events);
    // Only the caller's account is looked at: another account's events read as not_in_ledger.
    const stored = new Map<number, string>();
    const seqs = [...new Set(events.map((e) => e.seq))];
    for (let i = 0; i < seqs.length; i += SEQS_PER_QUERY) {
      // Never empty: `events` has at least one, so `IN ()` cannot happen.
      const chunk = seqs.slice(i, i + SEQS_PER_QUERY).map((seq) => sql`${seq}`);
      const rows = await c.var.db.all<{ seq: number; hash: string }>(
        sql`SELECT seq, hash FROM ledger_events
          WHERE account_id = ${principal.accountId} AND seq IN (${sql.join(chunk, ", ")})`,
      );
      for (const row of rows) stored.set(row.seq, row.hash);
    }
    const results = events.map((event, i) => {
      if (!own[i]!.ok) return { seq: event.seq, ok: false, reason: "hash_mismatch" as const };
      const hash = stored.get(event.seq);
      if (hash === undefined) return { seq: event.seq, ok: false, reason: "not_in_ledger" as const };
      if (hash !== event.hash) return { seq: event.seq, ok: false, reason: "differs_from_ledger" as const };
      return { seq: event.seq, ok: true };
    });
    return c.json({ verified: results.every((r) => r.ok), results }, 200);
  });
