import { type ConsentEvent, GENESIS_HASH } from "@optout/core";
import type { ChainHead } from "../db/queries/chain-heads.ts";
import { IntegrityError } from "../errors.ts";
import { verifyChainSync } from "./verify-chain.ts";

export interface VerifiedPage {
  events: ConsentEvent[];
  /** The seq the cursor moves to once these events are applied. */
  lastSeq: number;
  /** Each touched account's chain head after these events. */
  heads: Map<string, ChainHead>;
}

/**
 * Checks a page of the feed before anything is written:
 * - seqs continue the cursor with no gap and no repeat (`afterSeq + 1`, `+ 2`, ...);
 * - each account's events chain on from its stored head (or genesis for a new account), and
 *   every hash matches its event.
 * Either failure is an IntegrityError that stops the sync: skipping it would silently lose
 * or accept a change the edge cannot vouch for.
 */
export async function verifyPage(
  events: ConsentEvent[],
  context: { afterSeq: number; heads: ReadonlyMap<string, ChainHead> },
): Promise<VerifiedPage> {
  let expected = context.afterSeq + 1;
  const byAccount = new Map<string, ConsentEvent[]>();
  for (const event of events) {
    if (event.seq !== expected) {
      throw new IntegrityError(
        "seq_gap",
        event.seq > expected
          ? `gap in the change feed: expected seq ${expected}, the edge sent ${event.seq} (seqs ${expected}..${event.seq - 1} are missing)`
          : `the change feed went backwards: expected seq ${expected}, the edge sent ${event.seq}`,
        { expectedSeq: expected, receivedSeq: event.seq },
      );
    }
    expected++;
    const list = byAccount.get(event.accountId);
    if (list) list.push(event);
    else byAccount.set(event.accountId, [event]);
  }

  const heads = new Map<string, ChainHead>();
  for (const [accountId, accountEvents] of byAccount) {
    const stored = context.heads.get(accountId);
    const result = verifyChainSync(accountEvents, { startHash: stored?.hash ?? GENESIS_HASH });
    if (!result.ok) {
      const broken = accountEvents[result.brokenAt]!;
      const what = {
        hash_mismatch: "its hash does not match its content",
        prev_hash_mismatch: stored
          ? `its prevHash does not continue the account's chain (last applied: seq ${stored.lastSeq})`
          : "its prevHash does not continue the account's chain (a new account starts at genesis)",
        seq_not_increasing: "its seq does not increase",
        // Events that carry their chain position (a newer edge's) must count up by one.
        account_seq_not_consecutive: "its accountSeq does not follow the previous event's",
      }[result.reason];
      throw new IntegrityError("chain_broken", `ledger hash chain broken at seq ${broken.seq}: ${what}`, {
        accountId,
        seq: broken.seq,
        reason: result.reason,
      });
    }
    const last = accountEvents.at(-1)!;
    heads.set(accountId, { lastSeq: last.seq, hash: result.head });
  }
  return { events, lastSeq: expected - 1, heads };
}
