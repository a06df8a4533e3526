import { createHash } from "node:crypto";
import { type ChainVerification, type ConsentEvent, canonicalJson, GENESIS_HASH } from "@optout/core";

/**
 * core's `verifyChain`, with node:crypto's synchronous SHA-256 instead of WebCrypto's promise per
 * event: the same formula (`hash = SHA-256(prevHash + canonicalJson(event without hash))`, with
 * core's canonicalJson) and the same answers, about three times faster on a backlog. Core stays
 * free of node:* imports; this is the daemon's own, and test/verify-chain.test.ts holds it to
 * core's results.
 */
export function verifyChainSync(
  events: readonly ConsentEvent[],
  options: { startHash?: string } = {},
): ChainVerification {
  let prev = options.startHash ?? GENESIS_HASH;
  let prevSeq = 0;
  for (const [i, event] of events.entries()) {
    if (event.seq <= prevSeq)
      return { ok: false, count: events.length, brokenAt: i, reason: "seq_not_increasing" };
    if (event.prevHash !== prev)
      return { ok: false, count: events.length, brokenAt: i, reason: "prev_hash_mismatch" };
    const { hash, ...rest } = event;
    const actual = createHash("sha256")
      .update(event.prevHash + canonicalJson(rest))
      .digest("hex");
    if (actual !== hash) return { ok: false, count: events.length, brokenAt: i, reason: "hash_mismatch" };
    prev = hash;
    prevSeq = event.seq;
  }
  return { ok: true, count: events.length, head: prev };
}
