/**
 * The review queue: inbound messages that contain an opt-out keyword without being one wait for a
 * person (`GET /v1/review`), who decides each once (`POST /v1/review/{id}`): `opt_out` records the
 * keyword's opt-out with the original message as evidence and sends its confirmation (through the
 * provider's send API where the account stored its credentials); `dismiss` changes nothing. The
 * decision, the opt-out and the confirmation owed commit together through the account's writer.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  Cursor,
  InboundProvider,
  inboundChannel,
  isReviewOverdue,
  isSendApiProvider,
  MAX_PAGE,
  planReviewOptOut,
  REVIEW_BUSINESS_DAYS,
  ReviewDecision,
  reviewOverdueBefore,
} from "@optout/core";
import type { InboundMessageRow } from "../../db/schema/index.ts";
import { sql } from "../../db/sql.ts";
import { confirmContext } from "../../inbound/apply-inbound.ts";
import { cachedEffectiveRules } from "../../inbound/keyword-store.ts";
import { readWebhookTarget } from "../../inbound/provider-store.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import {
  ApiError,
  authErrors,
  bodyErrors,
  commonErrors,
  errorResponse,
  writeErrors,
} from "../../lib/errors.ts";
import { jsonBody } from "../../lib/json-body.ts";
import { jsonBodyOf, jsonContent, security } from "../../lib/openapi.ts";
import { commitWrite } from "../../writer/client.ts";

const tags = ["keyword rules"];

const ReviewState = z.enum(["pending", "decided", "all"]);

const ReviewQuery = z.strictObject({
  state: ReviewState.default("pending").openapi({
    description: "`pending` (undecided, the default), `decided`, or `all`",
  }),
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
    state: z.enum(["pending", "decided"]),
    decision: ReviewDecision.nullable(),
    decidedAt: z.string().nullable(),
    overdue: z.boolean().openapi({
      description: `Undecided ${REVIEW_BUSINESS_DAYS} business days (weekends skipped) after it was received: the FCC's deadline for honoring a revocation has passed`,
    }),
  })
  .openapi("ReviewItem");

const listReview = createRoute({
  method: "get",
  path: "/v1/review",
  operationId: "listReviewMessages",
  tags,
  summary: "Inbound messages a person should review",
  description:
    'Messages that contain an opt-out keyword without being one ("stop this bill", "don\'t ' +
    'stop"): they changed nothing until someone decides them with `POST /v1/review/{id}`. Oldest ' +
    "first, filtered by `state`. `overdueCount` counts every undecided item received more than " +
    `${REVIEW_BUSINESS_DAYS} business days ago (the FCC gives that long to honor a revocation). ` +
    "The text is kept only for these messages.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { query: ReviewQuery },
  responses: {
    200: jsonContent(
      z
        .object({
          items: z.array(ReviewItem),
          nextCursor: z.string().nullable(),
          overdueCount: z.number().int(),
        })
        .openapi("ReviewPage"),
      "One page of messages to review",
    ),
    ...commonErrors,
    ...authErrors,
  },
});

const ReviewIdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "a review item id")
    .openapi({ param: { name: "id", in: "path" }, example: "42" }),
});

const DecideInput = z.strictObject({ decision: ReviewDecision }).openapi("ReviewDecisionInput");

const DecideResult = z
  .object({
    item: ReviewItem,
    changes: z
      .array(
        z.object({
          status: z.enum(["appended", "unchanged", "changed_since", "replayed"]),
          seq: z.number().int().nullable(),
        }),
      )
      .openapi({ description: "The opt-out's ledger outcomes, one per scope (none for a dismissal)" }),
    confirmation: z
      .object({
        text: z.string(),
        delivery: z.enum(["send_api", "none"]).openapi({
          description:
            "`send_api`: sent through the provider's send API after the commit (at most once); " +
            "`none`: the account has no send credentials for the provider (or its confirmations " +
            "travel in webhook answers): send it yourself",
        }),
      })
      .nullable()
      .openapi({ description: "The opt-out's confirmation; null when nothing changed or for a dismissal" }),
  })
  .openapi("ReviewDecisionResult");

const decideReview = createRoute({
  method: "post",
  path: "/v1/review/{id}",
  operationId: "decideReviewMessage",
  tags,
  summary: "Decide a message held for review",
  description:
    "`opt_out`: the message was a revocation after all. The address is opted out as the keyword it " +
    "contains would have done (the rule's level, source `keyword`, the original message as evidence, " +
    "as of when it was received, so a later opt-in by the end user still wins) and its confirmation " +
    "is sent once. `dismiss`: nothing changes. Either way the item is decided for good: a second " +
    "decision is 409.",
  security: security.account,
  middleware: [requireAccount, jsonBody] as const,
  request: { params: ReviewIdParam, body: jsonBodyOf(DecideInput) },
  responses: {
    200: jsonContent(DecideResult, "Decided"),
    ...commonErrors,
    ...authErrors,
    404: errorResponse("No such item (`not_found`)"),
    409: errorResponse("The item was already decided (`conflict`)"),
    ...bodyErrors,
    ...writeErrors,
  },
});

/** What a review item shows and its decision needs of an inbound message. */
type ReviewRow = Pick<
  InboundMessageRow,
  | "id"
  | "provider"
  | "providerMessageId"
  | "address"
  | "sender"
  | "text"
  | "keyword"
  | "ruleId"
  | "language"
  | "receivedAt"
  | "recordedAt"
  | "decision"
  | "decidedAt"
