import { env } from "cloudflare:workers";
import { keyedHash, PAGE_LOCALES, UNDO_WINDOW_MS } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  callJson,
  check,
  createAccount,
  expectChainValid,
  expectStatus,
  type TestAccount,
  unblock,
} from "../../../test/helpers.ts";
import {
  confirm,
  expectPage,
  hashOf,
  ledgerOf,
  mintLink,
  oneClick,
  undo,
  undoTokenOf,
  updateLinkRow,
  visit,
} from "../../../test/links.ts";

let account: TestAccount;
let n = 0;
/** A fresh phone number per test, so tests never share blocklist state. */
const nextPhone = () => `+1415555${String(2000 + ++n).padStart(4, "0")}`;

beforeAll(async () => {
  account = await createAccount({ name: "Acme Coffee", defaultRegion: "US" });
});

async function changesHead() {
  const res = await call("/v1/changes?after=0&limit=1000", { headers: bearer("test-sync-token") });
  const body = await expectStatus<{ changes: unknown[]; next: string }>(res, 200);
  return { count: body.changes.length, next: body.next };
}

describe("GET and HEAD never change state (link scanners, previews)", () => {
  it("renders the confirmation page, any number of times, and nothing changes", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms", campaign: "spring" });
    const before = { ledger: await ledgerOf(account.id), changes: await changesHead() };

    for (let i = 0; i < 3; i++) {
      const html = await expectPage(await visit(code), 200);
      expect(html).toContain("Unsubscribe from Acme Coffee?");
      expect(html).toContain("+1 ••• ••• ");
      expect(html).toContain('<form method="post">');
      // The page never shows the full address, the code's hash, or anything scriptable.
      expect(html).not.toContain(address);
      expect(html).not.toContain(await hashOf(code));
      expect(html).not.toMatch(/<script|javascript:|https?:\/\//i);
    }
    for (let i = 0; i < 3; i++) {
      const head = await visit(code, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
    }

    expect(await ledgerOf(account.id)).toEqual(before.ledger);
    expect(await changesHead()).toEqual(before.changes);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(true);
  });
});

describe("POST opts out, exactly once", () => {
  it("the page's form opts out, records one ledger event with hashed evidence, and shows the done page", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, {
      address,
      channel: "sms",
      sender: "ACME",
      campaign: "spring-sale",
      messageId: "msg-123",
    });
    const before = (await ledgerOf(account.id)).length;
    const ip = "203.0.113.77";
    const userAgent = "Mozilla/5.0 (iPhone) test";

    const html = await expectPage(
      await confirm(code, "account", { ip, headers: { "user-agent": userAgent } }),
      200,
    );
    expect(html).toContain("You’re unsubscribed");
    expect(html).toContain(`action="${code}/undo"`);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(false);
    expect((await check(account, { address, sender: "OTHER", channel: "sms" })).allowed).toBe(false);
    expect((await check(account, { address, sender: "ACME", channel: "email" })).allowed).toBe(true);

    // Repeats — the form again, one-click, an empty POST, even at once — add nothing.
    await expectPage(await confirm(code), 200);
    await expectPage(await oneClick(code), 200);
    await expectPage(await visit(code, { method: "POST" }), 200);
    await Promise.all(Array.from({ length: 5 }, () => oneClick(code).then((r) => r.text())));

    const events = (await ledgerOf(account.id)).slice(before);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({ action: "opt_out", source: "link", scope_key: "account", channel: "sms" });
    const evidence = JSON.parse(event!.evidence);
    expect(evidence).toEqual({
      linkCodeHash: await hashOf(code),
      via: "page",
      campaign: "spring-sale",
      messageId: "msg-123",
      sender: "ACME",
      // Keyed hashes under EDGE_SECRET: an unkeyed SHA-256 of an IPv4 address is reversed by
      // trying all 2^32 of them.
      ipHash: await keyedHash(env.EDGE_SECRET, "ip", ip),
      userAgentHash: await keyedHash(env.EDGE_SECRET, "ua", userAgent),
    });
    expect(evidence.ipHash).not.toBe(await hashOf(`ip:${ip}`));
    // Neither the IP, the user agent, nor the code itself is stored anywhere in the event.
    expect(event!.evidence).not.toContain(ip);
    expect(event!.evidence).not.toContain("iPhone");
    expect(event!.evidence).not.toContain(code);
    await expectChainValid(account.id);
  });

  it.each([
    {
      name: "urlencoded body",
      type: "application/x-www-form-urlencoded",
      body: "List-Unsubscribe=One-Click",
    },
    { name: "multipart body", type: null, body: "multipart" },
    { name: "empty body", type: null, body: null },
    { name: "a body of another type", type: "text/plain", body: "hello" },
  ])("RFC 8058 one-click with $name answers 200 and opts out once", async ({ type, body }) => {
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms" });
    const before = (await ledgerOf(account.id)).length;
    const send = () => {
      if (body === "multipart") {
        const form = new FormData();
        form.set("List-Unsubscribe", "One-Click");
        return visit(code, { method: "POST", body: form });
      }
      return visit(code, {
        method: "POST",
        headers: type ? { "content-type": type } : {},
        body: body ?? undefined,
      });
    };
    await expectPage(await send(), 200);
    await expectPage(await send(), 200);
    const events = (await ledgerOf(account.id)).slice(before);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.evidence).via).toBe("one_click");
    expect((await check(account, { address, sender: "ANY", channel: "sms" })).allowed).toBe(false);
  });

  it("after opting out, GET shows the done page (without undo) and still changes nothing", async () => {
    const { code } = await mintLink(account, { address: nextPhone(), channel: "sms" });
    await expectPage(await oneClick(code), 200);
    const ledger = await ledgerOf(account.id);
    const html = await expectPage(await visit(code), 200);
    expect(html).toContain("You’re unsubscribed");
    expect(html).not.toContain("/undo");
    expect(await ledgerOf(account.id)).toEqual(ledger);
  });

  it("an address already blocked by other means is not re-recorded, and the page offers no undo", async () => {
    const address = nextPhone();
    await expectStatus(await block(account, { address, channel: "sms" }), 201);
    const { code } = await mintLink(account, { address, channel: "sms" });
    const before = (await ledgerOf(account.id)).length;
    const html = await expectPage(await confirm(code), 200);
    expect(html).toContain("You’re unsubscribed");
    expect(html).not.toContain("/undo");
    expect(await ledgerOf(account.id)).toHaveLength(before);
  });
});

