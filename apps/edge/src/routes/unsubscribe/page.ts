import { type Channel, maskAddress, type PageLocale, type Scope } from "@optout/core";
import { MESSAGES, type PageMessages } from "./messages.ts";

/**
 * The unsubscribe page as pure functions: data in, HTML out. No JavaScript, no external
 * requests (the CSS is inline and allowed by its hash), every interpolated value escaped, and
 * the address is masked here, so no caller can print it in full by mistake.
 */

export interface LinkSummary {
  /** The account's name. */
  brand: string;
  /** The normalized address; shown masked. */
  address: string;
  channel: Channel;
}

export type PageView =
  /** `choices[0]` is the link's own scope and is preselected. */
  | { kind: "confirm"; link: LinkSummary; choices: Scope[] }
  /**
   * `undo`: the undo form's URL (relative to the page) and the token that authorizes it; only the
   * response to the request that made the opt-out has one, and null once undo has closed.
   */
  | { kind: "done"; link: LinkSummary; scope: Scope; undo: { action: string; token: string } | null }
  | { kind: "undone"; link: LinkSummary; scope: Scope }
  | { kind: "undo_closed"; brand: string }
  | { kind: "not_found" }
  | { kind: "gone" }
  | { kind: "rate_limited" }
  | { kind: "error" };

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/**
 * Mobile-first, system fonts, contrast ≥ 4.5:1 for text and ≥ 3:1 for focus rings and borders
 * in both color schemes, targets ≥ 44 px. Served inline; the CSP allows exactly this text.
 */
export const PAGE_CSS = `:root{color-scheme:light dark;--fg:#1a1a1a;--muted:#4a4a4a;--bg:#f4f4f1;--card:#fff;--line:#767676;--accent:#1d4ed8;--on-accent:#fff}
@media (prefers-color-scheme:dark){:root{--fg:#f2f2f2;--muted:#c8c8c8;--bg:#121212;--card:#1e1e1e;--line:#8a8a8a;--accent:#93b4fd;--on-accent:#0b0b0b}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main{max-width:30rem;margin:0 auto;padding:1rem 1.25rem}
header p{margin:.5rem 0 0;font-weight:600;color:var(--muted);overflow-wrap:anywhere}
main{background:var(--card);border-radius:.75rem;margin-top:.5rem;margin-bottom:2rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0 .75rem;overflow-wrap:anywhere}
p{margin:.75rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}
dt{color:var(--muted)}
dd{margin:0;font-weight:600;overflow-wrap:anywhere}
fieldset{border:1px solid var(--line);border-radius:.5rem;margin:1rem 0;padding:.25rem 1rem .5rem}
legend{padding:0 .25rem;color:var(--muted)}
label{display:flex;gap:.75rem;align-items:center;min-height:2.75rem;cursor:pointer;overflow-wrap:anywhere}
input[type=radio]{flex:none;width:1.25rem;height:1.25rem;margin:0;accent-color:var(--accent)}
button{display:block;width:100%;min-height:3rem;margin:1.25rem 0 .5rem;padding:.5rem 1rem;border:2px solid var(--accent);border-radius:.5rem;background:var(--accent);color:var(--on-accent);font:inherit;font-weight:600;cursor:pointer}
button.secondary{background:transparent;color:var(--accent)}
:focus-visible{outline:3px solid var(--fg);outline-offset:3px}
.note{color:var(--muted);font-size:.9375rem}`;

