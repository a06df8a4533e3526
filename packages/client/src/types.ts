/**
 * The client's public types, each an alias of the generated OpenAPI types (src/generated): when
 * the edge's document changes, `pnpm --filter @optout/client generate` changes these with it.
 */
import type { components, operations } from "./generated/openapi.ts";

type Schemas = components["schemas"];
type OperationId = keyof operations;

/** The JSON request body of an operation. */
export type JsonBody<K extends OperationId> = operations[K] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;

/** The query parameters of an operation. */
export type Query<K extends OperationId> = NonNullable<operations[K]["parameters"]["query"]>;

type Responses<K extends OperationId> = operations[K]["responses"];
/** The JSON body of an operation's 200 or 201 answer. */
export type SuccessBody<K extends OperationId> = {
  [S in keyof Responses<K>]: S extends 200 | 201
    ? Responses<K>[S] extends { content: { "application/json": infer B } }
      ? B
      : never
    : never;
}[keyof Responses<K>];

/** A channel a message is sent on. */
export type Channel = Query<"checkSend">["channel"];
/** A channel an entry blocks: one channel, or `*` for all of them. */
export type BlocklistChannel = NonNullable<JsonBody<"addToBlocklist">["channel"]>;
/** `{ type: "account" }` (from any sender) or `{ type: "sender", sender }` (from this sender). */
export type Scope = NonNullable<JsonBody<"addToBlocklist">["scope"]>;
/** `eventual` (KV, the default) or `strong` (D1: sees a change made a moment ago). */
export type Consistency = NonNullable<Query<"checkSend">["consistency"]>;

export type CheckInput = Query<"checkSend">;
export type CheckResult = Schemas["CheckResult"];
export type CheckItem = JsonBody<"checkSendBatch">["items"][number];
/** A decision, or `{ address, error }` for an item whose address cannot be read. */
export type CheckManyResult = Schemas["CheckBatchResult"]["results"][number];

export type AddToBlocklistInput = JsonBody<"addToBlocklist">;
export type RemoveFromBlocklistInput = JsonBody<"removeFromBlocklist">;
export type BlocklistQuery = Omit<Query<"listBlocklist">, "cursor">;
export type BlocklistEntry = Schemas["BlocklistEntry"];
export type BlocklistPage = Schemas["BlocklistPage"];
export type RemoveResult = Schemas["RemoveResult"];

export type MintLinkInput = JsonBody<"mintLink">;
export type Link = Schemas["Link"];

export type MessageEvent = JsonBody<"recordMessageEvents">["events"][number];
export type PostEventsResult = Schemas["PostEventsResult"];

export type Evidence = Schemas["Evidence"];
export type ConsentEvent = Schemas["ConsentEvent"];
export type EvidenceVerification = Schemas["EvidenceVerification"];

/** The `code` of the API's error envelope. */
export type ApiErrorCode = Schemas["Error"]["error"]["code"];
