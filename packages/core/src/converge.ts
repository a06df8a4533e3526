import type { ConsentAction, ConsentSource } from "./schemas.ts";
import { type EntryIdentity, entryKey } from "./scope.ts";

/** What ordering needs to know about an event. */
export interface OrderedChange extends EntryIdentity {
  action: ConsentAction;
  source: ConsentSource;
  occurredAt: string;
  seq: number;
}

/**
 * Whether `candidate` replaces `current` as the state of an entry: the latest `occurredAt`
 * wins and ties go to the higher `seq`. Because this is a total order, applying any set of
 * events in any order (with replays) converges to the same state.
 */
export function supersedes(
  candidate: Pick<OrderedChange, "occurredAt" | "seq">,
  current: Pick<OrderedChange, "occurredAt" | "seq"> | undefined,
): boolean {
  if (!current) return true;
  const a = Date.parse(candidate.occurredAt);
  const b = Date.parse(current.occurredAt);
  if (a !== b) return a > b;
  return candidate.seq > current.seq;
}

/** Folds events into the winning event per entry. Order of `events` does not matter. */
export function converge<E extends OrderedChange>(events: Iterable<E>): Map<string, E> {
  const state = new Map<string, E>();
  for (const event of events) {
    const key = entryKey(event);
    if (supersedes(event, state.get(key))) state.set(key, event);
  }
  return state;
}

/** The entries that block after convergence: those whose winning event is an opt-out. */
export function activeEntries<E extends OrderedChange>(events: Iterable<E>): E[] {
  return [...converge(events).values()].filter((e) => e.action === "opt_out");
}
