import { z } from "zod";
import { Channel, Sender } from "../schemas.ts";
import { KEYWORD_PACKS } from "./keyword-packs/index.ts";
import { normalizeText } from "./normalize-text.ts";

export const KeywordAction = z.enum(["opt_out", "opt_in", "help"]);
export type KeywordAction = z.infer<typeof KeywordAction>;

/** `account`: the opt-out blocks every sender of the account; `sender`: only the sender the MO was sent to. */
export const KeywordLevel = z.enum(["account", "sender"]);
export type KeywordLevel = z.infer<typeof KeywordLevel>;

/** BCP 47 tag: `en`, `es`, `pt-BR`. */
export const LanguageTag = z
  .string()
  .regex(/^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/, "language must be a BCP 47 tag such as en, es or pt-BR");
export type LanguageTag = z.infer<typeof LanguageTag>;

const Keyword = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine((k) => normalizeText(k).length > 0, "keyword has no letters or digits");

const Phrase = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((p) => normalizeText(p).length > 0, "phrase has no letters or digits");

const ruleFields = {
  id: z.string().trim().min(1).max(64),
  keywords: z.array(Keyword).max(200),
  /** Whole-message phrases with the same action ("please stop texting me"). */
  phrases: z.array(Phrase).max(500).default([]),
  /** Keywords too common in running text to flag a longer message for review. */
  reviewExempt: z.array(Keyword).max(200).default([]),
  action: KeywordAction,
  level: KeywordLevel.default("account"),
  /** The senders the rule applies to: all of the account's, or a list. */
  senders: z.union([z.literal("all"), z.array(Sender).min(1).max(1000)]).default("all"),
  channel: Channel.default("*"),
  /** Reply text per language, overriding the default confirmation. Placeholders as in `confirmationText`. */
  replies: z.record(LanguageTag, z.string().trim().min(1).max(1600)).default({}),
  enabled: z.boolean().default(true),
  /** The language of the keywords: confirmations are sent in it. */
  language: LanguageTag.default("en"),
};

const hasKeywordOrPhrase = (r: { keywords: unknown[]; phrases: unknown[] }) =>
  r.keywords.length + r.phrases.length > 0;
const NEEDS_KEYWORD = "a rule needs at least one keyword or phrase";

/**
 * A keyword rule. A message whose normalized text equals one of `keywords` (or `phrases`)
 * triggers `action`; a longer message merely containing an opt-out keyword is only flagged for
 * review. Rules listed earlier win over later ones, sender-limited rules over rules for all
 * senders; so put an account's own rules before the defaults.
 */
export const KeywordRule = z.object(ruleFields).refine(hasKeywordOrPhrase, NEEDS_KEYWORD);
export type KeywordRule = z.infer<typeof KeywordRule>;
/** What a client may send: defaults filled in by `KeywordRule.parse`. */
export type KeywordRuleInput = z.input<typeof KeywordRule>;

/**
 * The body of `POST /v1/keyword-rules`: a rule without its id (the edge assigns one). Without
 * `level` the rule acts on the account's default level (a keyword setting).
 */
export const CreateKeywordRuleInput = z
  .strictObject({ ...ruleFields, level: KeywordLevel.optional() })
  .omit({ id: true })
  .refine(hasKeywordOrPhrase, NEEDS_KEYWORD);
export type CreateKeywordRuleInput = z.infer<typeof CreateKeywordRuleInput>;

/** The body of `PATCH /v1/keyword-rules/{id}`: enable or disable a rule, a default one too. */
export const UpdateKeywordRuleInput = z.strictObject({ enabled: z.boolean() });
export type UpdateKeywordRuleInput = z.infer<typeof UpdateKeywordRuleInput>;

export interface DefaultKeywordRulesOptions {
  /** The level the default opt-out/opt-in rules act on; an account setting. Default `account`. */
  level?: KeywordLevel;
  /** Packs to include, by language; default all (en, es, fr, de, pt, it). */
  languages?: readonly string[];
  channel?: Channel;
}

/**
 * The default rules every account starts with: per language pack one opt-out rule (with its
 * revocation phrases), one opt-in rule and one help rule, ids `default-<lang>-<action>`.
 */
export function defaultKeywordRules(options: DefaultKeywordRulesOptions = {}): KeywordRule[] {
  const level = options.level ?? "account";
  const channel = options.channel ?? "*";
  const packs = options.languages
    ? KEYWORD_PACKS.filter((p) => options.languages!.includes(p.language))
    : KEYWORD_PACKS;
  return packs.flatMap((pack) => {
    const base = {
      level,
      senders: "all" as const,
      channel,
      replies: {},
      enabled: true,
      language: pack.language,
    };
    return [
      {
        ...base,
        id: `default-${pack.language}-opt-out`,
        action: "opt_out" as const,
        keywords: [...pack.optOut],
        phrases: [...pack.revocationPhrases],
        reviewExempt: [...pack.reviewExempt],
      },
      {
        ...base,
        id: `default-${pack.language}-opt-in`,
        action: "opt_in" as const,
        keywords: [...pack.optIn],
        phrases: [],
        reviewExempt: [],
      },
      {
        ...base,
        id: `default-${pack.language}-help`,
        action: "help" as const,
        keywords: [...pack.help],
        phrases: [],
        reviewExempt: [],
      },
    ];
  });
}
