import { type ConsentEvent, verifyChain } from "@optout/core";
import { describe, expect, it } from "vitest";
import { verifyChainSync } from "../src/feed/verify-chain.ts";
import { FeedBuilder, prng } from "./helpers/feed.ts";

describe("verifyChainSync answers exactly as core's verifyChain", () => {
  it.each(Array.from({ length: 20 }, (_, i) => ({ seed: i + 1 })))("seed $seed", async ({ seed }) => {
    const random = prng(seed);
    const feed = new FeedBuilder();
    for (let i = 0; i < 30; i++)
      await feed.add({ address: `p${i}@example.com`, reason: i % 3 ? undefined : "r" });
    const events: ConsentEvent[] = structuredClone(feed.events);
    const i = Math.floor(random() * events.length);
    const tamper = Math.floor(random() * 5);
    const e = events[i]!;
    if (tamper === 1) e.address = "other@example.com";
    if (tamper === 2) e.prevHash = "f".repeat(64);
    if (tamper === 3) e.seq = 0;
    if (tamper === 4) e.evidence = { reason: "edited" };
    expect(verifyChainSync(events)).toEqual(await verifyChain(events));
  });
});
