import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyInbound, defaultKeywordRules, KEYWORD_PACKS, KeywordRule } from "../../src/index.ts";

const ACTIONS = [
  ["optOut", "opt_out"],
  ["optIn", "opt_in"],
  ["help", "help"],
] as const;

/** ASCII → fullwidth forms (ＳＴＯＰ), leaving spaces. */
function fullwidth(s: string): string {
  return [...s]
    .map((c) => (c >= "!" && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c))
    .join("");
}

function zeroWidth(s: string): string {
  return [...s].join("\u200B");
}

const keywordCases = KEYWORD_PACKS.flatMap((pack) =>
  ACTIONS.flatMap(([list, action]) =>
    pack[list].map((keyword) => ({ name: `${pack.language} ${keyword}`, keyword, action })),
  ),
);

describe("classifyInbound: every default keyword, as the whole message", () => {
  it.each(keywordCases)("$name", ({ keyword, action }) => {
    expect(classifyInbound(keyword)).toMatchObject({ action, match: "keyword" });
  });
});

const VARIANTS: Array<{ variant: string; apply: (k: string) => string }> = [
  { variant: "lower case", apply: (k) => k.toLowerCase() },
  { variant: "fullwidth", apply: fullwidth },
  { variant: "zero-width spaces", apply: zeroWidth },
  { variant: "trailing punctuation", apply: (k) => `${k}.` },
  { variant: "exclamations", apply: (k) => `${k}!!!` },
  { variant: "emoji", apply: (k) => `🛑 ${k} 🙏🏽` },
  { variant: "surrounding whitespace", apply: (k) => `\n  ${k}\t ` },
  { variant: "quotes", apply: (k) => `"${k}"` },
];

const variantCases = KEYWORD_PACKS.flatMap((pack) =>
  ACTIONS.flatMap(([list, action]) =>
    VARIANTS.map(({ variant, apply }) => ({
      name: `${pack.language} ${pack[list][0]} (${variant})`,
      text: apply(pack[list][0]!),
      action,
    })),
  ),
);

describe("classifyInbound: fullwidth, zero-width, punctuation and emoji in every pack", () => {
  it.each(variantCases)("$name", ({ text, action }) => {
    expect(classifyInbound(text).action).toBe(action);
  });
});

const phraseCases = KEYWORD_PACKS.flatMap((pack) =>
  pack.revocationPhrases.map((phrase) => ({
    name: `${pack.language} "${phrase}"`,
    phrase,
    language: pack.language,
  })),
);

describe("classifyInbound: revocation phrases opt out (FCC: any reasonable means)", () => {
  it.each(phraseCases)("$name", ({ phrase }) => {
    expect(classifyInbound(phrase)).toMatchObject({ action: "opt_out", match: "phrase" });
  });

  it.each([
    { name: "capitalized with punctuation", text: "Please STOP texting me!!", keyword: "stop texting me" },
    { name: "accents dropped by the sender", text: "Arretez les SMS", keyword: "arrêtez les sms" },
    { name: "curly apostrophe", text: "Don’t text me", keyword: "dont text me" },
  ])("$name", ({ text, keyword }) => {
    expect(classifyInbound(text)).toMatchObject({ action: "opt_out", keyword });
  });
});

