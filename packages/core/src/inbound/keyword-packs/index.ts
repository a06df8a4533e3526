import { de } from "./de.ts";
import { en } from "./en.ts";
import { es } from "./es.ts";
import { fr } from "./fr.ts";
import { it } from "./it.ts";
import { pt } from "./pt.ts";
import type { KeywordPack } from "./types.ts";

export type { KeywordPack } from "./types.ts";

/** The default packs, English first: on a tie (STOP is in several packs) the earlier pack names the language. */
export const KEYWORD_PACKS: readonly KeywordPack[] = [en, es, fr, de, pt, it];

export function keywordPack(language: string): KeywordPack | undefined {
  const primary = language.toLowerCase().split("-")[0];
  return KEYWORD_PACKS.find((p) => p.language === primary);
}