>;

const REVIEW_COLUMNS = `id, provider, provider_message_id AS providerMessageId, address, sender, text, keyword,
  rule_id AS ruleId, language, received_at AS receivedAt, recorded_at AS recordedAt, decision,
  decided_at AS decidedAt`;

function itemOf(r: ReviewRow, now: Date): z.infer<typeof ReviewItem> {
  return {
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
    state: r.decision === null ? "pending" : "decided",
    decision: r.decision,
    decidedAt: r.decidedAt,
    overdue: isReviewOverdue({ receivedAt: r.receivedAt, decidedAt: r.decidedAt }, now),
  };
}

const NOT_FOUND = "no review item with this id";

export const reviewRoutes = createRouter()
  .openapi(listReview, async (c) => {
    const query = c.req.valid("query");
    const accountId = c.var.principal.accountId;
    const now = new Date();
    const state =
      query.state === "pending"
        ? sql.raw("AND decision IS NULL")
        : query.state === "decided"
          ? sql.raw("AND decision IS NOT NULL")
          : sql.raw("");
    const [rows, overdue] = await Promise.all([
      c.var.db.all<ReviewRow>(sql`
        SELECT ${sql.raw(REVIEW_COLUMNS)} FROM inbound_messages
        WHERE account_id = ${accountId} AND review = 1 ${state} AND id > ${Number(query.cursor ?? "0")}
        ORDER BY id ASC LIMIT ${query.limit + 1}`),
      // Walks inbound_messages_account_pending_review_idx: the account's undecided items only.
      c.var.db.get<{ n: number }>(sql`
        SELECT count(*) AS n FROM inbound_messages
        WHERE account_id = ${accountId} AND review = 1 AND decision IS NULL
          AND received_at < ${reviewOverdueBefore(now)}`),
    ]);
    const page = rows.slice(0, query.limit);
    return c.json(
      {
        items: page.map((r) => itemOf(r, now)),
        nextCursor: rows.length > query.limit ? String(page.at(-1)!.id) : null,
        overdueCount: overdue?.n ?? 0,
      },
      200,
    );
  })
  .openapi(decideReview, async (c) => {
    const { id: rawId } = c.req.valid("param");
    const { decision } = c.req.valid("json");
    const accountId = c.var.principal.accountId;
    const id = Number(rawId);
    const row = await c.var.db.get<ReviewRow>(sql`
      SELECT ${sql.raw(REVIEW_COLUMNS)} FROM inbound_messages
      WHERE id = ${id} AND account_id = ${accountId} AND review = 1 LIMIT 1`);
    if (!row) throw new ApiError(404, "not_found", NOT_FOUND);
    if (row.decision !== null) throw new ApiError(409, "conflict", "this item was already decided");
    const provider = InboundProvider.safeParse(row.provider);
    if (!provider.success) throw new ApiError(404, "not_found", NOT_FOUND);

    // One read: the brand, the provider's send credentials (present or not) and the keyword settings.
    const target = await readWebhookTarget(c.env.DB, accountId, provider.data);
    if (!target) throw new ApiError(404, "not_found", NOT_FOUND);
    const rules = await cachedEffectiveRules(c.var.db, accountId, target.keywords);
    const via = isSendApiProvider(provider.data) && target.credentials?.sendConfigured ? "send_api" : "none";
    const confirm = confirmContext(via, target.account.name, target.keywords.settings, rules);

    const { result } = await commitWrite(c.env, accountId, {
      kind: "review",
      confirm,
      decision:
        decision === "dismiss"
          ? { id, action: "dismiss" }
          : {
              id,
              action: "opt_out",
              provider: provider.data,
              address: row.address,
              sender: row.sender,
              plan: planReviewOptOut({
                item: {
                  id: String(row.id),
                  provider: row.provider,
                  providerMessageId: row.providerMessageId,
                  address: row.address,
                  sender: row.sender,
                  text: row.text ?? "",
                  keyword: row.keyword,
                  ruleId: row.ruleId,
                  language: row.language,
                  receivedAt: row.receivedAt,
                },
                // The rule's level; the account's default level when the rule is gone.
                level: rules.find((r) => r.id === row.ruleId)?.level ?? target.keywords.settings.defaultLevel,
                channel: inboundChannel(provider.data),
                requestId: c.var.requestId,
              }),
            },
    });
    const decided = { ...row, decision: result.decision, decidedAt: result.decidedAt };
    return c.json(
      {
        item: itemOf(decided, new Date()),
        changes: result.results.map((r) => ({
          status: r.status,
          seq:
            r.status === "appended" ? r.event.seq : r.status === "replayed" ? r.seq : (r.entry?.seq ?? null),
        })),
        confirmation: result.confirmation,
      },
      200,
    );
  });
