import { sha256Hex } from "./crypto.ts";
import type {
  ChainEvent,
  ChainVerification,
  ConsentEvent,
  UnhashedConsentEvent,
  UnsealedChainEvent,
} from "./schemas.ts";

/** The prevHash of an account's first event. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined` members dropped
 * (as JSON.stringify does). The same value always gives the same string, on every runtime.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new TypeError("canonicalJson: non-finite number");
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * What an event's hash covers: its prevHash followed by the canonical JSON of the event without
 * its hash. An event with an `accountSeq` (sealed by its account's writer before the database
 * gave it a feed position) is hashed without `seq`; an older event without one, with it.
 */
export function hashInput(event: UnhashedConsentEvent | UnsealedChainEvent): string {
  const { hash: _ignored, ...rest } = event as UnhashedConsentEvent & { hash?: string };
  if (rest.accountSeq === undefined) return event.prevHash + canonicalJson(rest);
  const { seq: _notCovered, ...chained } = rest as Partial<UnhashedConsentEvent>;
  return event.prevHash + canonicalJson(chained);
}

/** hash = SHA-256(hashInput(event)). */
export async function hashEvent(event: UnhashedConsentEvent | UnsealedChainEvent): Promise<string> {
  return sha256Hex(hashInput(event));
}

/** Seals an event as it was sealed before accounts had writers: its hash covers `seq`. */
export async function sealEvent(event: UnhashedConsentEvent): Promise<ConsentEvent> {
  return { ...event, hash: await hashEvent(event) };
}

/**
 * Seals an event by its account's writer: `accountSeq` is the next position in the account's
 * chain, `prevHash` the chain's head; the feed position (`seq`) is added when it commits.
 */
export async function sealChainEvent(event: UnsealedChainEvent): Promise<ChainEvent> {
  return { ...event, hash: await hashEvent(event) };
}

/**
 * Verifies one account's chain, given all its events. Reports the first broken link:
 * an event whose hash does not match its content, whose prevHash is not the previous
 * event's hash (or genesis), or whose seq does not increase.
 */
export async function verifyChain(
  events: readonly ConsentEvent[],
  options: { startHash?: string } = {},
): Promise<ChainVerification> {
  const hashes = await Promise.all(events.map(hashEvent));
  return walkChain(events, (_event, i) => hashes[i]!, options);
}

/**
 * The chain walk behind `verifyChain`, with the SHA-256 supplied by the caller (`hashOf` gets the
 * event and its index; `hashInput(event)` is what to hash), so a runtime with a synchronous
 * SHA-256 (node:crypto) can verify long backlogs without a promise per event and still give the
 * same answers. `hashOf` is called only for events whose seq and prevHash already check out.
 */
export function walkChain(
  events: readonly ConsentEvent[],
  hashOf: (event: ConsentEvent, index: number) => string,
  options: { startHash?: string } = {},
): ChainVerification {
  let prev = options.startHash ?? GENESIS_HASH;
  let prevSeq = 0;
  let prevAccountSeq: number | undefined;
  for (const [i, event] of events.entries()) {
    if (event.seq <= prevSeq)
      return { ok: false, count: events.length, brokenAt: i, reason: "seq_not_increasing" };
    // Chain positions, once events carry them, count up by one: none removed, none inserted.
    if (
      event.accountSeq !== undefined &&
      prevAccountSeq !== undefined &&
      event.accountSeq !== prevAccountSeq + 1
    )
      return { ok: false, count: events.length, brokenAt: i, reason: "account_seq_not_consecutive" };
    if (event.prevHash !== prev)
      return { ok: false, count: events.length, brokenAt: i, reason: "prev_hash_mismatch" };
    if (hashOf(event, i) !== event.hash) {
      return { ok: false, count: events.length, brokenAt: i, reason: "hash_mismatch" };
    }
    prev = event.hash;
    prevSeq = event.seq;
    prevAccountSeq = event.accountSeq;
  }
  return { ok: true, count: events.length, head: prev };
}

export type EventHashCheck = { seq: number; ok: true } | { seq: number; ok: false; reason: "hash_mismatch" };

/**
 * Checks a copy of some events — e.g. one address's evidence, which is a slice of its account's
 * chain — without the rest of the chain: each event's hash must match its own content and
 * prevHash. Editing any field of a copied event is therefore detected; whether the events still
 * belong to the live chain is a question for the ledger (the edge's `POST /v1/evidence/verify`).
 */
export async function checkEventHashes(events: readonly ConsentEvent[]): Promise<EventHashCheck[]> {
  return Promise.all(
    events.map(async (event): Promise<EventHashCheck> => {
      return (await hashEvent(event)) === event.hash
        ? { seq: event.seq, ok: true }
        : { seq: event.seq, ok: false, reason: "hash_mismatch" };
    }),
  );
}