describe("classifyInbound: what does and does not act", () => {
  it.each([
    { name: "Stop. (the issue's example)", text: "Stop.", action: "opt_out", keyword: "STOP" },
    { name: "courtesy after", text: "STOP please", action: "opt_out", keyword: "STOP" },
    {
      name: "courtesy before and after",
      text: "please unsubscribe, thank you",
      action: "opt_out",
      keyword: "UNSUBSCRIBE",
    },
    { name: "repeated keyword", text: "stop stop STOP", action: "opt_out", keyword: "STOP" },
    { name: "multi-word keyword", text: "Stop all", action: "opt_out", keyword: "STOP ALL" },
    { name: "hyphenated keyword", text: "opt-out", action: "opt_out", keyword: "OPT OUT" },
    { name: "Spanish courtesy", text: "BAJA por favor", action: "opt_out", keyword: "BAJA" },
    { name: "French accented keyword", text: "Arrêt", action: "opt_out", keyword: "ARRET" },
    { name: "German umlaut keyword", text: "Kündigen", action: "opt_out", keyword: "KÜNDIGEN" },
    { name: "opt in", text: "Start", action: "opt_in", keyword: "START" },
    { name: "opt in with courtesy", text: "yes please", action: "opt_in", keyword: "YES" },
    { name: "help", text: "help?", action: "help", keyword: "HELP" },
  ])("$name → $action", ({ text, action, keyword }) => {
    expect(classifyInbound(text)).toMatchObject({ action, keyword });
  });

  it.each([
    { name: "stop this bill", text: "stop this bill", keyword: "STOP" },
    { name: "don't stop", text: "don't stop", keyword: "STOP" },
    { name: "don't stop sending deals", text: "Please don't stop sending me deals", keyword: "STOP" },
    { name: "cancel an appointment", text: "I need to cancel my appointment", keyword: "CANCEL" },
    { name: "unsubscribe question", text: "how do I unsubscribe?", keyword: "UNSUBSCRIBE" },
    { name: "Spanish", text: "cómo me doy de baja", keyword: "BAJA" },
  ])("longer message containing an opt-out keyword: review ($name)", ({ text, keyword }) => {
    expect(classifyInbound(text)).toMatchObject({ action: "none", review: true, keyword, match: "contains" });
  });

  it.each([
    { name: "plain text", text: "See you tomorrow" },
    { name: "keyword inside a word", text: "unstoppable" },
    { name: "common word exempt from review (end)", text: "at the end of the day" },
    { name: "common word exempt from review (para)", text: "Es para mañana" },
    { name: "help inside a sentence", text: "can you help me with my order" },
    { name: "courtesy alone", text: "thanks!" },
    { name: "only emoji", text: "👍" },
    { name: "empty", text: "" },
    { name: "fine is not an Italian opt-out", text: "Fine" },
  ])("no action, no review: $name", ({ text }) => {
    expect(classifyInbound(text)).toEqual({ action: "none" });
  });
});

describe("classifyInbound with rules", () => {
  const SENDER = "+14155550199";
  const pause = KeywordRule.parse({
    id: "pause-sender",
    keywords: ["PAUSE"],
    action: "opt_out",
    level: "sender",
    senders: [SENDER],
    language: "en",
  });

  it("applies a sender-limited rule only to its senders", () => {
    const rules = [pause, ...defaultKeywordRules()];
    expect(classifyInbound("pause", rules, { sender: SENDER })).toMatchObject({
      action: "opt_out",
      ruleId: "pause-sender",
      level: "sender",
    });
    expect(classifyInbound("pause", rules, { sender: "+14155550000" }).action).toBe("none");
    expect(classifyInbound("pause", rules).action).toBe("none");
  });

  it("keeps the two-argument form working", () => {
    expect(classifyInbound("STOP", defaultKeywordRules()).action).toBe("opt_out");
  });

  it("lets an earlier rule win, and a sender-limited rule win over rules for all senders", () => {
    const yesIsHelp = KeywordRule.parse({ id: "yes-help", keywords: ["YES"], action: "help" });
    expect(classifyInbound("yes", [yesIsHelp, ...defaultKeywordRules()])).toMatchObject({
      action: "help",
      ruleId: "yes-help",
    });
    const stopSender = KeywordRule.parse({
      id: "stop-sender",
      keywords: ["STOP"],
      action: "opt_out",
      level: "sender",
      senders: [SENDER],
    });
    expect(classifyInbound("stop", [...defaultKeywordRules(), stopSender], { sender: SENDER })).toMatchObject(
      {
        ruleId: "stop-sender",
        level: "sender",
      },
    );
  });

  it("ignores disabled rules and rules for other channels", () => {
    const rules = defaultKeywordRules().map((r) =>
      r.id === "default-en-opt-out" ? { ...r, enabled: false } : r,
    );
    expect(classifyInbound("unsubscribe", rules).action).toBe("none");
    const whatsappOnly = KeywordRule.parse({
      id: "wa",
      keywords: ["BLOCK"],
      action: "opt_out",
      channel: "whatsapp",
    });
    expect(classifyInbound("block", [whatsappOnly], { channel: "sms" }).action).toBe("none");
    expect(classifyInbound("block", [whatsappOnly], { channel: "whatsapp" }).action).toBe("opt_out");
  });

  it("names the language of the matched keyword, preferring the account's on ties", () => {
    expect(classifyInbound("STOP")).toMatchObject({ language: "en", ruleId: "default-en-opt-out" });
    expect(classifyInbound("STOP", undefined, { language: "fr" })).toMatchObject({
      language: "fr",
      ruleId: "default-fr-opt-out",
    });
    expect(classifyInbound("STOP", undefined, { language: "pt-BR" })).toMatchObject({ language: "pt" });
    expect(classifyInbound("Baja")).toMatchObject({ language: "es" });
    expect(classifyInbound("Abmelden")).toMatchObject({ language: "de" });
  });

  it("reports the level the account configured for its default rules", () => {
    expect(classifyInbound("stop", defaultKeywordRules({ level: "sender" }))).toMatchObject({
      level: "sender",
    });
  });

  it("uses only the packs asked for", () => {
    const englishOnly = defaultKeywordRules({ languages: ["en"] });
    expect(classifyInbound("baja", englishOnly).action).toBe("none");
    expect(classifyInbound("stop", englishOnly).action).toBe("opt_out");
  });
});

