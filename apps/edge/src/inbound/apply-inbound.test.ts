/**
 * applyInbound called directly, several times at once: requests through `fetch` reach the isolate
 * one after another in the test pool, so this is where deliveries really race past the dedupe read.
 */
import { env } from "cloudflare:workers";
import { DEFAULT_KEYWORD_SETTINGS, defaultKeywordRules, type InboundMessage } from "@optout/core";
import { describe, expect, it } from "vitest";
import { createAccount } from "../../test/helpers.ts";
import { inboundState } from "../../test/mo.ts";
import { createDb } from "../db/client.ts";
import { applyInbound, occurredAtOf } from "./apply-inbound.ts";

const rules = defaultKeywordRules();

async function deliverConcurrently(text: string, times: number) {
  const account = await createAccount({ name: "Acme" });
  const message: InboundMessage = {
    provider: "generic",
    providerMessageId: `race-${text}`,
    from: "+14155550100",
    to: "+14155550199",
    text,
    receivedAt: new Date().toISOString(),
  };
  const deliver = () =>
    applyInbound(
      { db: createDb(env.DB), kv: env.KV },
      {
        account: { id: account.id, name: "Acme", defaultRegion: null },
        provider: "generic",
        messages: [message],
        rules,
        settings: DEFAULT_KEYWORD_SETTINGS,
        parsedAt: 0,
        now: new Date(),
        requestId: "req-race",
      },
    );
  const results = await Promise.all(Array.from({ length: times }, deliver));
  return { account, results };
}

describe("deliveries racing past the dedupe read", () => {
  it.each(["STOP", "HELP", "hello"])(
    "%s: recorded once, applied once, answered at most once",
    async (text) => {
      const { account, results } = await deliverConcurrently(text, 4);
      const fresh = results.flatMap((r) => r.applied).filter((a) => !a.replay);
      expect(fresh).toHaveLength(1);
      expect(results.flatMap((r) => r.replies)).toHaveLength(text === "hello" ? 0 : 1);
      const state = await inboundState(account.id);
      expect(state.records).toHaveLength(1);
      expect(state.events).toHaveLength(text === "STOP" ? 1 : 0);
    },
  );
});

describe("occurredAtOf", () => {
  const now = new Date("2026-05-01T12:00:00.750Z");
  const message = (receivedAt: string) => ({ receivedAt }) as InboundMessage;

  it("takes the provider's time", () => {
    expect(occurredAtOf(message("2026-05-01T11:59:00.000Z"), 1_777_636_800, now)).toBe(
      "2026-05-01T11:59:00.000Z",
    );
  });

  it("uses the edge's millisecond clock when the payload had no time (parse fallback)", () => {
    const parsedAt = Math.floor(now.getTime() / 1000);
    expect(occurredAtOf(message(new Date(parsedAt * 1000).toISOString()), parsedAt, now)).toBe(
      now.toISOString(),
    );
  });

  it("clamps a provider clock ahead of ours", () => {
    expect(occurredAtOf(message("2026-05-01T13:00:00.000Z"), 0, now)).toBe(now.toISOString());
  });
});
