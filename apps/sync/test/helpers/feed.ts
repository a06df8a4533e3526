import {
  type Channel,
  type ConsentAction,
  type ConsentEvent,
  type ConsentSource,
  type Evidence,
  GENESIS_HASH,
  type Scope,
  sealEvent,
} from "@optout/core";

export interface ChangeSpec {
  accountId?: string;
  address?: string;
  channel?: Channel;
  scope?: Scope;
  action?: ConsentAction;
  source?: ConsentSource;
  /** ISO instant, or minutes after 2025-01-01T00:00:00Z. */
  occurredAt?: string | number;
  reason?: string;
  /** The whole evidence (default: `{ reason }` when a reason is given, else `{}`). */
  evidence?: Evidence;
  /** The event id (default `evt_<seq>`). */
  id?: string;
}

const EPOCH = Date.parse("2025-01-01T00:00:00.000Z");
export const minutes = (m: number) => new Date(EPOCH + m * 60_000).toISOString();

/**
 * Builds a valid feed the way the edge does: global gap-free seqs from 1, a hash chain per
 * account sealed with core's sealEvent.
 */
export class FeedBuilder {
  readonly events: ConsentEvent[] = [];
  readonly #heads = new Map<string, string>();

  async add(spec: ChangeSpec = {}): Promise<ConsentEvent> {
    const seq = this.events.length + 1;
    const accountId = spec.accountId ?? "acc_test";
    const occurredAt =
      typeof spec.occurredAt === "number" ? minutes(spec.occurredAt) : (spec.occurredAt ?? minutes(seq));
    const event = await sealEvent({
      seq,
      id: spec.id ?? `evt_${seq}`,
      accountId,
      address: spec.address ?? "+14155550100",
      channel: spec.channel ?? "*",
      scope: spec.scope ?? { type: "account" },
      action: spec.action ?? "opt_out",
      source: spec.source ?? "api",
      occurredAt,
      recordedAt: minutes(seq),
      evidence: spec.evidence ?? (spec.reason ? { reason: spec.reason } : {}),
      prevHash: this.#heads.get(accountId) ?? GENESIS_HASH,
    });
    this.#heads.set(accountId, event.hash);
    this.events.push(event);
    return event;
  }

  async addMany(specs: ChangeSpec[]): Promise<ConsentEvent[]> {
    const out: ConsentEvent[] = [];
    for (const spec of specs) out.push(await this.add(spec));
    return out;
  }

  /** Events with seq in [from, to]. */
  slice(from: number, to: number): ConsentEvent[] {
    return this.events.slice(from - 1, to);
  }
}

/** Deterministic PRNG (mulberry32) so randomized tests can be replayed from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
