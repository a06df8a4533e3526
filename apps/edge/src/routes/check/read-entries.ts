import type { ActiveEntry } from "@optout/core";
import type { Db } from "../../db/client.ts";
import { fillKvFromCheck, readActiveFromD1, readActiveFromKv } from "../../kv/active-entries.ts";

export type Consistency = "eventual" | "strong";

/**
 * Workers may do 1000 KV operations per invocation. A 1000-item check spends 10 on bulk gets, so
 * write-backs are capped; addresses beyond the cap are answered from D1 and cached on a later miss.
 */
export const MAX_KV_WRITE_BACKS = 500;

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
    await fillKvFromCheck(deps.kv, accountId, new Map([...fresh].slice(0, MAX_KV_WRITE_BACKS)));
    for (const [address, entries] of fresh) out.set(address, entries);
  }
  return out;
}
