import { createRoute, z } from "@hono/zod-openapi";
import {
  canonicalInstant,
  isDomainError,
  MessageEventType,
  occurredAtProblem,
  PostEventsInput,
  type TriggerEvent,
} from "@optout/core";
import { accountAddress } from "../../lib/address.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import {
  ApiError,
  authErrors,
  bodyErrors,
  commonErrors,
  ErrorEnvelope,
  writeErrors,
} from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { commitWrite } from "../../writer/client.ts";

const tags = ["triggers"];

const PostEventsResult = z
  .object({
    results: z.array(
      z.object({
        messageId: z.string(),
        type: MessageEventType,
        status: z.enum(["recorded", "duplicate"]).openapi({
          description:
            "`duplicate`: (messageId, type) was recorded before — nothing fires again; if this report's " +
            "occurredAt is earlier, it replaces the kept one",
        }),
      }),
    ),
    fired: z.array(
      z.object({
        ruleId: z.string(),
        messageId: z.string(),
        seq: z
          .number()
          .int()
          .openapi({ description: "The opt_out ledger event (or the one in force already)" }),
        appended: z.boolean().openapi({ description: "false: the address was already blocked there" }),
      }),
    ),
    deadlinesScheduled: z
      .number()
      .int()
      .openapi({ description: "not_opened deadlines started (or moved earlier)" }),
  })
  .openapi("PostEventsResult");

const postEvents = createRoute({
  method: "post",
  path: "/v1/events",
  operationId: "recordMessageEvents",
  tags,
  summary: "Record message events (up to 1,000)",
  description:
    "Records what happened to messages the account sent. Idempotent by (messageId, type): a repeat " +
    "changes nothing (when it carries an earlier `occurredAt`, the earlier time is kept), so " +
    "retries, replays and out-of-order delivery end in the same state. `bounced`, `complained` and " +
    "`replied` (with `text`) fire matching trigger rules at once; `sent`/`delivered` start " +
    "`not_opened` deadlines (occurredAt + withinSeconds), which an `opened` or `clicked` strictly " +
    "before the deadline cancels. Message ids are the account's own (another account may use the " +
    "same ids without effect on yours); all events of a message must agree on address, sender and " +
    "channel. Events are accepted from 31 days ago up to 15 minutes ahead of the edge's clock. The batch is validated as a " +
    "whole first: any invalid event rejects the request and nothing is recorded.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { body: jsonBodyOf(PostEventsInput) },
  responses: {
    200: jsonContent(PostEventsResult, "Each event's status in input order, and the rules that fired"),
    ...commonErrors,
    ...authErrors,
    409: jsonContent(
      ErrorEnvelope,
      "An event contradicts its message's recorded address, sender, channel or campaign (`conflict`); nothing recorded",
    ),
    ...bodyErrors,
    ...writeErrors,
  },
});

export const eventRoutes = createRouter().openapi(postEvents, async (c) => {
  const input = c.req.valid("json");
  const principal = c.var.principal;
  const now = new Date();
  // Everything is checked before anything is written.
  const events = input.events.map((e, i): TriggerEvent => {
    const problem = occurredAtProblem(e.occurredAt, now);
    if (problem) throw new ApiError(400, "invalid_input", `events.${i}.occurredAt: ${problem}`);
    let address: string;
    try {
      address = accountAddress(principal, e.address);
    } catch (err) {
      if (isDomainError(err))
        throw new ApiError(400, "invalid_address", `events.${i}.address: ${err.message}`);
      throw err;
    }
    return {
      type: e.type,
      messageId: e.messageId,
      address,
      sender: e.sender,
      channel: e.channel,
      occurredAt: canonicalInstant(e.occurredAt),
      campaign: e.campaign ?? null,
      origin: "api",
      ...(e.text !== undefined ? { text: e.text } : {}),
    };
  });
  const { result } = await commitWrite(c.env, principal.accountId, { kind: "events", events, strict: true });
  return c.json(result, 200);
});