describe("scope", () => {
  it("a sender-scoped link blocks that sender only", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, {
      address,
      channel: "sms",
      scope: { type: "sender", sender: "ALERTS" },
    });
    const html = await expectPage(await visit(code), 200);
    expect(html).toContain("Only ALERTS");
    expect(html).not.toContain('type="radio"');
    await expectPage(await oneClick(code), 200);
    expect((await check(account, { address, sender: "ALERTS", channel: "sms" })).allowed).toBe(false);
    expect((await check(account, { address, sender: "PROMO", channel: "sms" })).allowed).toBe(true);
  });

  it("a form asking for a scope the page did not offer gets the link's own scope", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, {
      address,
      channel: "sms",
      scope: { type: "sender", sender: "ALERTS" },
    });
    await expectPage(await confirm(code, "account"), 200);
    expect((await check(account, { address, sender: "PROMO", channel: "sms" })).allowed).toBe(true);
    expect((await ledgerOf(account.id)).at(-1)?.scope_key).toBe("sender:ALERTS");
  });

  describe("when the account lets the page offer both", () => {
    let both: TestAccount;
    beforeAll(async () => {
      both = await createAccount({ name: "Both Ltd", defaultRegion: "US" });
      await expectStatus(
        await callJson("PUT", "/v1/links/settings", both.apiKey, { offerBothScopes: true }),
        200,
      );
    });

    it("a sender link offers the sender (preselected) and the whole brand", async () => {
      const { code } = await mintLink(both, {
        address: nextPhone(),
        scope: { type: "sender", sender: "ALERTS" },
      });
      const html = await expectPage(await visit(code), 200);
      expect(html).toContain('<input type="radio" name="scope" value="sender" checked>Only ALERTS');
      expect(html).toContain('<input type="radio" name="scope" value="account">Both Ltd (all senders)');
      expect(html).toContain("<legend>From</legend>");
    });

    it.each([
      { choice: "account", blocksPromo: false },
      { choice: "sender", blocksPromo: true },
    ])("choosing $choice opts out at that scope", async ({ choice, blocksPromo }) => {
      const address = nextPhone();
      const { code } = await mintLink(both, {
        address,
        channel: "sms",
        scope: { type: "sender", sender: "ALERTS" },
      });
      await expectPage(await confirm(code, choice), 200);
      expect((await check(both, { address, sender: "ALERTS", channel: "sms" })).allowed).toBe(false);
      expect((await check(both, { address, sender: "PROMO", channel: "sms" })).allowed).toBe(blocksPromo);
    });

    it("an account link that names its sender offers 'only this sender' too", async () => {
      const address = nextPhone();
      const { code } = await mintLink(both, { address, channel: "sms", sender: "ALERTS" });
      const html = await expectPage(await visit(code), 200);
      expect(html).toContain('value="account" checked>Both Ltd (all senders)');
      const done = await expectPage(await confirm(code, "sender"), 200);
      expect((await check(both, { address, sender: "PROMO", channel: "sms" })).allowed).toBe(true);
      // Undo reverses the scope that was chosen.
      await expectPage(await undo(code, undoTokenOf(done)!), 200);
      expect((await check(both, { address, sender: "ALERTS", channel: "sms" })).allowed).toBe(true);
    });
  });
});

