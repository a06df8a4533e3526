import { z } from "zod";
import { Channel, ConsentAction, Instant, RawAddress, Scope } from "./schemas.ts";

/**
 * POST /v1/sync/apply: changes made in the operator's primary database, pushed to the edge.
 * Recorded at the edge as source `primary` events; idempotent by `id`.
 */
export const MAX_SYNC_APPLY_BATCH = 1000;

export const SyncChange = z.strictObject({
  /** Stable id of the change in the primary database; a replay of the same id has no effect. */
  id: z.string().trim().min(1).max(200),
  accountId: z.string().min(1).max(100),
  address: RawAddress,
  channel: Channel,
  scope: Scope,
  action: ConsentAction,
  occurredAt: Instant,
  reason: z.string().trim().max(500).optional(),
});
export type SyncChange = z.infer<typeof SyncChange>;

export const SyncApplyInput = z.strictObject({
  changes: z.array(SyncChange).min(1).max(MAX_SYNC_APPLY_BATCH),
});
export type SyncApplyInput = z.infer<typeof SyncApplyInput>;

export const SyncApplyResultItem = z.object({
  id: z.string(),
  /** The ledger seq the change was recorded at (the same on every replay). */
  seq: z.number().int().positive(),
  /** True if the change became the entry's state; false if it was older than the state it met. */
  applied: z.boolean(),
});
export type SyncApplyResultItem = z.infer<typeof SyncApplyResultItem>;

export const SyncApplyResult = z.object({ results: z.array(SyncApplyResultItem) });
export type SyncApplyResult = z.infer<typeof SyncApplyResult>;
