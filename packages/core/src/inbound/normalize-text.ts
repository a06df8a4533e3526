/**
 * The one normalization both sides of a keyword match go through: the message an end user
 * typed and every keyword and phrase in a rule. Idempotent (normalizing twice changes nothing).
 *
 * 1. Unicode NFKC: fullwidth and other compatibility forms become plain letters (ＳＴＯＰ → STOP).
 * 2. Line breaks and tabs become spaces; other control and format characters (zero-width
 *    space/joiner, BOM, bidi marks, soft hyphen) and unpaired surrogates are removed.
 * 3. Case folding (full: ß → ss).
 * 4. Diacritics removed (ARRÊT → arret, KÜNDIGEN → kundigen), plus the Latin letters that do
 *    not decompose (ø, ł, đ, æ, œ, ...).
 * 5. Apostrophes join (don't → dont, m'écrire → mecrire); every other non-letter, non-digit
 *    run — whitespace, punctuation, symbols, emoji — becomes one space, and the ends are
 *    trimmed. So surrounding punctuation and emoji vanish and inner whitespace collapses.
 */

const LINE_LIKE = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}]/gu;
const MARKS = /\p{M}/gu;
const APOSTROPHES = /['\u2018\u2019\u02BC\u02B9\u0060\u00B4\uFF07]/g;
const SEPARATORS = /[^\p{L}\p{N}]+/gu;

// Letters NFKD does not split into base + mark, folded the way a reader would, and folds
// toLowerCase leaves context-dependent.
const UNDECOMPOSABLE: Record<string, string> = {
  ø: "o",
  đ: "d",
  ð: "d",
  ł: "l",
  ħ: "h",
  ı: "i",
  ŧ: "t",
  ŀ: "l",
  æ: "ae",
  œ: "oe",
  þ: "th",
  // Case folding maps final sigma to sigma; toLowerCase picks one by context, which punctuation changes.
  ς: "σ",
};
const UNDECOMPOSABLE_RE = new RegExp(`[${Object.keys(UNDECOMPOSABLE).join("")}]`, "g");

export function normalizeText(text: string): string {
  let s = text.normalize("NFKC").replace(LINE_LIKE, " ").replace(INVISIBLE, "");
  // Lower, upper, lower: full folding for every letter (ẞ → ß → SS → ss; ß → SS → ss).
  s = s.toLowerCase().toUpperCase().toLowerCase();
  s = s.normalize("NFKD").replace(MARKS, "");
  s = s.replace(UNDECOMPOSABLE_RE, (ch) => UNDECOMPOSABLE[ch] ?? ch);
  s = s.replace(APOSTROPHES, "").replace(SEPARATORS, " ").trim();
  return s.normalize("NFC");
}

/** The normalized text split into words (empty for a text with no letters or digits). */
export function normalizedTokens(text: string): string[] {
  const n = normalizeText(text);
  return n.length === 0 ? [] : n.split(" ");
}
