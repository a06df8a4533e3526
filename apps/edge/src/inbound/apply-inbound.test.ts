/**
 * applyInbound called directly, several times at once: the deliveries reach the account's writer
 * together and race for the same message; the writer must record it once.
 */
import { env } from "cloudflare:workers";
import { DEFAULT_KEYWORD_SETTINGS, defaultKeywordRules, type InboundMessage } from "@optout/core";
import { describe, expect, it } from "vitest";
import { createAccount } from "../../test/helpers.ts";
import { inboundState } from "../../test/mo.ts";
import { applyInbound } from "./apply-inbound.ts";

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
    applyInbound(env, {
      account: { id: account.id, name: "Acme", defaultRegion: null },
      provider: "generic",
      messages: [message],
      rules,
      settings: DEFAULT_KEYWORD_SETTINGS,
      parsedAt: 0,
      now: new Date(),
      requestId: "req-race",
      confirmVia: "reply",
    });
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
