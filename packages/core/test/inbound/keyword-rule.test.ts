import { describe, expect, it } from "vitest";
import {
  CreateKeywordRuleInput,
  DEFAULT_KEYWORD_SETTINGS,
  defaultKeywordRules,
  KEYWORD_PACKS,
  KeywordRule,
  KeywordSettings,
  UpdateKeywordSettingsInput,
} from "../../src/index.ts";

describe("KeywordRule", () => {
  it("fills defaults: account level, all senders, every channel, enabled, English", () => {
    expect(KeywordRule.parse({ id: "r1", keywords: ["PAUSE"], action: "opt_out" })).toEqual({
      id: "r1",
      keywords: ["PAUSE"],
      phrases: [],
      reviewExempt: [],
      action: "opt_out",
      level: "account",
      senders: "all",
      channel: "*",
      replies: {},
      enabled: true,
      language: "en",
    });
  });

  it.each([
    {
      name: "a keyword with no letters or digits",
      rule: { id: "r", keywords: ["🛑"], action: "opt_out" },
      path: "keywords",
    },
    { name: "no keyword and no phrase", rule: { id: "r", keywords: [], action: "opt_out" }, path: "" },
    { name: "an unknown action", rule: { id: "r", keywords: ["X"], action: "delete" }, path: "action" },
    {
      name: "an empty sender list",
      rule: { id: "r", keywords: ["X"], action: "help", senders: [] },
      path: "senders",
    },
    {
      name: "a malformed language",
      rule: { id: "r", keywords: ["X"], action: "help", language: "English" },
      path: "language",
    },
    {
      name: "a reply keyed by a malformed language",
      rule: { id: "r", keywords: ["X"], action: "help", replies: { EN: "hi" } },
      path: "replies",
    },
  ])("refuses $name", ({ rule, path }) => {
    const r = KeywordRule.safeParse(rule);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join(".")).some((p) => p.startsWith(path))).toBe(true);
  });
});

describe("defaultKeywordRules", () => {
  const rules = defaultKeywordRules();

  it("has an opt-out, opt-in and help rule for each of the six packs", () => {
    expect(rules).toHaveLength(KEYWORD_PACKS.length * 3);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    expect(KEYWORD_PACKS.map((p) => p.language)).toEqual(["en", "es", "fr", "de", "pt", "it"]);
  });

  it("are valid KeywordRules", () => {
    for (const r of rules) expect(KeywordRule.parse(r)).toEqual(r);
  });

  it("carry the FCC's seven revocation words in English", () => {
    const en = rules.find((r) => r.id === "default-en-opt-out")!;
    for (const word of ["STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE"])
      expect(en.keywords).toContain(word);
  });

  it("take the account's level", () => {
    expect(new Set(defaultKeywordRules({ level: "sender" }).map((r) => r.level))).toEqual(
      new Set(["sender"]),
    );
  });

  it("does not let one pack's opt-out keyword be another pack's opt-in or help keyword", () => {
    const byAction = new Map<string, string>();
    for (const rule of rules) {
      for (const k of rule.keywords) {
        const key = k.toLowerCase();
        const seen = byAction.get(key);
        expect(seen === undefined || seen === rule.action, `${k} is both ${seen} and ${rule.action}`).toBe(
          true,
        );
        byAction.set(key, rule.action);
      }
    }
  });
});

describe("CreateKeywordRuleInput", () => {
  it("takes a rule without id, leaves level unset so the account's default applies", () => {
    const input = CreateKeywordRuleInput.parse({ keywords: ["PAUSE"], action: "opt_out" });
    expect(input).not.toHaveProperty("id");
    expect(input.level).toBeUndefined();
    expect(input).toMatchObject({ senders: "all", channel: "*", enabled: true, language: "en" });
  });

  it.each([
    { name: "an id", body: { id: "mine", keywords: ["X"], action: "opt_out" } },
    { name: "an unknown field", body: { keywords: ["X"], action: "opt_out", priority: 1 } },
    { name: "no keyword and no phrase", body: { keywords: [], action: "help" } },
  ])("refuses $name", ({ body }) => {
    expect(CreateKeywordRuleInput.safeParse(body).success).toBe(false);
  });
});

describe("KeywordSettings", () => {
  it("accepts pack languages in order of preference, refuses unknown or repeated ones", () => {
    expect(UpdateKeywordSettingsInput.parse({ languages: ["fr", "en"] })).toEqual({
      languages: ["fr", "en"],
    });
    expect(UpdateKeywordSettingsInput.safeParse({ languages: ["nl"] }).success).toBe(false);
    expect(UpdateKeywordSettingsInput.safeParse({ languages: ["en", "en"] }).success).toBe(false);
    expect(UpdateKeywordSettingsInput.safeParse({ languages: [] }).success).toBe(false);
    expect(KeywordSettings.parse(DEFAULT_KEYWORD_SETTINGS)).toEqual(DEFAULT_KEYWORD_SETTINGS);
  });
});