export function renderPage(view: PageView, locale: PageLocale): string {
  const t = MESSAGES[locale];
  switch (view.kind) {
    case "confirm":
      return layout(locale, t.confirmHeading(view.link.brand), view.link.brand, confirmBody(view, t));
    case "done":
      return layout(locale, t.doneHeading, view.link.brand, doneBody(view, t));
    case "undone":
      return layout(
        locale,
        t.undoneHeading,
        view.link.brand,
        `<p>${escapeHtml(t.undoneBody)}</p>${summary(view.link, t, fromLabel(view.scope, view.link.brand, t))}`,
      );
    case "undo_closed":
      return layout(locale, t.undoClosedHeading, view.brand, `<p>${escapeHtml(t.undoClosedBody)}</p>`);
    case "not_found":
      return layout(locale, t.notFoundHeading, null, `<p>${escapeHtml(t.notFoundBody)}</p>`);
    case "gone":
      return layout(locale, t.goneHeading, null, `<p>${escapeHtml(t.goneBody)}</p>`);
    case "rate_limited":
      return layout(locale, t.rateLimitedHeading, null, `<p>${escapeHtml(t.rateLimitedBody)}</p>`);
    case "error":
      return layout(locale, t.errorHeading, null, `<p>${escapeHtml(t.errorBody)}</p>`);
  }
}

function layout(locale: PageLocale, heading: string, brand: string | null, body: string): string {
  const title = brand ? `${heading} – ${brand}` : heading;
  const header = brand ? `<header><p>${escapeHtml(brand)}</p></header>` : "";
  return `<!doctype html>
<html lang="${locale}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
${header}<main>
<h1>${escapeHtml(heading)}</h1>
${body}
</main>
</body>
</html>
`;
}

function fromLabel(scope: Scope, brand: string, t: PageMessages): string {
  switch (scope.type) {
    case "account":
      return t.fromAccount(brand);
    case "sender":
      return t.fromSender(scope.sender);
  }
}

/** Address, channel and (when there is no choice to make) whom the opt-out covers. */
function summary(link: LinkSummary, t: PageMessages, from: string | null): string {
  // The masked address is not words in the page's language: keep page translators off it.
  const rows = [
    `<dt>${escapeHtml(t.sentTo)}</dt><dd translate="no">${escapeHtml(maskAddress(link.address))}</dd>`,
    `<dt>${escapeHtml(t.messages)}</dt><dd>${escapeHtml(t.channel[link.channel])}</dd>`,
  ];
  if (from !== null) rows.push(`<dt>${escapeHtml(t.from)}</dt><dd>${escapeHtml(from)}</dd>`);
  return `<dl>${rows.join("")}</dl>`;
}

function confirmBody(view: Extract<PageView, { kind: "confirm" }>, t: PageMessages): string {
  const [first] = view.choices;
  if (!first) throw new Error("a confirm page needs at least one choice");
  const brand = view.link.brand;
  const choice =
    view.choices.length === 1
      ? `<input type="hidden" name="scope" value="${first.type}">`
      : `<fieldset><legend>${escapeHtml(t.from)}</legend>${view.choices
          .map(
            (scope, i) =>
              `<label><input type="radio" name="scope" value="${scope.type}"${i === 0 ? " checked" : ""}>${escapeHtml(
                fromLabel(scope, brand, t),
              )}</label>`,
          )
          .join("")}</fieldset>`;
  // No `action`: the form posts back to the page's own URL, whatever prefix the link base has.
  return `<p>${escapeHtml(t.confirmBody)}</p>
<form method="post">
${summary(view.link, t, view.choices.length === 1 ? fromLabel(first, brand, t) : null)}
${choice}
<button type="submit">${escapeHtml(t.confirmButton)}</button>
</form>`;
}

function doneBody(view: Extract<PageView, { kind: "done" }>, t: PageMessages): string {
  const undo =
    view.undo === null
      ? ""
      : `<form method="post" action="${escapeHtml(view.undo.action)}">
<input type="hidden" name="token" value="${escapeHtml(view.undo.token)}">
<p class="note">${escapeHtml(t.undoHint)}</p>
<button type="submit" class="secondary">${escapeHtml(t.undoButton)}</button>
</form>`;
  return `<p>${escapeHtml(t.doneBody)}</p>
${summary(view.link, t, fromLabel(view.scope, view.link.brand, t))}
${undo}`;
}
