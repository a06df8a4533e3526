/** Languages the unsubscribe page is written in. */
export const PAGE_LOCALES = ["en", "es", "fr", "de", "pt", "it"] as const;
export type PageLocale = (typeof PAGE_LOCALES)[number];

export function isPageLocale(value: string): value is PageLocale {
  return (PAGE_LOCALES as readonly string[]).includes(value);
}

/**
 * Picks the page language from an `Accept-Language` header (RFC 9110 §12.5.4): the highest
 * q-value among languages we have wins, ties go to the one listed first, `pt-BR` counts as `pt`,
 * `q=0` means "not this one", and `*` means "anything", which is the fallback (the account's
 * default language). Malformed parts are ignored, never an error: this is a header anyone sends.
 */
export function negotiateLocale(
  acceptLanguage: string | null | undefined,
  fallback: PageLocale = "en",
): PageLocale {
  if (!acceptLanguage) return fallback;
  const wanted: { locale: PageLocale; q: number }[] = [];
  const refused = new Set<PageLocale>();
  for (const part of acceptLanguage.slice(0, 512).split(",")) {
    const [rawTag = "", ...params] = part.trim().split(";");
    const tag = rawTag.trim().toLowerCase();
    if (!/^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$/.test(tag)) continue;
    let q = 1;
    for (const param of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
      if (m) q = Math.min(1, Number(m[1]));
    }
    const primary = tag.split("-")[0]!;
    const locale = tag === "*" ? fallback : isPageLocale(primary) ? primary : undefined;
    if (!locale) continue;
    if (q === 0) refused.add(locale);
    else wanted.push({ locale, q });
  }
  // A stable sort keeps header order among equal q-values.
  const pick = wanted.filter((w) => !refused.has(w.locale)).sort((a, b) => b.q - a.q)[0];
  if (pick) return pick.locale;
  if (!refused.has(fallback)) return fallback;
  return PAGE_LOCALES.find((l) => !refused.has(l)) ?? fallback;
}