describe("undo", () => {
  it("within the hour, with the confirming page's token, resubscribes with one opt_in event; repeating it changes nothing", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms" });
    const token = undoTokenOf(await expectPage(await confirm(code), 200))!;
    expect(token).toMatch(/^\d+\.[0-9a-f]{64}$/);
    const optOutSeq = (await ledgerOf(account.id)).at(-1)!.seq;

    const html = await expectPage(await undo(code, token), 200);
    expect(html).toContain("You’re subscribed again");
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(true);
    const last = (await ledgerOf(account.id)).at(-1)!;
    expect(last).toMatchObject({ action: "opt_in", source: "link", scope_key: "account" });
    expect(JSON.parse(last.evidence)).toMatchObject({
      via: "undo",
      undoes: optOutSeq,
      linkCodeHash: await hashOf(code),
    });

    const count = (await ledgerOf(account.id)).length;
    await expectPage(await undo(code, token), 200);
    expect(await ledgerOf(account.id)).toHaveLength(count);

    // The link works again: the page asks again, and confirming opts out again.
    expect(await expectPage(await visit(code), 200)).toContain("Unsubscribe from Acme Coffee?");
    await expectPage(await oneClick(code), 200);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(false);
    expect(await ledgerOf(account.id)).toHaveLength(count + 1);
    await expectChainValid(account.id);
  });

  it("is refused after the hour (409), and the address stays blocked", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms" });
    const token = undoTokenOf(await expectPage(await confirm(code), 200))!;
    await updateLinkRow(code, { opted_out_at: new Date(Date.now() - UNDO_WINDOW_MS - 1000).toISOString() });
    const count = (await ledgerOf(account.id)).length;

    expect(await expectPage(await undo(code, token), 409)).toContain("This can no longer be undone");
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(false);
    expect(await ledgerOf(account.id)).toHaveLength(count);
    const page = await expectPage(await visit(code), 200);
    expect(page).toContain("You’re unsubscribed");
    expect(page).not.toContain("/undo");
  });

  it("just inside the hour still works", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms" });
    const token = undoTokenOf(await expectPage(await confirm(code), 200))!;
    await updateLinkRow(code, { opted_out_at: new Date(Date.now() - UNDO_WINDOW_MS + 60_000).toISOString() });
    await expectPage(await undo(code, token), 200);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(true);
  });

  it("only reverts this link's own opt-out: not one made since by someone else", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms" });
    const token = undoTokenOf(await expectPage(await confirm(code), 200))!;
    await expectStatus(await unblock(account, { address, channel: "sms" }), 200);
    await expectStatus(await block(account, { address, channel: "sms" }), 201);
    const count = (await ledgerOf(account.id)).length;
    await expectPage(await undo(code, token), 409);
    expect(await ledgerOf(account.id)).toHaveLength(count);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(false);
  });

  it("is refused for a link that never opted out", async () => {
    const { code } = await mintLink(account, { address: nextPhone() });
    await expectPage(await undo(code, ""), 409);
  });

  it("needs the token: holding the link (as the sender who minted it does) is not enough", async () => {
    // Finding: undo needed only the link code and worked cross-site, so anyone holding the link
    // could reverse an end user's opt-out, and the ledger attributed it to the end user.
    const address = nextPhone();
    const { code } = await mintLink(account, { address, channel: "sms" });
    const token = undoTokenOf(await expectPage(await confirm(code), 200))!;
    const count = (await ledgerOf(account.id)).length;
    const forged = `${token.split(".")[0]}.${"0".repeat(64)}`;
    const { code: other } = await mintLink(account, { address: nextPhone(), channel: "sms" });
    const otherToken = undoTokenOf(await expectPage(await confirm(other), 200))!;
    for (const attempt of ["", forged, otherToken, "garbage"]) {
      expect(await expectPage(await undo(code, attempt), 403)).toContain("This can no longer be undone");
    }
    // A form without a body, or a JSON one, carries no token either.
    await expectPage(await visit(`/u/${code}/undo`, { method: "POST" }), 403);
    expect(await ledgerOf(account.id)).toHaveLength(count + 1);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(false);
    // The real token still works.
    await expectPage(await undo(code, token), 200);
  });

  it("is offered only to the request that made the opt-out: GET and a repeated POST get no token", async () => {
    const { code } = await mintLink(account, { address: nextPhone(), channel: "sms" });
    expect(undoTokenOf(await expectPage(await confirm(code), 200))).not.toBeNull();
    expect(undoTokenOf(await expectPage(await visit(code), 200))).toBeNull();
    expect(undoTokenOf(await expectPage(await oneClick(code), 200))).toBeNull();
    expect(undoTokenOf(await expectPage(await confirm(code), 200))).toBeNull();
  });
});

