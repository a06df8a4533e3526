import { MAX_FUTURE_SKEW_MS, SyncChange } from "@optout/core";

/**
 * A change the daemon may send to the edge: core's SyncChange, dated no further in the future
 * than producers' clock skew allows (core's MAX_FUTURE_SKEW_MS, the bound the edge applies to the
 * instants it is given). The latest `occurredAt` decides an entry, so a change dated ahead of when
 * it happened would override every real change to its entry until then — an opt-in dated 2999
 * would keep the address unblocked at the edge until 2999. Such a change is refused, not
 * corrected: only whoever made it knows when it happened. Late changes are fine: the ledger keeps
 * them and the ordering rule places them.
 */
export function pushableChange(now: Date) {
  return SyncChange.extend({
    occurredAt: SyncChange.shape.occurredAt.superRefine((at, ctx) => {
      // Not `<=`: an instant that does not parse is the base schema's problem, reported by it.
      if (!(Date.parse(at) - now.getTime() > MAX_FUTURE_SKEW_MS)) return;
      ctx.addIssue({
        code: "custom",
        message:
          `${at} is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future: ` +
          "a change dated after it happened would decide its entry until then; give the time it happened",
      });
    }),
  });
}
