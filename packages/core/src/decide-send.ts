import type { ActiveEntry, BlockedBy, SendChannel } from "./schemas.ts";

export interface SendAttempt {
  sender: string;
  channel: SendChannel;
}

export type SendDecision = { allowed: true } | { allowed: false; blockedBy: BlockedBy };

/** Whether an entry stops a message from `sender` on `channel`. */
export function entryBlocks(entry: ActiveEntry, attempt: SendAttempt): boolean {
  const channelMatches = entry.channel === "*" || entry.channel === attempt.channel;
  if (!channelMatches) return false;
  switch (entry.scope.type) {
    case "account":
      return true;
    case "sender":
      return entry.scope.sender === attempt.sender;
  }
}

// When several entries block, the broadest is reported: account scope before sender scope,
// then `*` before a single channel, then the oldest. A stable answer makes support easier.
function breadth(e: ActiveEntry): number {
  return (e.scope.type === "account" ? 2 : 0) + (e.channel === "*" ? 1 : 0);
}

/**
 * The send decision. `entries` are the address's active entries (any order, any channels);
 * the answer is allowed, or blocked and by which entry.
 */
export function decideSend(entries: readonly ActiveEntry[], attempt: SendAttempt): SendDecision {
  let best: ActiveEntry | undefined;
  for (const entry of entries) {
    if (!entryBlocks(entry, attempt)) continue;
    if (
      !best ||
      breadth(entry) > breadth(best) ||
      (breadth(entry) === breadth(best) && entry.seq < best.seq)
    ) {
      best = entry;
    }
  }
  if (!best) return { allowed: true };
  return {
    allowed: false,
    blockedBy: {
      channel: best.channel,
      scope: best.scope,
      source: best.source,
      occurredAt: best.occurredAt,
      seq: best.seq,
    },
  };
}
