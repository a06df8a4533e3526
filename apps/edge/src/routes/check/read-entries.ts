import type { ActiveEntry } from "@optout/core";
import type { Db } from "../../db/client.ts";
import { readActiveFromD1, readActiveFromKv, writeActiveToKv } from "../../kv/active-entries.ts";

export type Consistency = "eventual" | "strong";

/**
 * Active entries per address for a send decision. `eventual` answers from KV and falls back to
 * D1 for addresses KV does not hold, writing those back; `strong` reads only D1 (the truth).
 */
export async function activeEntriesFor(
  deps: { db: Db; kv: KVNamespace },
  accountId: string,
  addresses: readonly string[],
  consistency: Consistency,
): Promise<Map<string, ActiveEntry[]>> {
  if (consistency === "strong") return readActiveFromD1(deps.db, accountId, addresses);

  const cached = await readActiveFromKv(deps.kv, accountId, addresses);
  const out = new Map<string, ActiveEntry[]>();
  const missing: string[] = [];
  for (const address of new Set(addresses)) {
    const hit = cached.get(address);
    if (hit) out.set(address, hit);
    else missing.push(address);
  }
  if (missing.length) {
    const fresh = await readActiveFromD1(deps.db, accountId, missing);
    // Awaited rather than deferred: one put per miss, and the next check is then a KV hit.
    await writeActiveToKv(deps.kv, accountId, fresh);
    for (const [address, entries] of fresh) out.set(address, entries);
  }
  return out;
}
