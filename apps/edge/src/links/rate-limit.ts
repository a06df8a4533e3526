/**
 * Per-client token buckets for `/u/*`, held in the isolate's memory.
 *
 * Why not the Workers rate-limit binding (it does run locally, in Miniflare)? Its only verb,
 * `limit()`, counts and answers in one step. The page needs two: "is this client over its limit?"
 * before the code is looked up (so that a refusal reveals nothing about the code), and "charge it"
 * after, by outcome. A code that resolves costs a twentieth of one that does not, because the
 * clients that legitimately send many valid requests — mailbox providers posting RFC 8058
 * one-click unsubscribes for thousands of recipients, corporate NATs — are exactly the ones a
 * flat per-IP limit would lock out, and a refused one-click is a lost opt-out. Guessing, the
 * attack the limit is for, is all misses, and 64+ bit codes make it hopeless at any rate anyway.
 *
 * Being per isolate, the limit is a bound per Cloudflare location and isolate, not global; that is
 * enough for its purpose (slowing guessing and floods) and needs no storage round trip.
 */

export interface BucketPolicy {
  /** Burst size, in misses. */
  capacity: number;
  /** Tokens regained per second. */
  refillPerSecond: number;
  /** Memory bound: beyond this many clients the fullest (idlest) buckets are forgotten. */
  maxClients: number;
}

export const UNSUBSCRIBE_POLICY: BucketPolicy = {
  capacity: 20,
  refillPerSecond: 20 / 60,
  maxClients: 10_000,
};
/** What one request costs, by what its code turned out to be. */
export const COST = { miss: 1, hit: 0.05 } as const;

interface Bucket {
  tokens: number;
  at: number;
}

export class ClientBuckets {
  readonly #buckets = new Map<string, Bucket>();
  constructor(readonly policy: BucketPolicy) {}

  #refilled(key: string, now: number): Bucket {
    const bucket = this.#buckets.get(key);
    if (!bucket) return { tokens: this.policy.capacity, at: now };
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return {
      tokens: Math.min(this.policy.capacity, bucket.tokens + elapsed * this.policy.refillPerSecond),
      at: now,
    };
  }

  /** Whether the client may make a request now. Does not charge. */
  admits(key: string, now: number): boolean {
    return this.#refilled(key, now).tokens >= 1;
  }

  /** Seconds until the client is admitted again (for Retry-After). */
  retryAfterSeconds(key: string, now: number): number {
    const missing = 1 - this.#refilled(key, now).tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.policy.refillPerSecond);
  }

  charge(key: string, cost: number, now: number): void {
    const bucket = this.#refilled(key, now);
    bucket.tokens -= cost;
    // Re-inserting keeps the Map in least-recently-charged order for eviction.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.policy.maxClients) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }
}

/** The isolate's buckets for `/u/*`. */
export const unsubscribeLimiter = new ClientBuckets(UNSUBSCRIBE_POLICY);
