import { createHash } from "node:crypto";
import { type ChainVerification, type ConsentEvent, hashInput, walkChain } from "@optout/core";

/**
 * core's chain walk with node:crypto's synchronous SHA-256 instead of WebCrypto's promise per
 * event: the same formula and the same answers (test/verify-chain.test.ts holds it to core's
 * `verifyChain`), about three times faster on a backlog. Core stays free of node:* imports.
 */
export function verifyChainSync(
  events: readonly ConsentEvent[],
  options: { startHash?: string } = {},
): ChainVerification {
  return walkChain(events, (event) => createHash("sha256").update(hashInput(event)).digest("hex"), options);
}
