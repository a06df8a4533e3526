import { canonicalInstant } from "../instant.ts";
import type { MessageEventType } from "./message-event.ts";

/**
 * `not_opened` deadlines. All times are instants compared at millisecond precision; `now` is
 * always a parameter (the edge passes the Cron Trigger's scheduled time), never read here.
 *
 * The window is half-open: an `opened` or `clicked` whose occurredAt is strictly BEFORE the
 * deadline cancels it; one exactly AT the deadline, or after it, does not. "Within 60 seconds"
 * means the open happened less than 60 s after the message was sent. This agrees with when the
 * deadline falls due (`now >= dueAt`): at the instant it is due, no open that could still cancel
 * it can exist with a later timestamp, so the decision never has to wait for the future.
 */

/** The events that show the message was opened. */
export const OPENING_EVENTS = ["opened", "clicked"] as const satisfies readonly MessageEventType[];

/** The deadline: the `sent`/`delivered` event's occurredAt + withinSeconds (never its arrival). */
export function notOpenedDeadline(afterOccurredAt: string, withinSeconds: number): string {
  return canonicalInstant(Date.parse(afterOccurredAt) + withinSeconds * 1000);
}

/** Whether an open at `openedAt` cancels the deadline `dueAt`: strictly before it. */
export function cancelsDeadline(openedAt: string, dueAt: string): boolean {
  return Date.parse(openedAt) < Date.parse(dueAt);
}

/** Whether the deadline has fallen due at `now`: at or after it. */
export function isDeadlineDue(dueAt: string, now: Date): boolean {
  return Date.parse(dueAt) <= now.getTime();
}

export type DeadlineDecision =
  | { action: "wait" }
  | { action: "fire" }
  | { action: "cancel"; reason: "opened" | "clicked"; openedAt: string }
  | { action: "skip"; reason: "rule_deleted" | "rule_disabled" };

export interface DeadlineState {
  dueAt: string;
  /** The rule as it is now; null or deleted when it was deleted since the deadline started. */
  rule: { enabled: boolean; deleted: boolean } | null;
  /** The earliest `opened`/`clicked` event of the message known now, if any. */
  firstOpen: { type: "opened" | "clicked"; occurredAt: string } | null;
}

/**
 * What to do with a deadline at `now`. Only the events' occurredAt matter, not when they arrived:
 * an open that arrived late but happened before the deadline still cancels it, as long as it
 * arrived before the deadline was settled. A settled deadline is final (the edge never revisits it).
 */
export function settleDeadline(state: DeadlineState, now: Date): DeadlineDecision {
  if (!isDeadlineDue(state.dueAt, now)) return { action: "wait" };
  if (state.rule === null || state.rule.deleted) return { action: "skip", reason: "rule_deleted" };
  if (!state.rule.enabled) return { action: "skip", reason: "rule_disabled" };
  if (state.firstOpen && cancelsDeadline(state.firstOpen.occurredAt, state.dueAt)) {
    return { action: "cancel", reason: state.firstOpen.type, openedAt: state.firstOpen.occurredAt };
  }
  return { action: "fire" };
}

/** An account with due deadlines, as the cron sees it before claiming. */
export interface AccountDue {
  accountId: string;
  /** Its earliest due pending deadline. */
  firstDueAt: string;
}

/**
 * How many due deadlines to claim from each account in one batch of `batchSize`: an equal share,
 * earliest-due accounts first when there are more accounts than slots. One account's backlog of
 * any size therefore takes at most its share, and another account's due deadline waits at most
 * for the accounts ahead of it in due order — never behind a backlog.
 */
export function shareDeadlineClaims(
  accounts: readonly AccountDue[],
  batchSize: number,
): { accountId: string; limit: number }[] {
  if (accounts.length === 0 || batchSize < 1) return [];
  const first = [...accounts]
    .sort(
      (a, b) => Date.parse(a.firstDueAt) - Date.parse(b.firstDueAt) || (a.accountId < b.accountId ? -1 : 1),
    )
    .slice(0, batchSize);
  const share = Math.floor(batchSize / first.length);
  // The remainder goes to the earliest-due accounts, one each, so the batch is used whole.
  const extra = batchSize - share * first.length;
  return first.map((a, i) => ({ accountId: a.accountId, limit: share + (i < extra ? 1 : 0) }));
}
