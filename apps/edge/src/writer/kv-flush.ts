/**
 * The writer's side of KV: after each commit, the keys it made stale are written in commit order
 * (a later commit's value replaces an earlier one still waiting), retried until KV takes them,
 * never twice within a second for one key (KV refuses that). The kv_outbox rows that recorded the
 * debt are deleted once paid; whatever a crash leaves unpaid, the writer's alarm or the cron pays
 * from D1.
 */
import type { ActiveEntry } from "@optout/core";
import { kvKey, WRITER_KV_TTL_SECONDS } from "../kv/active-entries.ts";
import { errorName, log } from "../lib/log.ts";
import { kvLinkKey } from "../links/store.ts";

interface Owed {
  /** JSON to put, or null to delete (a link's view is dropped and rebuilt from D1 on its next read). */
  value: string | null;
  outboxIds: number[];
  /** Not before this time (ms): KV takes one write per key per second; retries back off. */
  notBefore: number;
  attempts: number;
}

const MAX_BACKOFF_MS = 30_000;
/** KV writes in flight at once. */
const PARALLEL_WRITES = 16;
/**
 * KV operations one event of the writer (a request, an alarm) may make: Workers limits apply to
 * Durable Objects, and an invocation may make 1,000 KV operations. Past it the writer stops and
 * continues in its next event (an alarm it arms for that, if no request comes first).
 */
export const KV_WRITES_PER_EVENT = 900;

export class KvFlusher {
  private readonly owed = new Map<string, Owed>();
  private readonly lastWrite = new Map<string, number>();
  private paid: number[] = [];
  private flushing: Promise<void> | undefined;
  private spent = 0;

  /** `starved` is called when the event's budget ran out with keys still owed. */
  constructor(
    private readonly kv: KVNamespace,
    private readonly starved: () => void = () => {},
  ) {}

  /** A new event of the writer began: its KV budget is whole again. */
  freshBudget(): void {
    this.spent = 0;
  }

  get pending(): number {
    return this.owed.size;
  }

  owe(accountId: string, address: string, active: readonly ActiveEntry[], outboxIds: number[]): void {
    this.add(kvKey(accountId, address), JSON.stringify(active), outboxIds);
  }

  oweLink(codeHash: string, outboxIds: number[]): void {
    this.add(kvLinkKey(codeHash), null, outboxIds);
  }

  private add(key: string, value: string | null, outboxIds: number[]): void {
    const before = this.owed.get(key);
    // Deleted and set again: the key moves to the end, after every key owed by earlier commits.
    this.owed.delete(key);
    this.owed.set(key, {
      value,
      outboxIds: [...(before?.outboxIds ?? []), ...outboxIds],
      notBefore: before?.notBefore ?? 0,
      attempts: 0,
    });
  }

  /** Outbox rows whose keys were written: the next commit deletes them in its own batch. */
  takePaid(): number[] {
    const paid = this.paid;
    this.paid = [];
    return paid;
  }

  /** Pays what is owed; one flush at a time, in order. Resolves when nothing is owed. */
  flush(): Promise<void> {
    this.flushing ??= this.run().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async run(): Promise<void> {
    const readyAt = (key: string, owed: Owed) =>
      Math.max(owed.notBefore, (this.lastWrite.get(key) ?? 0) + 1000);
    while (this.owed.size > 0) {
      // Keys are independent: several writes at once; one key's writes stay in commit order
      // because a key is owed once (a later commit's value replaces the one still waiting).
      const budget = KV_WRITES_PER_EVENT - this.spent;
      if (budget <= 0) {
        this.starved();
        return;
      }
      const ready = [...this.owed].filter(([key, owed]) => readyAt(key, owed) <= Date.now()).slice(0, budget);
      this.spent += ready.length;
      let wrote = false;
      for (let i = 0; i < ready.length; i += PARALLEL_WRITES) {
        const results = await Promise.all(
          ready.slice(i, i + PARALLEL_WRITES).map(([key, owed]) => this.write(key, owed)),
        );
        wrote ||= results.some(Boolean);
      }
      if (!wrote && this.owed.size > 0) {
        // Nothing could be written this pass: sleep until the first key may be tried again.
        const next = Math.min(...[...this.owed].map(([key, owed]) => readyAt(key, owed)));
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(next - Date.now(), MAX_BACKOFF_MS))));
      }
    }
    if (this.lastWrite.size > 10_000) this.lastWrite.clear();
  }

  /** One key's write; false (and a later retry) if KV refused it. */
  private async write(key: string, owed: Owed): Promise<boolean> {
    try {
      if (owed.value === null) await this.kv.delete(key);
      else await this.kv.put(key, owed.value, { expirationTtl: WRITER_KV_TTL_SECONDS });
      this.lastWrite.set(key, Date.now());
      // A later commit may have replaced the value while this put was in flight: keep that one.
      if (this.owed.get(key) === owed) this.owed.delete(key);
      this.paid.push(...owed.outboxIds);
      return true;
    } catch (err) {
      owed.attempts++;
      owed.notBefore = Date.now() + Math.min(MAX_BACKOFF_MS, 250 * 2 ** owed.attempts);
      log.warn("kv_write_failed", { attempts: owed.attempts, error: errorName(err) });
      return false;
    }
  }
}
