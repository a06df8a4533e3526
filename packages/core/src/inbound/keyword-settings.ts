import { z } from "zod";
import { KEYWORD_PACKS } from "./keyword-packs/index.ts";
import { KeywordLevel } from "./keyword-rule.ts";

/** The languages that have a default pack. */
export const PackLanguage = z.enum(["en", "es", "fr", "de", "pt", "it"]);
export type PackLanguage = z.infer<typeof PackLanguage>;

/**
 * An account's keyword settings. `defaultLevel`: the level of the default opt-out/opt-in rules
 * and of the account's own rules created without one. `languages`: the default packs in use
 * (null = all), the first one breaking ties when a keyword is in several packs (STOP).
 * `supportContact`: named in HELP replies (a phone number, URL or email).
 */
export const KeywordSettings = z.strictObject({
  defaultLevel: KeywordLevel,
  languages: z
    .array(PackLanguage)
    .min(1)
    .max(KEYWORD_PACKS.length)
    .refine((l) => new Set(l).size === l.length, "languages must not repeat")
    .nullable(),
  supportContact: z.string().trim().min(1).max(200).nullable(),
});
export type KeywordSettings = z.infer<typeof KeywordSettings>;

export const DEFAULT_KEYWORD_SETTINGS: KeywordSettings = {
  defaultLevel: "account",
  languages: null,
  supportContact: null,
};

/** `PUT /v1/keyword-rules/settings`: fields left out keep their value. */
export const UpdateKeywordSettingsInput = KeywordSettings.partial();
export type UpdateKeywordSettingsInput = z.infer<typeof UpdateKeywordSettingsInput>;
