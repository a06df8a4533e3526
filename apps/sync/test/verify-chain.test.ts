import {
  ChainVerification,
  type Channel,
  type ConsentAction,
  type ConsentEvent,
  type ConsentSource,
  GENESIS_HASH,
  sealEvent,
  type UnhashedConsentEvent,
  verifyChain,
} from "@optout/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyChainSync } from "../src/feed/verify-chain.ts";

/**
 * The daemon verifies every page with verifyChainSync (node:crypto's SHA-256, synchronous); core's
 * verifyChain (WebCrypto) is the reference the edge and every other reader use. Both must give
 * the same verdict — ok with the same head, or broken at the same position for the same reason —
 * for any chain, whatever text its events carry (node:crypto and WebCrypto encode the hashed
 * string to UTF-8 separately).
 */

// Any UTF-16: every code point, lone surrogate halves, NUL.
const unit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u)) },
  { weight: 1, arbitrary: fc.constantFrom("\u0000", "\uFFFD", "\\", '"') },
);
const text = (minLength = 0) => fc.string({ unit, minLength, maxLength: 8 });
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const instant = fc
  .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
  .map((ms) => new Date(ms).toISOString());

const content = fc.record({
  id: text(1),
  address: text(1),
  channel: fc.constantFrom<Channel>("*", "sms", "email", "whatsapp", "voice"),
  scope: fc.oneof(
    fc.constant({ type: "account" } as const),
    text(1).map((sender) => ({ type: "sender", sender }) as const),
  ),
  action: fc.constantFrom<ConsentAction>("opt_out", "opt_in"),
  source: fc.constantFrom<ConsentSource>("api", "keyword", "link", "trigger", "import", "primary"),
  occurredAt: instant,
  recordedAt: instant,
  evidence: fc
    .array(fc.tuple(text(), fc.oneof(text(), fc.integer(), fc.boolean())), { maxLength: 3 })
    .map((e) => Object.fromEntries(e)),
});

/**
 * One account's chain as the edge seals it: increasing seqs (other accounts' seqs in between);
 * some chains also carry each event's position in its account's chain (`accountSeq`).
 */
const chain = fc
  .record({
    contents: fc.array(content, { minLength: 1, maxLength: 8 }),
    gaps: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 8, maxLength: 8 }),
    startHash: fc.oneof(fc.constant(GENESIS_HASH), hex64),
    positions: fc.boolean(),
  })
  .map(async ({ contents, gaps, startHash, positions }) => {
    const events: ConsentEvent[] = [];
    let prevHash = startHash;
    let seq = 0;
    for (const [i, c] of contents.entries()) {
      seq += gaps[i]!;
      const unsealed = {
        ...c,
        seq,
        accountId: "acc_chain",
        prevHash,
        ...(positions ? { accountSeq: i + 1 } : {}),
      };
      const event = await sealEvent(unsealed as UnhashedConsentEvent);
      events.push(event);
      prevHash = event.hash;
    }
    return { events, startHash };
  });

type Reason = Extract<ChainVerification, { ok: false }>["reason"];
type Positioned = ConsentEvent & { accountSeq?: number };

/** Every reason core's own schema says a chain can break for. */
const REASONS = [...(ChainVerification.options[1].shape.reason.options as readonly Reason[])];

/** Whether event `at` of these events can be broken for `reason`. */
function breakable(events: readonly Positioned[], at: number, reason: Reason): boolean {
  if ((reason as string) !== "account_seq_not_consecutive") return true;
  // A chain position can only fail to follow the previous event's.
  return at > 0 && events[at]!.accountSeq !== undefined && events[at - 1]!.accountSeq !== undefined;
}

