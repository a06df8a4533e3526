import { z } from "zod";
import { Region } from "./region.ts";

/**
 * The domain's vocabulary as zod schemas. Each schema and its type share one name.
 * These are the shapes of the public HTTP contract (see DESIGN.md); the edge builds its
 * OpenAPI document from them, so a change here is a change to the API.
 */

export const Channel = z.enum(["sms", "whatsapp", "email", "voice", "*"]);
export type Channel = z.infer<typeof Channel>;

/** A concrete channel a message is sent on (a check never asks about `*`). */
export const SendChannel = z.enum(["sms", "whatsapp", "email", "voice"]);
export type SendChannel = z.infer<typeof SendChannel>;

export const Sender = z.string().trim().min(1).max(128);

export const Scope = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("account") }),
  z.strictObject({ type: z.literal("sender"), sender: Sender }),
]);
export type Scope = z.infer<typeof Scope>;

export const ConsentAction = z.enum(["opt_out", "opt_in"]);
export type ConsentAction = z.infer<typeof ConsentAction>;

/**
 * Where a change came from. `provider`: a sending provider reported it (an email provider's own
 * unsubscribe or suppression event, or an SMS/WhatsApp send refused because the recipient opted out
 * at the provider or carrier), read from its event webhook (`POST /events/{provider}/{accountId}`).
 */
export const ConsentSource = z.enum(["keyword", "link", "trigger", "api", "import", "primary", "provider"]);
export type ConsentSource = z.infer<typeof ConsentSource>;

/** ISO-8601 instant with an explicit offset, normalized by the producer to UTC `...Z`. */
export const Instant = z.iso.datetime({ offset: true });

/** Raw address as a caller sends it; normalized by `normalizeAddress`. */
export const RawAddress = z.string().trim().min(1).max(320);

/** One blocklist entry as the API returns it. `active` entries block; inactive ones are history. */
export const BlocklistEntry = z.object({
  accountId: z.string(),
  address: z.string(),
  channel: Channel,
  scope: Scope,
  source: ConsentSource,
  reason: z.string().nullable(),
  /** occurredAt of the event that put the entry in its current state. */
  occurredAt: Instant,
  /** ledger seq of that event. */
  seq: z.number().int().positive(),
  createdAt: Instant,
});
export type BlocklistEntry = z.infer<typeof BlocklistEntry>;

/** The minimum an entry needs for a send decision. */
export const ActiveEntry = BlocklistEntry.pick({
  address: true,
  channel: true,
  scope: true,
  source: true,
  occurredAt: true,
  seq: true,
});
export type ActiveEntry = z.infer<typeof ActiveEntry>;

export const Evidence = z.record(z.string(), z.unknown());
export type Evidence = z.infer<typeof Evidence>;

/**
 * One ledger event. The ledger is append-only and hash-chained per account: `hash = SHA-256(
 * prevHash + canonicalJson(event without hash))`, so every field that describes the change is
 * covered (see core `hashInput`). `seq` is the global, gap-free position in the change feed,
 * assigned by the database when the event commits; `accountSeq` is the event's position in its
 * account's chain (1, 2, 3...), assigned by the account's single writer. Events sealed with an
 * `accountSeq` do not cover `seq` (it is not known when they are sealed, and no account's chain
 * may depend on a deployment-wide number); events sealed before it existed lack `accountSeq`, and
 * their hash covers `seq`. Both kinds verify.
 */
export const ConsentEvent = z.object({
  seq: z.number().int().positive(),
  accountSeq: z.number().int().positive().optional(),
  id: z.string().min(1),
  accountId: z.string().min(1),
  address: z.string().min(1),
  channel: Channel,
  scope: Scope,
  action: ConsentAction,
  source: ConsentSource,
  occurredAt: Instant,
  recordedAt: Instant,
  evidence: Evidence,
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ConsentEvent = z.infer<typeof ConsentEvent>;
export type UnhashedConsentEvent = Omit<ConsentEvent, "hash">;
/** An event as its account's writer seals it: its chain position known, its feed position not yet. */
export type ChainEvent = Omit<ConsentEvent, "seq" | "accountSeq"> & { accountSeq: number };
export type UnsealedChainEvent = Omit<ChainEvent, "hash">;

// ---------- API payloads ----------

export const CreateAccountInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  /** ISO 3166-1 alpha-2 region used to read national phone numbers, e.g. "US". */
  defaultRegion: Region.optional(),
  /** Key prefix: live keys for production traffic, test keys for everything else. */
  mode: z.enum(["live", "test"]).optional(),
});
export type CreateAccountInput = z.infer<typeof CreateAccountInput>;

