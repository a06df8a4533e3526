import { createRoute, z } from "@hono/zod-openapi";
import { ChainVerification, ConsentEvent, EvidenceQuery, verifyChain } from "@optout/core";
import { asc, eq } from "drizzle-orm";
import { eventFromRow } from "../../db/rows.ts";
import { ledgerEvents } from "../../db/schema/index.ts";
import { accountAddress } from "../../lib/address.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, commonErrors } from "../../lib/errors.ts";
import { jsonContent, security } from "../../lib/openapi.ts";

const EvidenceResult = z
  .object({
    events: z.array(ConsentEvent.openapi("ConsentEvent")),
    verified: ChainVerification.openapi("ChainVerification"),
  })
  .openapi("Evidence");

const getEvidence = createRoute({
  method: "get",
  path: "/v1/evidence",
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

export const evidenceRoutes = createRouter().openapi(getEvidence, async (c) => {
  const principal = c.var.principal;
  const address = accountAddress(principal, c.req.valid("query").address);
  // The whole chain is needed to verify any link of it. Fine at today's sizes; a checkpointed
  // head (verify from a signed earlier hash) is the next step when chains grow long.
  const rows = await c.var.db
    .select()
    .from(ledgerEvents)
    .where(eq(ledgerEvents.accountId, principal.accountId))
    .orderBy(asc(ledgerEvents.seq));
  const chain = rows.map(eventFromRow);
  const verified = await verifyChain(chain);
  return c.json({ events: chain.filter((e) => e.address === address), verified }, 200);
});