/** Breaks event `at` so that a chain walk must stop there for `reason`; `pick` chooses how. */
function breakAt(events: ConsentEvent[], at: number, reason: Reason, pick: number): ConsentEvent[] {
  const out: Positioned[] = structuredClone(events);
  const e = out[at]!;
  // Every edit moves away from the original (applied twice, it does not restore it).
  const otherHash = (h: string) => (h === "f".repeat(64) ? "e".repeat(64) : "f".repeat(64));
  switch (reason as string) {
    case "seq_not_increasing": {
      // Equal to or below the previous event's seq (below 1 for the first event).
      const previous = at === 0 ? 0 : out[at - 1]!.seq;
      e.seq = previous - (pick % 3);
      break;
    }
    case "prev_hash_mismatch":
      e.prevHash = otherHash(e.prevHash);
      break;
    case "account_seq_not_consecutive":
      // A position skipped or repeated.
      e.accountSeq = out[at - 1]!.accountSeq! + (pick % 2 === 0 ? 2 : 0);
      break;
    case "hash_mismatch": {
      // Any sealed field changed, or the hash itself.
      const edits: Array<() => void> = [
        () => {
          e.address = `${e.address}x`;
        },
        () => {
          e.id = `${e.id}!`;
        },
        () => {
          e.evidence = { ...e.evidence, edited: true };
        },
        () => {
          e.occurredAt = new Date(Date.parse(e.occurredAt) + 1).toISOString();
        },
        () => {
          e.scope = { type: "sender", sender: e.scope.type === "sender" ? `${e.scope.sender}!` : "S" };
        },
        () => {
          e.hash = otherHash(e.hash);
        },
      ];
      edits[pick % edits.length]!();
      break;
    }
    default:
      throw new Error(`this test does not know how to break a chain by ${reason} yet`);
  }
  return out;
}

describe("verifyChainSync (node:crypto) gives core's verifyChain (WebCrypto) verdict", () => {
  it("on valid chains: ok, same count and head, from genesis or any stored head", async () => {
    await fc.assert(
      fc.asyncProperty(chain, async (built) => {
        const { events, startHash } = await built;
        const expected = { ok: true, count: events.length, head: events.at(-1)!.hash };
        expect(await verifyChain(events, { startHash })).toEqual(expected);
        expect(verifyChainSync(events, { startHash })).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it.each(REASONS)(
    "on a chain broken by %s at any position: both stop there, for that reason",
    async (reason) => {
      await fc.assert(
        fc.asyncProperty(chain, fc.nat(), fc.nat(), async (built, position, pick) => {
          const { events, startHash } = await built;
          const at = position % events.length;
          fc.pre(breakable(events, at, reason));
          const broken = breakAt(events, at, reason, pick);
          const expected = { ok: false, count: events.length, brokenAt: at, reason };
          expect(await verifyChain(broken, { startHash })).toEqual(expected);
          expect(verifyChainSync(broken, { startHash })).toEqual(expected);
        }),
        { numRuns: 100 },
      );
    },
  );

  it("on a chain verified from the wrong head: prev_hash_mismatch at 0 from both", async () => {
    await fc.assert(
      fc.asyncProperty(chain, hex64, async (built, other) => {
        const { events, startHash } = await built;
        fc.pre(other !== startHash);
        const expected = { ok: false, count: events.length, brokenAt: 0, reason: "prev_hash_mismatch" };
        expect(await verifyChain(events, { startHash: other })).toEqual(expected);
        expect(verifyChainSync(events, { startHash: other })).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it("on a chain broken in several places at once: the same first break", async () => {
    await fc.assert(
      fc.asyncProperty(
        chain,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...REASONS), fc.nat()), { minLength: 1, maxLength: 4 }),
        async (built, breaks) => {
          const { events, startHash } = await built;
          let broken = events;
          for (const [position, reason, pick] of breaks) {
            const at = position % events.length;
            if (breakable(broken, at, reason)) broken = breakAt(broken, at, reason, pick);
          }
          fc.pre(broken !== events);
          const reference = await verifyChain(broken, { startHash });
          expect(verifyChainSync(broken, { startHash })).toEqual(reference);
          expect(reference.ok).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});
