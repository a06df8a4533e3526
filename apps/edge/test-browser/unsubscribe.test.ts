import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalEdge } from "../testing/local-edge.ts";
import { expectAccessible, launchChromium, PHONE } from "./chromium.ts";

/**
 * The unsubscribe page in a real browser (headless Chromium) against a real local edge
 * (`wrangler dev`): what an end user on a phone sees and does. Screenshots of every state land in
 * apps/edge/test-artifacts/; UPDATE_DOCS_SCREENSHOTS=1 also refreshes the two in docs/img/.
 */

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const DOCS_IMG = fileURLToPath(new URL("../../../docs/img/", import.meta.url));

interface Account {
  id: string;
  apiKey: string;
}

let edge: LocalEdge | undefined;
let edgeReady: Promise<unknown> = Promise.resolve();
let browser: Browser | undefined;
let account: Account;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Chromium first: without it the suite fails at once, with a message that says how to install it.
  browser = await launchChromium();
  edge = new LocalEdge();
  edgeReady = edge.start();
  await edgeReady;
  account = await edge.request<Account>("POST", "/v1/accounts", edge.adminToken, {
    name: "Demo Coffee",
    defaultRegion: "US",
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  // Let a start still under way finish before stopping, so no wrangler process is left behind.
  await edgeReady.catch(() => undefined);
  await edge?.stop();
});

const server = () => edge!;

async function mint(owner: Account, body: Record<string, unknown>) {
  return server().request<{ code: string; url: string }>("POST", "/v1/links", owner.apiKey, body);
}

async function allowed(owner: Account, address: string, sender: string, channel = "sms") {
  const query = new URLSearchParams({ address, sender, channel, consistency: "strong" });
  const res = await server().request<{ allowed: boolean }>("GET", `/v1/check?${query}`, owner.apiKey);
  return res.allowed;
}

/** A fresh phone-sized context that records every request and console error. */
async function phone(options: { javaScriptEnabled?: boolean; locale?: string } = {}) {
  const context: BrowserContext = await browser!.newContext({ ...PHONE, ...options });
  const page: Page = await context.newPage();
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  return { context, page, requests, consoleErrors };
}

async function heading(page: Page): Promise<string> {
  return ((await page.locator("h1").textContent()) ?? "").trim();
}

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

