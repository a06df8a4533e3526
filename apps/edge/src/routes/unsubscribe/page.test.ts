import { PAGE_LOCALES } from "@optout/core";
import { describe, expect, it } from "vitest";
import { MESSAGES } from "./messages.ts";
import { escapeHtml, type PageView, renderPage } from "./page.ts";

const link = { brand: "Demo Coffee", address: "+14155550100", channel: "sms" as const };
const views: { name: string; view: PageView }[] = [
  { name: "confirm", view: { kind: "confirm", link, choices: [{ type: "account" }] } },
  {
    name: "confirm with a choice",
    view: { kind: "confirm", link, choices: [{ type: "sender", sender: "DEMO" }, { type: "account" }] },
  },
  {
    name: "done",
    view: {
      kind: "done",
      link,
      scope: { type: "account" },
      undo: { action: "Xq3vR8kP2mWz/undo", token: "1.abc" },
    },
  },
  { name: "done, undo closed", view: { kind: "done", link, scope: { type: "account" }, undo: null } },
  { name: "undone", view: { kind: "undone", link, scope: { type: "sender", sender: "DEMO" } } },
  { name: "undo closed", view: { kind: "undo_closed", brand: "Demo Coffee" } },
  { name: "not found", view: { kind: "not_found" } },
  { name: "gone", view: { kind: "gone" } },
  { name: "rate limited", view: { kind: "rate_limited" } },
  { name: "error", view: { kind: "error" } },
];

describe("renderPage", () => {
  describe.each(PAGE_LOCALES.map((locale) => ({ locale })))("$locale", ({ locale }) => {
    it.each(views)("$name: a complete, small, self-contained page in its language", ({ view }) => {
      const html = renderPage(view, locale);
      expect(html.startsWith("<!doctype html>\n<html lang=")).toBe(true);
      expect(html).toContain(`<html lang="${locale}" dir="ltr">`);
      expect(html.match(/<h1>/g)).toHaveLength(1);
      expect(html.match(/<main>/g)).toHaveLength(1);
      expect(new TextEncoder().encode(html).byteLength).toBeLessThan(15 * 1024);
      expect(html).not.toMatch(/https?:|<script|<link|<img| style=/i);
      expect(html).not.toContain("+14155550100");
    });
  });

  it("names no brand on pages about a code that did not resolve", () => {
    for (const kind of ["not_found", "gone", "rate_limited", "error"] as const) {
      expect(renderPage({ kind }, "en")).not.toContain("<header>");
    }
  });

  it("refuses a confirmation page with nothing to confirm", () => {
    expect(() => renderPage({ kind: "confirm", link, choices: [] }, "en")).toThrow();
  });
});

describe("messages", () => {
  // Words that are the same in English and a translation (brand-like or loan words) are fine;
  // whole sentences, headings and buttons must be translated.
  const sentences = Object.entries(MESSAGES.en).filter(
    ([key, value]) => typeof value === "string" && key !== "messages",
  );

  it.each(PAGE_LOCALES.filter((l) => l !== "en").map((locale) => ({ locale })))(
    "$locale translates every sentence, heading and button",
    ({ locale }) => {
      const t = MESSAGES[locale] as unknown as Record<string, unknown>;
      for (const [key, english] of sentences) {
        expect(t[key], `${locale}.${key}`).toBeTypeOf("string");
        expect((t[key] as string).length, `${locale}.${key}`).toBeGreaterThan(0);
        expect(t[key], `${locale}.${key}`).not.toBe(english);
      }
      expect(MESSAGES[locale].confirmHeading("X")).toContain("X");
      expect(MESSAGES[locale].fromAccount("X")).toContain("X");
      expect(MESSAGES[locale].fromSender("Y")).toContain("Y");
    },
  );
});

describe("escapeHtml", () => {
  it.each([
    { input: "<script>", output: "&lt;script&gt;" },
    { input: `"quoted" & 'single'`, output: "&quot;quoted&quot; &amp; &#39;single&#39;" },
    { input: "Café ☕ •••", output: "Café ☕ •••" },
    { input: "&amp;", output: "&amp;amp;" },
  ])("$input", ({ input, output }) => {
    expect(escapeHtml(input)).toBe(output);
  });
});
