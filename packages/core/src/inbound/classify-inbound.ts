import { z } from "zod";
import { KEYWORD_PACKS } from "./keyword-packs/index.ts";
import { defaultKeywordRules, type KeywordRule } from "./keyword-rule.ts";
import { normalizeText } from "./normalize-text.ts";

export const InboundAction = z.enum(["opt_out", "opt_in", "help", "none"]);
export type InboundAction = z.infer<typeof InboundAction>;

export const InboundClassification = z.object({
  action: InboundAction,
  /** The rule's keyword or phrase as written in the rule. */
  keyword: z.string().optional(),
  ruleId: z.string().optional(),
  /** A longer message contains an opt-out keyword: no action, but a person should decide. */
  review: z.boolean().optional(),
  /** Language of the matched rule: confirm in it. */
  language: z.string().optional(),
  level: z.enum(["account", "sender"]).optional(),
  /** How it matched: the whole message is a keyword, a revocation phrase, or merely contains a keyword. */
  match: z.enum(["keyword", "phrase", "contains"]).optional(),
});
export type InboundClassification = z.infer<typeof InboundClassification>;

export interface ClassifyOptions {
  /** The sender (our number/ID) the message was sent to; rules limited to other senders do not apply. */
  sender?: string;
  /** The channel it arrived on; rules for other channels do not apply. */
  channel?: string;
  /** The account's preferred language: breaks ties when a keyword is in several packs (STOP). */
  language?: string;
}

interface CompiledRule {
  rule: KeywordRule;
  index: number;
  exact: Map<string, string>;
  phrases: Map<string, string>;
  review: Array<{ tokens: string[]; keyword: string }>;
}

const compiledCache = new WeakMap<readonly KeywordRule[], CompiledRule[]>();
let compiledDefaults: CompiledRule[] | undefined;

function compile(rules: readonly KeywordRule[]): CompiledRule[] {
  return rules.map((rule, index) => {
    const exact = new Map<string, string>();
    for (const k of rule.keywords) {
      const n = normalizeText(k);
      if (n && !exact.has(n)) exact.set(n, k);
    }
    const phrases = new Map<string, string>();
    for (const p of rule.phrases) {
      const n = normalizeText(p);
      if (n && !phrases.has(n) && !exact.has(n)) phrases.set(n, p);
    }
    const exempt = new Set(rule.reviewExempt.map(normalizeText));
    const review =
      rule.action === "opt_out"
        ? [...exact]
            .filter(([n]) => !exempt.has(n))
            .map(([n, keyword]) => ({ tokens: n.split(" "), keyword }))
        : [];
    return { rule, index, exact, phrases, review };
  });
}

function compiled(rules: readonly KeywordRule[] | undefined): CompiledRule[] {
  if (!rules) {
    compiledDefaults ??= compile(defaultKeywordRules());
    return compiledDefaults;
  }
  let c = compiledCache.get(rules);
  if (!c) {
    c = compile(rules);
    compiledCache.set(rules, c);
  }
  return c;
}

// Courtesy words of every pack, longest first so "thank you" is stripped before "thank".
const COURTESY: string[][] = [...new Set(KEYWORD_PACKS.flatMap((p) => p.courtesy.map(normalizeText)))]
  .filter((c) => c.length > 0)
  .map((c) => c.split(" "))
  .sort((a, b) => b.length - a.length);

function startsWith(tokens: readonly string[], prefix: readonly string[], at = 0): boolean {
  if (at + prefix.length > tokens.length) return false;
  for (let i = 0; i < prefix.length; i++) if (tokens[at + i] !== prefix[i]) return false;
  return true;
}

function stripCourtesyOnce(tokens: string[]): string[] {
  let start = 0;
  let end = tokens.length;
  const lead = COURTESY.find((c) => startsWith(tokens, c));
  if (lead) start = lead.length;
  const trail = COURTESY.find((c) => end - c.length >= start && startsWith(tokens, c, end - c.length));
  if (trail) end -= trail.length;
  return tokens.slice(start, end);
}