describe("classifyInbound properties", () => {
  const known = KEYWORD_PACKS.flatMap((p) => [...p.optOut, ...p.optIn, ...p.help, ...p.revocationPhrases]);
  const base = fc.oneof(
    fc.constantFrom(...known),
    fc.constantFrom(
      "stp",
      "sto p",
      "stopp it",
      "unstoppable",
      "hello",
      "yes sir",
      "no",
      "fine thanks",
      "opt",
      "s t o p",
    ),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 20 }),
  );
  const zeroWidthChar = fc.constantFrom("\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD");
  const surrounding = fc
    .array(
      fc.constantFrom(
        " ",
        "\n",
        "\t",
        ".",
        "!",
        "?",
        "…",
        ",",
        "¡",
        "¿",
        "«",
        "»",
        '"',
        "(",
        ")",
        "🛑",
        "🙏🏽",
        "😡",
        "❤️",
        "👍",
        "✋",
      ),
      {
        maxLength: 6,
      },
    )
    .map((a) => a.join(""));

  /** Zero-width characters between code points, surrounding punctuation/emoji/whitespace, case changes. */
  const noisy = fc
    .record({
      text: base,
      zw: fc.array(fc.tuple(fc.nat(), zeroWidthChar), { maxLength: 4 }),
      before: surrounding,
      after: surrounding,
      upper: fc.array(fc.boolean(), { maxLength: 40 }),
    })
    .map(({ text, zw, before, after, upper }) => {
      const chars = [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase()));
      for (const [at, ch] of zw) chars.splice(at % (chars.length + 1), 0, ch);
      return { clean: text, noisy: before + chars.join("") + after };
    });

  it("noise never turns a non-keyword into a keyword (property)", () => {
    fc.assert(
      fc.property(noisy, ({ clean, noisy }) => {
        if (classifyInbound(clean).action === "none") expect(classifyInbound(noisy).action).toBe("none");
      }),
      { numRuns: 3000 },
    );
  });

  it("noise never changes the decision at all (property)", () => {
    fc.assert(
      fc.property(noisy, ({ clean, noisy }) => {
        const a = classifyInbound(clean);
        const b = classifyInbound(noisy);
        expect({ action: b.action, review: b.review }).toEqual({ action: a.action, review: a.review });
      }),
      { numRuns: 3000 },
    );
  });
});
