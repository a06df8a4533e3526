import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPageLocale, negotiateLocale, PAGE_LOCALES } from "../src/index.ts";

describe("negotiateLocale", () => {
  it.each([
    { name: "no header", header: undefined, fallback: "en", locale: "en" },
    { name: "empty header", header: "", fallback: "de", locale: "de" },
    { name: "exact match", header: "fr", fallback: "en", locale: "fr" },
    { name: "region subtag", header: "pt-BR,pt;q=0.9,en;q=0.8", fallback: "en", locale: "pt" },
    { name: "upper case", header: "ES-mx", fallback: "en", locale: "es" },
    { name: "highest q wins", header: "en;q=0.5, it;q=0.9", fallback: "en", locale: "it" },
    { name: "first wins on a tie", header: "de, fr", fallback: "en", locale: "de" },
    {
      name: "unsupported languages skipped",
      header: "ja, zh-CN;q=0.9, es;q=0.1",
      fallback: "en",
      locale: "es",
    },
    { name: "nothing supported → fallback", header: "ja, zh", fallback: "it", locale: "it" },
    { name: "wildcard → fallback", header: "ja, *;q=0.5", fallback: "fr", locale: "fr" },
    { name: "q=0 refuses a language", header: "fr;q=0, de;q=0.1", fallback: "fr", locale: "de" },
    { name: "q=0 on the fallback", header: "en;q=0, fr;q=0.2", fallback: "en", locale: "fr" },
    { name: "refused fallback and nothing else", header: "en;q=0", fallback: "en", locale: "es" },
    { name: "garbage", header: ";;;,,,q=,<script>", fallback: "en", locale: "en" },
    { name: "malformed q ignored", header: "de;q=abc", fallback: "en", locale: "de" },
  ] as const)("$name", ({ header, fallback, locale }) => {
    expect(negotiateLocale(header, fallback)).toBe(locale);
  });

  it("always answers a page locale, whatever the header", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.constantFrom(...PAGE_LOCALES), (header, fallback) =>
        isPageLocale(negotiateLocale(header, fallback)),
      ),
    );
  });
});
