import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConsentEvent,
  canonicalJson,
  checkEventHashes,
  GENESIS_HASH,
  hashEvent,
  hashInput,
  sealChainEvent,
  sealEvent,
  type UnhashedConsentEvent,
  verifyChain,
} from "../src/index.ts";

async function buildChain(n: number): Promise<ConsentEvent[]> {
  const events: ConsentEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const unhashed: UnhashedConsentEvent = {
      seq: i * 2 + 1, // seq is global; one account's chain may skip numbers
      id: `evt_${i}`,
      accountId: "acc_1",
      address: `+1415555${String(100 + i).padStart(4, "0")}`,
      channel: i % 2 ? "sms" : "*",
      scope: i % 3 ? { type: "account" } : { type: "sender", sender: "S1" },
      action: i % 4 === 3 ? "opt_in" : "opt_out",
      source: "api",
      occurredAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i, 1)).toISOString(),
      evidence: { reason: `r${i}`, nested: { b: 1, a: [1, 2] } },
      prevHash,
    };
    const sealed = await sealEvent(unhashed);
    events.push(sealed);
    prevHash = sealed.hash;
  }
  return events;
}

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("is independent of key insertion order (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
    );
  });
});

const FIELDS = [
  "seq",
  "id",
  "accountId",
  "address",
  "channel",
  "scope",
  "action",
  "source",
  "occurredAt",
  "recordedAt",
  "evidence",
  "prevHash",
  "hash",
] as const;

describe("hash chain", () => {
  it("hashes as SHA-256(prevHash + canonical event)", async () => {
    const [first] = await buildChain(1);
    const { hash, ...rest } = first!;
    const expected = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(GENESIS_HASH + canonicalJson(rest)),
    );
    expect(hash).toBe(Buffer.from(expected).toString("hex"));
    expect(await hashEvent(first!)).toBe(hash);
  });

  it("verifies an intact chain and reports its head", async () => {
    const chain = await buildChain(8);
    expect(await verifyChain(chain)).toEqual({ ok: true, count: 8, head: chain[7]!.hash });
    expect(await verifyChain([])).toEqual({ ok: true, count: 0, head: GENESIS_HASH });
  });

  it("finds a removed event", async () => {
    const chain = await buildChain(5);
    chain.splice(2, 1);
    expect(await verifyChain(chain)).toMatchObject({ ok: false, brokenAt: 2, reason: "prev_hash_mismatch" });
  });

  it("finds reordered events", async () => {
    const chain = await buildChain(5);
    [chain[1], chain[2]] = [chain[2]!, chain[1]!];
    expect(await verifyChain(chain)).toMatchObject({ ok: false, brokenAt: 1 });
  });

  // Any field of any event, altered to any other value, must be caught at or before that event.
  const fields = FIELDS;

  it("detects altering any field of any event (property)", async () => {
    const chain = await buildChain(6);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: chain.length - 1 }),
        fc.constantFrom(...fields),
        fc.oneof(fc.string(), fc.integer(), fc.jsonValue(), fc.constant({ type: "account" })),
        async (index, field, value) => {
          const original = chain[index]!;
          fc.pre(canonicalJson(original[field]) !== canonicalJson(value));
          const tampered = chain.map((e) => ({ ...e }));
          (tampered[index] as Record<string, unknown>)[field] = value;
          const result = await verifyChain(tampered);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.brokenAt).toBeLessThanOrEqual(index + 1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("detects a tampered evidence value deep inside", async () => {
    const chain = await buildChain(3);
    const tampered = structuredClone(chain);
    (tampered[1]!.evidence.nested as { b: number }).b = 2;
    expect(await verifyChain(tampered)).toMatchObject({ ok: false, brokenAt: 1, reason: "hash_mismatch" });
  });
});

