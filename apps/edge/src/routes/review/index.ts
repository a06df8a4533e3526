import { createRoute, z } from "@hono/zod-openapi";
import { Cursor, MAX_PAGE } from "@optout/core";
import { and, asc, eq, gt } from "drizzle-orm";
import { inboundMessages } from "../../db/schema/index.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { authErrors, commonErrors } from "../../lib/errors.ts";
import { jsonContent, security } from "../../lib/openapi.ts";

const ReviewQuery = z.strictObject({
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
});

const ReviewItem = z
  .object({
    id: z.string().openapi({ description: "Opaque; also a valid `cursor`" }),
    provider: z.string(),
    providerMessageId: z.string(),
    address: z.string().openapi({ description: "The end user (E.164)" }),
    sender: z.string().openapi({ description: "The number or ID the message was sent to" }),
    text: z.string(),
    keyword: z.string().nullable().openapi({ description: "The opt-out keyword the message contains" }),
    ruleId: z.string().nullable(),
    language: z.string().nullable(),
    receivedAt: z.string(),
    recordedAt: z.string(),
  })
  .openapi("ReviewItem");

const listReview = createRoute({
  method: "get",
  path: "/v1/review",
  operationId: "listReviewMessages",
  tags: ["keyword rules"],
  summary: "Inbound messages a person should review",
  description:
    'Messages that contain an opt-out keyword without being one ("stop this bill", "don\'t ' +
    'stop"): they changed nothing. Oldest first. If one is a revocation after all, opt the address ' +
    "out with `POST /v1/blocklist`. The text is kept only for these messages.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { query: ReviewQuery },
  responses: {
    200: jsonContent(
      z.object({ items: z.array(ReviewItem), nextCursor: z.string().nullable() }).openapi("ReviewPage"),
      "One page of messages to review",
    ),
    ...commonErrors,
    ...authErrors,
  },
});

export const reviewRoutes = createRouter().openapi(listReview, async (c) => {
  const query = c.req.valid("query");
  const rows = await c.var.db
    .select()
    .from(inboundMessages)
    .where(
      and(
        eq(inboundMessages.accountId, c.var.principal.accountId),
        eq(inboundMessages.review, true),
        gt(inboundMessages.id, Number(query.cursor ?? "0")),
      ),
    )
    .orderBy(asc(inboundMessages.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const items = page.map((r) => ({
    id: String(r.id),
    provider: r.provider,
    providerMessageId: r.providerMessageId,
    address: r.address,
    sender: r.sender,
    text: r.text ?? "",
    keyword: r.keyword,
    ruleId: r.ruleId,
    language: r.language,
    receivedAt: r.receivedAt,
    recordedAt: r.recordedAt,
  }));
  return c.json({ items, nextCursor: rows.length > query.limit ? String(page.at(-1)!.id) : null }, 200);
});
