import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeText } from "../../src/index.ts";

describe("normalizeText", () => {
  it.each([
    { name: "fullwidth letters", input: "ＳＴＯＰ", output: "stop" },
    { name: "zero-width space and joiners", input: "S\u200BT\u200CO\u200DP\uFEFF", output: "stop" },
    { name: "soft hyphen and word joiner", input: "st\u00ADo\u2060p", output: "stop" },
    { name: "bidi override", input: "\u202Estop\u202C", output: "stop" },
    { name: "surrounding whitespace and punctuation", input: "  «Stop.»  ", output: "stop" },
    { name: "trailing punctuation", input: "STOP!!!", output: "stop" },
    { name: "emoji with skin tone and variation selector", input: "🛑 stop ✋🏽❤️", output: "stop" },
    { name: "keycap emoji keeps its digit", input: "1️⃣", output: "1" },
    { name: "diacritics", input: "ARRÊT", output: "arret" },
    { name: "umlaut", input: "KÜNDIGEN", output: "kundigen" },
    { name: "full case folding", input: "STRASSE straße", output: "strasse strasse" },
    { name: "letters that do not decompose", input: "Ørsted Łódź Æsir", output: "orsted lodz aesir" },
    { name: "dotted capital I", input: "İNFO", output: "info" },
    { name: "ligature", input: "ﬁn", output: "fin" },
    { name: "circled letters", input: "Ⓢⓣⓞⓟ", output: "stop" },
    { name: "apostrophes join", input: "don’t stop", output: "dont stop" },
    { name: "inner punctuation separates", input: "opt-out", output: "opt out" },
    { name: "line breaks and tabs collapse", input: "stop\n\t all", output: "stop all" },
    { name: "only symbols", input: "🙂 ... !!", output: "" },
    { name: "empty", input: "", output: "" },
  ])("$name", ({ input, output }) => {
    expect(normalizeText(input)).toBe(output);
  });

  const tricky = fc.constantFrom(
    "ß",
    "ẞ",
    "İ",
    "ı",
    "ς",
    "Σ",
    "ŉ",
    "ǅ",
    "ﬀ",
    "ᄀ",
    "ᅡ",
    "\u0301",
    "\u200B",
    "\uD800",
    "\uDC00",
    "😀",
    "🏽",
    "\uFE0F",
    "’",
    "'",
    "-",
    " ",
    "\n",
    "Å",
    "ø",
    "Ⅻ",
    "½",
    "ＳＴ",
  );
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 20 }).map((parts) => parts.join("")),
  );

  it("is idempotent (property)", () => {
    fc.assert(
      fc.property(text, (s) => {
        const once = normalizeText(s);
        expect(normalizeText(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });

  it("yields only lower-case letters, digits and single inner spaces (property)", () => {
    fc.assert(
      fc.property(text, (s) => {
        const n = normalizeText(s);
        expect(n).toBe(n.trim());
        expect(n).not.toMatch(/ {2}/);
        expect(n).toMatch(/^[\p{L}\p{N} ]*$/u);
      }),
      { numRuns: 2000 },
    );
  });
});