describe("checkEventHashes", () => {
  it("accepts a slice of a chain and flags exactly the edited event", async () => {
    const chain = await buildChain(6);
    const slice = [chain[1]!, chain[3]!, chain[4]!];
    expect(await checkEventHashes(slice)).toEqual(slice.map((e) => ({ seq: e.seq, ok: true })));
    const edited = slice.map((e, i) => (i === 1 ? { ...e, occurredAt: "2020-01-01T00:00:00.000Z" } : e));
    expect((await checkEventHashes(edited)).map((r) => r.ok)).toEqual([true, false, true]);
  });
});

/**
 * Chains sealed by an account's writer (`accountSeq`, no `seq` in the hash), continuing a chain
 * sealed before writers existed: the database gives them their feed position when they commit.
 */
async function continueChain(
  before: readonly ConsentEvent[],
  n: number,
  feed: (i: number) => number,
): Promise<ConsentEvent[]> {
  const events = [...before];
  let prevHash = before.at(-1)?.hash ?? GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const sealed = await sealChainEvent({
      accountSeq: before.length + i + 1,
      id: `evt_v2_${i}`,
      accountId: "acc_1",
      address: "+14155550199",
      channel: "sms",
      scope: { type: "account" },
      action: i % 2 ? "opt_in" : "opt_out",
      source: "keyword",
      occurredAt: new Date(Date.UTC(2026, 5, 1, 0, i)).toISOString(),
      recordedAt: new Date(Date.UTC(2026, 5, 1, 0, i, 1)).toISOString(),
      evidence: { text: "STOP" },
      prevHash,
    });
    events.push({ ...sealed, seq: feed(i) });
    prevHash = sealed.hash;
  }
  return events;
}

describe("chains sealed by an account's writer", () => {
  it("hash SHA-256(prevHash + canonical event without seq)", async () => {
    const [event] = await continueChain([], 1, () => 7);
    const { hash, seq: _seq, ...rest } = event!;
    const expected = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(GENESIS_HASH + canonicalJson(rest)),
    );
    expect(hash).toBe(Buffer.from(expected).toString("hex"));
    expect(hashInput(event!)).not.toContain('"seq"');
    expect(hashInput(event!)).toContain('"accountSeq":1');
  });

  it("verify whatever feed positions the database gives them, after older events that keep verifying", async () => {
    const old = await buildChain(4);
    const chain = await continueChain(old, 5, (i) => 1000 + i * 37);
    expect(chain.slice(0, 4)).toEqual(old);
    expect(chain[4]!.accountSeq).toBe(5);
    expect(await verifyChain(chain)).toEqual({ ok: true, count: 9, head: chain[8]!.hash });
    // The same chain committed at other feed positions is the same chain.
    const elsewhere = await continueChain(old, 5, (i) => 5000 + i);
    expect(elsewhere.map((e) => e.hash)).toEqual(chain.map((e) => e.hash));
  });

  it("finds a removed or repeated chain position", async () => {
    const chain = await continueChain([], 5, (i) => i + 1);
    const removed = [...chain.slice(0, 2), ...chain.slice(3)];
    expect(await verifyChain(removed)).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: "account_seq_not_consecutive",
    });
    const renumbered = chain.map((e, i) => (i === 3 ? { ...e, accountSeq: 3 } : e));
    expect(await verifyChain(renumbered)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it("detects altering any field but the feed position (property)", async () => {
    const chain = await continueChain(await buildChain(2), 4, (i) => 10 + i);
    const covered = FIELDS.filter((f) => f !== "seq");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: chain.length - 1 }),
        fc.constantFrom(...covered, "accountSeq" as const),
        fc.oneof(fc.string(), fc.integer(), fc.jsonValue(), fc.constant({ type: "account" })),
        async (index, field, value) => {
          const original = chain[index]! as Record<string, unknown>;
          fc.pre(canonicalJson(original[field]) !== canonicalJson(value));
          const tampered = chain.map((e) => ({ ...e }));
          (tampered[index] as Record<string, unknown>)[field] = value;
          const result = await verifyChain(tampered);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.brokenAt).toBeLessThanOrEqual(index + 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
