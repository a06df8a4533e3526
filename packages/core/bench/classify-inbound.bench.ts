import { bench, describe } from "vitest";
import { classifyInbound, defaultKeywordRules } from "../src/index.ts";

// The default rules (every language pack), as the edge classifies most accounts' replies.
const rules = defaultKeywordRules();

describe("classifyInbound (default rules, every pack)", () => {
  bench("STOP", () => {
    classifyInbound("STOP", rules);
  });
  bench("courtesy form: 'Stop please!!'", () => {
    classifyInbound("Stop please!!", rules);
  });
  bench("other language: 'ARRÊT'", () => {
    classifyInbound("ARRÊT", rules, { language: "fr" });
  });
  bench("a sentence that merely contains a keyword (review)", () => {
    classifyInbound("please don't stop sending me the weekly deals, I love them", rules);
  });
  bench("an ordinary 160-character reply", () => {
    classifyInbound(
      "Thanks for the reminder about tomorrow's appointment at 10:30. I'll be there a few minutes early; could you tell me where to park near the building?",
      rules,
    );
  });
});