/**
 * The message as typed, then with courtesy words peeled off its ends ("STOP please", "please
 * unsubscribe me"), and each of those with a repeated keyword collapsed ("STOP STOP"). Never
 * an empty form: "please" alone stays "please".
 */
function candidateForms(tokens: string[]): string[] {
  const forms: string[][] = [tokens];
  let current = tokens;
  for (let i = 0; i < 3; i++) {
    const next = stripCourtesyOnce(current);
    if (next.length === 0 || next.length === current.length) break;
    forms.push(next);
    current = next;
  }
  const out: string[] = [];
  for (const f of forms) {
    out.push(f.join(" "));
    if (f.length > 1 && f.every((t) => t === f[0])) out.push(f[0]!);
  }
  return [...new Set(out)];
}

function containsSequence(tokens: readonly string[], seq: readonly string[]): boolean {
  for (let i = 0; i + seq.length <= tokens.length; i++) if (startsWith(tokens, seq, i)) return true;
  return false;
}

function primary(language: string | undefined): string | undefined {
  return language?.toLowerCase().split("-")[0];
}

function applicable(rules: CompiledRule[], options: ClassifyOptions): CompiledRule[] {
  const sender = options.sender?.trim();
  const wantLanguage = primary(options.language);
  return rules
    .filter(({ rule }) => {
      if (!rule.enabled) return false;
      if (rule.senders !== "all" && (!sender || !rule.senders.includes(sender))) return false;
      return (
        rule.channel === "*" ||
        !options.channel ||
        options.channel === "*" ||
        rule.channel === options.channel
      );
    })
    .sort((a, b) => {
      const specific = Number(b.rule.senders !== "all") - Number(a.rule.senders !== "all");
      if (specific !== 0) return specific;
      const lang =
        Number(primary(b.rule.language) === wantLanguage) - Number(primary(a.rule.language) === wantLanguage);
      return lang !== 0 ? lang : a.index - b.index;
    });
}

function result(c: CompiledRule, keyword: string, match: "keyword" | "phrase"): InboundClassification {
  return {
    action: c.rule.action,
    keyword,
    ruleId: c.rule.id,
    language: c.rule.language,
    level: c.rule.level,
    match,
  };
}

/**
 * Decides what an inbound message asks for. The whole normalized message must equal a keyword
 * (or, for opt-out, a short revocation phrase) of an applicable rule; courtesy words around it
 * and repetition are tolerated. A longer message that merely contains an opt-out keyword
 * ("stop this bill", "don't stop") does nothing but is returned with `review: true`.
 * `rules` defaults to `defaultKeywordRules()`.
 */
export function classifyInbound(
  text: string,
  rules?: readonly KeywordRule[],
  options: ClassifyOptions = {},
): InboundClassification {
  const normalized = normalizeText(text);
  if (normalized.length === 0) return { action: "none" };
  const candidates = applicable(compiled(rules), options);
  const forms = candidateForms(normalized.split(" "));

  // The message as typed is tried before its courtesy-stripped forms, keywords before phrases.
  for (const form of forms) {
    for (const c of candidates) {
      const keyword = c.exact.get(form);
      if (keyword !== undefined) return result(c, keyword, "keyword");
    }
    for (const c of candidates) {
      const phrase = c.phrases.get(form);
      if (phrase !== undefined) return result(c, phrase, "phrase");
    }
  }
  const tokens = normalized.split(" ");
  for (const c of candidates) {
    for (const r of c.review) {
      if (tokens.length > r.tokens.length && containsSequence(tokens, r.tokens)) {
        return {
          action: "none",
          review: true,
          keyword: r.keyword,
          ruleId: c.rule.id,
          language: c.rule.language,
          match: "contains",
        };
      }
    }
  }
  return { action: "none" };
}
