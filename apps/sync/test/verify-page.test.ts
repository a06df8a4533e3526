import { type ConsentEvent, sealEvent } from "@optout/core";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../src/errors.ts";
import { verifyPage } from "../src/feed/verify-page.ts";
import { FeedBuilder } from "./helpers/feed.ts";

async function feedOf(n: number, accounts = ["acc_a", "acc_b"]) {
  const feed = new FeedBuilder();
  for (let i = 0; i < n; i++)
    await feed.add({ accountId: accounts[i % accounts.length], address: `u${i}@example.com` });
  return feed;
}

async function failure(events: ConsentEvent[], afterSeq = 0, heads = new Map()) {
  try {
    await verifyPage(events, { afterSeq, heads });
  } catch (e) {
    expect(e).toBeInstanceOf(IntegrityError);
    return e as IntegrityError;
  }
  throw new Error("expected the page to be rejected");
}

describe("seq contiguity", () => {
  it("accepts a page that continues the cursor and returns the new heads", async () => {
    const feed = await feedOf(6);
    const first = await verifyPage(feed.slice(1, 3), { afterSeq: 0, heads: new Map() });
    expect(first.lastSeq).toBe(3);
    const second = await verifyPage(feed.slice(4, 6), { afterSeq: 3, heads: first.heads });
    expect(second.lastSeq).toBe(6);
    expect(second.heads.get("acc_a")).toEqual({ lastSeq: 5, hash: feed.events[4]!.hash });
    expect(second.heads.get("acc_b")).toEqual({ lastSeq: 6, hash: feed.events[5]!.hash });
  });

  it.each([
    {
      name: "a page that starts past the cursor",
      pick: (e: ConsentEvent[]) => e.slice(1, 4),
      after: 0,
      expected: 1,
    },
    {
      name: "a hole inside a page",
      pick: (e: ConsentEvent[]) => [e[0]!, e[1]!, e[3]!],
      after: 0,
      expected: 3,
    },
    { name: "a repeated seq", pick: (e: ConsentEvent[]) => [e[0]!, e[1]!, e[1]!], after: 0, expected: 3 },
    {
      name: "a page that starts before the cursor",
      pick: (e: ConsentEvent[]) => e.slice(0, 3),
      after: 1,
      expected: 2,
    },
  ])("rejects $name as seq_gap, naming the seq it expected", async ({ pick, after, expected }) => {
    const feed = await feedOf(5, ["acc_a"]);
    const page = pick(feed.events);
    const heads = after
      ? new Map([["acc_a", { lastSeq: after, hash: feed.events[after - 1]!.hash }]])
      : new Map();
    const e = await failure(page, after, heads);
    expect(e.kind).toBe("seq_gap");
    expect(e.details.expectedSeq).toBe(expected);
    expect(e.message).toMatch(new RegExp(`expected seq ${expected}`));
  });
});

describe("hash chain", () => {
  const fields: Array<[string, (e: ConsentEvent) => ConsentEvent]> = [
    ["id", (e) => ({ ...e, id: "evt_other" })],
    ["address", (e) => ({ ...e, address: "+14155550199" })],
    ["channel", (e) => ({ ...e, channel: "sms" })],
    ["scope", (e) => ({ ...e, scope: { type: "sender", sender: "X" } })],
    ["action", (e) => ({ ...e, action: e.action === "opt_out" ? "opt_in" : "opt_out" })],
    ["source", (e) => ({ ...e, source: "import" })],
    ["occurredAt", (e) => ({ ...e, occurredAt: "2020-01-01T00:00:00.000Z" })],
    ["recordedAt", (e) => ({ ...e, recordedAt: "2020-01-01T00:00:00.000Z" })],
    ["evidence", (e) => ({ ...e, evidence: { reason: "forged" } })],
    ["hash", (e) => ({ ...e, hash: "f".repeat(64) })],
  ];

  it.each(fields)("detects an altered %s as chain_broken at that seq", async (_field, alter) => {
    const feed = await feedOf(6);
    const page = feed.events.map((e) => (e.seq === 4 ? alter(e) : e));
    const e = await failure(page);
    expect(e.kind).toBe("chain_broken");
    expect(e.details).toMatchObject({ seq: 4, accountId: "acc_b", reason: "hash_mismatch" });
  });

  it("detects an event linked to another account's chain", async () => {
    const feed = await feedOf(4);
    const page = feed.events.slice();
    // Re-seal event 4 (acc_b) onto acc_a's head: its own hash is right, its link is not.
    const { hash: _h, ...rest } = page[3]!;
    page[3] = await sealEvent({ ...rest, prevHash: page[2]!.hash });
    const e = await failure(page);
    expect(e.details).toMatchObject({ seq: 4, reason: "prev_hash_mismatch" });
  });

  it("checks a page against the account's stored head, not just within the page", async () => {
    const feed = await feedOf(6, ["acc_a"]);
    const first = await verifyPage(feed.slice(1, 3), { afterSeq: 0, heads: new Map() });
    await expect(verifyPage(feed.slice(4, 6), { afterSeq: 3, heads: first.heads })).resolves.toMatchObject({
      lastSeq: 6,
    });
    // A stored head that is not the event before: the chain does not continue.
    const wrongHead = new Map([["acc_a", { lastSeq: 2, hash: feed.events[1]!.hash }]]);
    const e = await failure(feed.slice(4, 6), 3, wrongHead);
    expect(e.details).toMatchObject({ seq: 4, reason: "prev_hash_mismatch" });
    // And an account never seen must start at genesis.
    const e2 = await failure(feed.slice(4, 6), 3, new Map());
    expect(e2.details).toMatchObject({ seq: 4, reason: "prev_hash_mismatch" });
  });
});
