// The writer's KV budget: an event of a Durable Object may make 1,000 KV operations, so a flush
// stops short of that and the next event (a request, or the alarm the writer arms) continues.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKey } from "../kv/active-entries.ts";
import { KV_WRITES_PER_EVENT, KvFlusher } from "./kv-flush.ts";

describe("KvFlusher's budget per event", () => {
  it("writes at most KV_WRITES_PER_EVENT keys per event, says it is starved, and finishes in the next", async () => {
    let starved = 0;
    const flusher = new KvFlusher(env.KV, () => starved++);
    const account = `acct_budget_${crypto.randomUUID()}`;
    const owed = KV_WRITES_PER_EVENT + 37;
    for (let i = 0; i < owed; i++) flusher.owe(account, `+1555${String(i).padStart(7, "0")}`, [], [i]);

    await flusher.flush();
    expect(starved).toBe(1);
    expect(flusher.pending).toBe(37);
    expect(flusher.takePaid()).toHaveLength(KV_WRITES_PER_EVENT);
    // The keys owed first were written first (commit order).
    expect(await env.KV.get(kvKey(account, "+15550000000"))).toBe("[]");
    expect(await env.KV.get(kvKey(account, `+1555${String(owed - 1).padStart(7, "0")}`))).toBeNull();

    flusher.freshBudget();
    await flusher.flush();
    expect(flusher.pending).toBe(0);
    expect(starved).toBe(1);
    expect(flusher.takePaid()).toHaveLength(37);
    expect(await env.KV.get(kvKey(account, `+1555${String(owed - 1).padStart(7, "0")}`))).toBe("[]");
  });
});