describe("the unsubscribe page in Chromium on a phone", () => {
  it("reads, confirms, shows the confirmation and undoes it; the check API follows", async () => {
    const address = "+14155550100";
    const { url } = await mint(account, { address, channel: "sms", sender: "DEMO", campaign: "spring" });
    expect(url.startsWith(`${server().url}/u/`)).toBe(true);
    const { context, page, requests, consoleErrors } = await phone();

    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    expect(await heading(page)).toBe("Unsubscribe from Demo Coffee?");
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(await page.locator("dd").first().textContent()).toBe("+1 ••• ••• 0100");
    expect(await page.content()).not.toContain(address);
    // The CSP's hash admits the inline stylesheet: the button is styled, mobile layout holds.
    const button = page.getByRole("button", { name: "Unsubscribe" });
    expect(await button.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe("rgb(29, 78, 216)");
    const box = (await button.boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(44);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible(page, "confirm");
    await shoot(page, "confirm");
    // Opening the page changed nothing.
    expect(await allowed(account, address, "DEMO")).toBe(true);

    await button.click();
    await page.locator("h1", { hasText: "You’re unsubscribed" }).waitFor();
    expect(await page.getByText("You will no longer receive these messages.").count()).toBe(1);
    await expectAccessible(page, "done");
    await shoot(page, "done");
    expect(await allowed(account, address, "DEMO")).toBe(false);
    expect(await allowed(account, address, "OTHER")).toBe(false);

    await page.getByRole("button", { name: "Resubscribe" }).click();
    await page.locator("h1", { hasText: "You’re subscribed again" }).waitFor();
    await expectAccessible(page, "undone");
    await shoot(page, "undone");
    expect(await allowed(account, address, "DEMO")).toBe(true);

    // Only the edge was ever asked for anything, and the CSP blocked nothing of the page's own.
    expect(requests.filter((u) => !u.startsWith(server().url))).toEqual([]);
    expect(consoleErrors).toEqual([]);

    if (process.env.UPDATE_DOCS_SCREENSHOTS) {
      mkdirSync(DOCS_IMG, { recursive: true });
      copyFileSync(`${ARTIFACTS}confirm.png`, `${DOCS_IMG}unsubscribe-confirm.png`);
      copyFileSync(`${ARTIFACTS}done.png`, `${DOCS_IMG}unsubscribe-done.png`);
    }
    await context.close();
  });

  it("offers both scopes when the account allows it, and works by keyboard alone with a visible focus", async () => {
    const both = await server().request<Account>("POST", "/v1/accounts", server().adminToken, {
      name: "Both Bakery",
      defaultRegion: "US",
    });
    await server().request("PUT", "/v1/links/settings", both.apiKey, { offerBothScopes: true });
    const address = "+14155550101";
    const { url } = await mint(both, {
      address,
      channel: "sms",
      scope: { type: "sender", sender: "ALERTS" },
    });
    const { context, page } = await phone();
    await page.goto(url);
    await expectAccessible(page, "confirm with a choice");
    await shoot(page, "confirm-choice");

    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe("sender");
    await page.keyboard.press("ArrowDown");
    expect(await page.locator('input[value="account"]').isChecked()).toBe(true);
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, outline: `${style.outlineStyle} ${style.outlineWidth}` };
    });
    expect(focused).toEqual({ tag: "BUTTON", outline: "solid 3px" });
    await page.keyboard.press("Enter");
    await page.locator("h1", { hasText: "You’re unsubscribed" }).waitFor();
    // The whole brand was chosen: every sender is blocked.
    expect(await allowed(both, address, "PROMO")).toBe(false);
    await context.close();
  });

  it("speaks the phone's language", async () => {
    const { url } = await mint(account, { address: "+14155550102", channel: "sms" });
    const { context, page } = await phone({ locale: "es-ES" });
    await page.goto(url);
    expect(await page.locator("html").getAttribute("lang")).toBe("es");
    expect(await heading(page)).toBe("¿Darte de baja de Demo Coffee?");
    await expectAccessible(page, "confirm (es)");
    await shoot(page, "confirm-es");
    await context.close();
  });

  it("shows friendly, accessible 404 and 410 pages that reveal nothing", async () => {
    const { code } = await mint(account, {
      address: "+14155550103",
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    const { context, page } = await phone();

    const missing = await page.goto(`${server().url}/u/NoSuchCode000`);
    expect(missing?.status()).toBe(404);
    expect(await heading(page)).toBe("This link doesn’t work");
    await expectAccessible(page, "404");
    await shoot(page, "not-found");

    await new Promise((r) => setTimeout(r, 1600));
    const gone = await page.goto(`${server().url}/u/${code}`);
    expect(gone?.status()).toBe(410);
    expect(await heading(page)).toBe("This link has expired");
    expect(await page.content()).not.toContain("Demo Coffee");
    await expectAccessible(page, "410");
    await shoot(page, "gone");
    await context.close();
  });

  it("works the same with JavaScript disabled", async () => {
    const address = "+14155550104";
    const { url } = await mint(account, { address, channel: "sms" });
    const { context, page } = await phone({ javaScriptEnabled: false });
    await page.goto(url);
    expect(await heading(page)).toBe("Unsubscribe from Demo Coffee?");
    await page.getByRole("button", { name: "Unsubscribe" }).click();
    await page.locator("h1", { hasText: "You’re unsubscribed" }).waitFor();
    // axe needs script to run, so it checks the very HTML this JavaScript-less browser got, in a
    // second page (the page itself has no script whose absence could change anything).
    const html = await page.content();
    expect(html).not.toMatch(/<script/i);
    const checker = await context.browser()!.newPage();
    await checker.setContent(html);
    await expectAccessible(checker, "done (JavaScript disabled)");
    await checker.close();
    await shoot(page, "done-no-js");
    expect(await allowed(account, address, "DEMO")).toBe(false);
    await page.getByRole("button", { name: "Resubscribe" }).click();
    await page.locator("h1", { hasText: "You’re subscribed again" }).waitFor();
    expect(await allowed(account, address, "DEMO")).toBe(true);
    await context.close();
  });

  it("takes an RFC 8058 one-click POST over real HTTP (what a mailbox provider sends)", async () => {
    const address = "jane@example.com";
    const { url } = await mint(account, { address, channel: "email" });
    // A scanner's GET and HEAD first: nothing changes.
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { method: "HEAD" })).status).toBe(200);
    expect(await allowed(account, address, "news@demo.test", "email")).toBe(true);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await allowed(account, address, "news@demo.test", "email")).toBe(false);
  });
});