describe("unknown, malformed and expired codes reveal nothing", () => {
  const unknown = "Zz9Zz9Zz9Zz9";
  it.each([
    { name: "unknown code", path: `/u/${unknown}` },
    { name: "too short", path: "/u/abc" },
    { name: "too long", path: `/u/${"a".repeat(40)}` },
    { name: "not base62", path: "/u/AbCdEf-23456" },
    { name: "encoded path", path: "/u/..%2F..%2Fetc" },
    { name: "no code", path: "/u/" },
    { name: "bare /u", path: "/u" },
    { name: "extra segments", path: `/u/${unknown}/x/y` },
    { name: "undo of unknown code", path: `/u/${unknown}/undo`, method: "POST" },
    { name: "POST to unknown code", path: `/u/${unknown}`, method: "POST" },
    { name: "PUT", path: `/u/${unknown}`, method: "PUT" },
  ])("$name → the same friendly 404", async ({ path, method }) => {
    const html = await expectPage(await visit(path, { method }), 404);
    expect(html).toContain("This link doesn’t work");
    expect(html).not.toContain("Acme");
    expect(html).not.toContain("<form");
    const reference = await (await visit(`/u/${unknown}`)).text();
    expect(html).toBe(reference);
  });

  it("an expired link answers 410 to GET and POST and changes nothing", async () => {
    const address = nextPhone();
    const { code } = await mintLink(account, {
      address,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(await expectPage(await visit(code), 200)).toContain("Unsubscribe from");
    await updateLinkRow(code, { expires_at: new Date(Date.now() - 1000).toISOString() });
    const count = (await ledgerOf(account.id)).length;
    for (const res of [await visit(code), await confirm(code), await oneClick(code)]) {
      const html = await expectPage(res, 410);
      expect(html).toContain("This link has expired");
      expect(html).not.toContain("Acme");
      expect(html).not.toContain("•••");
    }
    expect(await ledgerOf(account.id)).toHaveLength(count);
    expect((await check(account, { address, sender: "ACME", channel: "sms" })).allowed).toBe(true);
  });
});

describe("rate limit per client", () => {
  it("refuses a client after 20 misses, whatever it asks for next, and leaves other clients alone", async () => {
    const { code } = await mintLink(account, { address: nextPhone() });
    const ip = "192.0.2.200";
    for (let i = 0; i < 20; i++)
      await expectPage(await visit(`Guess${String(i).padStart(7, "0")}`, { ip }), 404);
    const limited = await visit("GuessX0000000", { ip });
    const body = await expectPage(limited, 429);
    expect(body).toContain("Too many attempts");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // A valid code gets the same refusal: a limited client learns nothing about codes.
    expect(await expectPage(await visit(code, { ip }), 429)).toBe(body);
    expect(await expectPage(await oneClick(code, { ip }), 429)).toBe(body);
    // Another client is unaffected.
    await expectPage(await visit(code, { ip: "192.0.2.201" }), 200);
  });

  it("a client with valid links (a mailbox provider's one-click) gets far more", async () => {
    const ip = "192.0.2.210";
    const links = await Promise.all(
      Array.from({ length: 10 }, () => mintLink(account, { address: nextPhone() })),
    );
    // 50 requests, more than twice the burst of misses, all admitted.
    for (let round = 0; round < 5; round++) {
      const statuses = await Promise.all(
        links.map(({ code }) => visit(code, { ip, method: "HEAD" }).then((r) => r.status)),
      );
      expect(statuses).toEqual(links.map(() => 200));
    }
  });
});

describe("headers", () => {
  async function responses() {
    const { code } = await mintLink(account, {
      address: nextPhone(),
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const { code: expired } = await mintLink(account, { address: nextPhone() });
    await updateLinkRow(expired, { expires_at: "2000-01-01T00:00:00.000Z" });
    const ip = "192.0.2.250";
    for (let i = 0; i < 21; i++) await visit(`Limit${String(i).padStart(7, "0")}`, { ip });
    return [
      { name: "GET page", res: await visit(code) },
      { name: "HEAD page", res: await visit(code, { method: "HEAD" }) },
      { name: "POST done", res: await oneClick(code) },
      { name: "POST undo", res: await undo(code, "") },
      { name: "404", res: await visit("Nope0000000000") },
      { name: "404 catch-all", res: await visit("/u/a/b/c") },
      { name: "404 bare /u", res: await visit("/u") },
      { name: "410", res: await visit(expired) },
      { name: "429", res: await visit(code, { ip }) },
    ];
  }

  it("every /u response carries no-store, no-referrer, a strict CSP, DENY framing and nosniff", async () => {
    for (const { name, res } of await responses()) {
      await res.arrayBuffer();
      const h = res.headers;
      expect(h.get("cache-control"), name).toBe("no-store");
      expect(h.get("referrer-policy"), name).toBe("no-referrer");
      expect(h.get("x-frame-options"), name).toBe("DENY");
      expect(h.get("x-content-type-options"), name).toBe("nosniff");
      const csp = h.get("content-security-policy") ?? "";
      expect(csp, name).toMatch(
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
      );
      expect(csp, name).not.toContain("unsafe");
      expect(h.get("x-request-id"), name).toBeTruthy();
    }
  });

  it("the CSP's style hash is the hash of the page's one inline stylesheet", async () => {
    const { code } = await mintLink(account, { address: nextPhone() });
    const res = await visit(code);
    const html = await res.text();
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(css));
    const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
    expect(res.headers.get("content-security-policy")).toContain(`'sha256-${hash}'`);
    expect(html.match(/<style/g)).toHaveLength(1);
    expect(html).not.toMatch(/ style=|<link|<img|<script|<iframe/);
  });
});

describe("page size", () => {
  it("every state, in every language, with a long brand and sender, is under 15 KB", async () => {
    const long = await createAccount({ name: "B".repeat(200) });
    await expectStatus(
      await callJson("PUT", "/v1/links/settings", long.apiKey, {
        offerBothScopes: true,
        brandName: "Ü".repeat(100),
      }),
      200,
    );
    const { code } = await mintLink(long, {
      address: `${"x".repeat(60)}@example.com`,
      sender: "S".repeat(128),
    });
    const sizes: Record<string, number> = {};
    for (const locale of PAGE_LOCALES) {
      const headers = { "accept-language": locale };
      const confirmPage = await (await visit(code, { headers })).text();
      const done = await expectPage(await confirm(code, "sender", { headers }), 200);
      const pages = {
        confirm: confirmPage,
        done,
        undone: await (await undo(code, undoTokenOf(done)!, { headers })).text(),
        notFound: await (await visit("Nope0000000000", { headers })).text(),
      };
      for (const [state, text] of Object.entries(pages)) {
        sizes[`${state}.${locale}`] = new TextEncoder().encode(text).byteLength;
      }
    }
    for (const [state, size] of Object.entries(sizes)) expect(size, state).toBeLessThan(15 * 1024);
  });
});

describe("localization", () => {
  it.each([
    { header: "fr-CH, fr;q=0.9, en;q=0.8", lang: "fr", heading: "Se désabonner de Acme Coffee ?" },
    { header: "es-MX", lang: "es", heading: "¿Darte de baja de Acme Coffee?" },
    { header: "de", lang: "de", heading: "Von Acme Coffee abmelden?" },
    { header: "pt-BR,pt;q=0.9", lang: "pt", heading: "Cancelar a inscrição de Acme Coffee?" },
    { header: "it-IT", lang: "it", heading: "Annullare l’iscrizione a Acme Coffee?" },
    { header: "ja, en;q=0.5", lang: "en", heading: "Unsubscribe from Acme Coffee?" },
    { header: "", lang: "en", heading: "Unsubscribe from Acme Coffee?" },
  ])("Accept-Language: '$header' → $lang", async ({ header, lang, heading }) => {
    const { code } = await mintLink(account, { address: nextPhone() });
    const res = await visit(code, { headers: header ? { "accept-language": header } : {} });
    const html = await expectPage(res, 200);
    expect(html).toContain(`<html lang="${lang}"`);
    expect(html).toContain(`<h1>${heading}</h1>`);
    expect(res.headers.get("content-language")).toBe(lang);
  });

  it("falls back to the account's default language, also on the done page", async () => {
    const german = await createAccount({ name: "Kaffee GmbH", defaultRegion: "DE" });
    await expectStatus(
      await callJson("PUT", "/v1/links/settings", german.apiKey, { defaultLocale: "de" }),
      200,
    );
    const { code } = await mintLink(german, { address: "030 1234567", channel: "sms" });
    expect(await expectPage(await visit(code, { headers: { "accept-language": "ja" } }), 200)).toContain(
      "<h1>Von Kaffee GmbH abmelden?</h1>",
    );
    expect(await expectPage(await confirm(code), 200)).toContain("Sie sind abgemeldet");
  });
});

describe("escaping", () => {
  it("brand, sender and address are HTML-escaped everywhere", async () => {
    const evil = await createAccount({ name: `<script>alert(1)</script> & "Co" 'x'` });
    const { code } = await mintLink(evil, {
      address: "b@example.com",
      scope: { type: "sender", sender: `<img src=x onerror=alert(1)>` },
    });
    for (const res of [await visit(code), await confirm(code)]) {
      const html = await expectPage(res, 200);
      expect(html).not.toContain("<script>alert");
      expect(html).not.toContain("<img");
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot; &#39;x&#39;");
      expect(html).toContain("Only &lt;img src=x onerror=alert(1)&gt;");
    }
  });
});

describe("storage failures", () => {
  it("answer a 500 HTML page with the same headers, never the JSON envelope, and change nothing", async () => {
    const { code } = await mintLink(account, { address: nextPhone() });
    const count = (await ledgerOf(account.id)).length;
    // Storage is isolated per test file: renaming the table here breaks only this file's D1.
    await env.DB.exec("ALTER TABLE links RENAME TO links_away");
    try {
      for (const res of [await visit(code), await oneClick(code)]) {
        const html = await expectPage(res, 500);
        expect(html).toContain("Something went wrong");
        expect(res.headers.get("cache-control")).toBe("no-store");
        expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
        expect(res.headers.get("x-frame-options")).toBe("DENY");
      }
    } finally {
      await env.DB.exec("ALTER TABLE links_away RENAME TO links");
    }
    expect(await ledgerOf(account.id)).toHaveLength(count);
  });
});

describe("OpenAPI", () => {
  it("documents the link and page routes", async () => {
    const doc = await expectStatus(await call("/openapi.json"), 200);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/links",
        "/v1/links/batch",
        "/v1/links/settings",
        "/u/{code}",
        "/u/{code}/undo",
      ]),
    );
    expect(doc.paths["/u/{code}"].post.requestBody.content).toHaveProperty(
      "application/x-www-form-urlencoded",
    );
  });
});
