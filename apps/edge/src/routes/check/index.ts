import { createRoute, z } from "@hono/zod-openapi";
import {
  CheckBatchInput,
  CheckBatchResultItem,
  CheckQuery,
  CheckResult,
  decideSend,
  isDomainError,
} from "@optout/core";
import { accountAddress } from "../../lib/address.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, bodyErrors, commonErrors } from "../../lib/errors.ts";
import { readOnlyJsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { activeEntriesFor } from "./read-entries.ts";

const tags = ["check"];

const consistencyNote =
  "By default the answer comes from KV, which is eventually consistent: a change can take up to " +
  "~60 s to be seen in other locations, and negative answers are cached too. Pass " +
  "`consistency=strong` to read D1, the source of truth, at a higher latency.";

const checkOne = createRoute({
  method: "get",
  path: "/v1/check",
  operationId: "checkSend",
  tags,
  summary: "May this sender message this address on this channel?",
  description: `Answers \`{ allowed, blockedBy? }\`; \`blockedBy\` is the broadest entry that blocks. ${consistencyNote}`,
  security: security.account,
  middleware: [requireAccount] as const,
  request: { query: CheckQuery },
  responses: {
    200: jsonContent(CheckResult.openapi("CheckResult"), "The send decision"),
    ...commonErrors,
    ...authErrors,
  },
});

const CheckBatchResult = z.object({ results: z.array(CheckBatchResultItem) }).openapi("CheckBatchResult");

const checkMany = createRoute({
  method: "post",
  path: "/v1/check",
  operationId: "checkSendBatch",
  tags,
  summary: "Check up to 1000 sends at once",
  description:
    "Results come in input order. An item whose address cannot be read gets " +
    "`{ address, error: { code: invalid_address, message } }` in its place instead of failing the " +
    `whole batch (a malformed item — wrong field or type — still fails it with 400). ${consistencyNote}`,
  security: security.account,
  middleware: [requireAccount, readOnlyJsonBody] as const,
  request: { body: jsonBodyOf(CheckBatchInput) },
  responses: {
    200: jsonContent(CheckBatchResult, "One result per item, in input order"),
    ...commonErrors,
    ...authErrors,
    ...bodyErrors,
  },
});

export const checkRoutes = createRouter()
  .openapi(checkOne, async (c) => {
    const query = c.req.valid("query");
    const principal = c.var.principal;
    const address = accountAddress(principal, query.address);
    const entries = await activeEntriesFor(
      { db: c.var.db, kv: c.env.KV },
      principal.accountId,
      [address],
      query.consistency,
    );
    const decision = decideSend(entries.get(address) ?? [], { sender: query.sender, channel: query.channel });
    return c.json({ address, ...decision }, 200);
  })
  .openapi(checkMany, async (c) => {
    const input = c.req.valid("json");
    const principal = c.var.principal;
    const items = input.items.map((item) => {
      try {
        return { item, address: accountAddress(principal, item.address) };
      } catch (err) {
        if (!isDomainError(err)) throw err;
        return { item, error: { code: err.code, message: err.message } };
      }
    });
    const addresses = items.flatMap((i) => (i.address ? [i.address] : []));
    const entries = await activeEntriesFor(
      { db: c.var.db, kv: c.env.KV },
      principal.accountId,
      addresses,
      input.consistency,
    );
    const results = items.map((i) => {
      // An unreadable address is echoed as sent: it is the caller's own input, by position.
      if (!i.address) return { address: i.item.address, error: i.error! };
      const decision = decideSend(entries.get(i.address) ?? [], {
        sender: i.item.sender,
        channel: i.item.channel,
      });
      return { address: i.address, ...decision };
    });
    return c.json({ results }, 200);
  });