export const CreateAccountResult = z.object({
  id: z.string(),
  name: z.string(),
  defaultRegion: z.string().nullable(),
  apiKey: z.string(),
});
export type CreateAccountResult = z.infer<typeof CreateAccountResult>;

export const BlocklistKey = z.strictObject({
  address: RawAddress,
  channel: Channel.default("*"),
  scope: Scope.default({ type: "account" }),
});
export type BlocklistKey = z.infer<typeof BlocklistKey>;

export const AddToBlocklistInput = BlocklistKey.extend({
  reason: z.string().trim().max(500).optional(),
});
export type AddToBlocklistInput = z.infer<typeof AddToBlocklistInput>;

export const RemoveFromBlocklistInput = AddToBlocklistInput;
export type RemoveFromBlocklistInput = z.infer<typeof RemoveFromBlocklistInput>;

export const MAX_PAGE = 1000;
export const MAX_CHECK_BATCH = 1000;

/** Opaque cursor: a non-negative integer as a string. */
export const Cursor = z.string().regex(/^\d{1,15}$/, "cursor must be a non-negative integer");

export const ListBlocklistQuery = z.strictObject({
  address: RawAddress.optional(),
  channel: Channel.optional(),
  cursor: Cursor.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
});
export type ListBlocklistQuery = z.infer<typeof ListBlocklistQuery>;

export const CheckItem = z.strictObject({
  address: RawAddress,
  sender: Sender,
  channel: SendChannel,
});
export type CheckItem = z.infer<typeof CheckItem>;

export const CheckQuery = CheckItem.extend({
  consistency: z.enum(["eventual", "strong"]).default("eventual"),
});
export type CheckQuery = z.infer<typeof CheckQuery>;

export const BlockedBy = z.object({
  channel: Channel,
  scope: Scope,
  source: ConsentSource,
  occurredAt: Instant,
  seq: z.number().int(),
});
export type BlockedBy = z.infer<typeof BlockedBy>;

export const CheckResult = z.object({
  address: z.string(),
  allowed: z.boolean(),
  blockedBy: BlockedBy.optional(),
});
export type CheckResult = z.infer<typeof CheckResult>;

export const CheckBatchInput = z.strictObject({
  items: z.array(CheckItem).min(1).max(MAX_CHECK_BATCH),
  consistency: z.enum(["eventual", "strong"]).default("eventual"),
});
export type CheckBatchInput = z.infer<typeof CheckBatchInput>;

/** A check item whose address could not be read gets an error in place, not a 400 for the batch. */
export const CheckBatchResultItem = z.union([
  CheckResult,
  z.object({ address: z.string(), error: z.object({ code: z.string(), message: z.string() }) }),
]);

export const ChangesQuery = z.strictObject({
  after: Cursor.default("0"),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(500),
});
export type ChangesQuery = z.infer<typeof ChangesQuery>;

export const ChangesPage = z.object({
  changes: z.array(ConsentEvent),
  /** The `after` to ask with next: the last returned seq, or the `after` asked with. */
  next: z.string(),
  hasMore: z.boolean(),
});
export type ChangesPage = z.infer<typeof ChangesPage>;

export const EvidenceQuery = z.strictObject({ address: RawAddress });

export const ChainVerification = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), count: z.number().int(), head: z.string() }),
  z.object({
    ok: z.literal(false),
    count: z.number().int(),
    brokenAt: z.number().int(),
    reason: z.enum([
      "prev_hash_mismatch",
      "hash_mismatch",
      "seq_not_increasing",
      "account_seq_not_consecutive",
    ]),
  }),
]);
export type ChainVerification = z.infer<typeof ChainVerification>;
