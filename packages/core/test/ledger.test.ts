import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ConsentEvent,
  canonicalJson,
  checkEventHashes,
  GENESIS_HASH,
  hashEvent,
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
  const fields = [
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
