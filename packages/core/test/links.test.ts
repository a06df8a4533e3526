import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canUndoOptOut,
  DomainError,
  hashLinkCode,
  isLinkCode,
  isLinkExpired,
  LINK_CODE_DEFAULT_LENGTH,
  LINK_CODE_MIN_LENGTH,
  linkUrl,
  listUnsubscribeHeaders,
  MAX_LINK_BATCH,
  MintLinkBatchInput,
  MintLinkInput,
  mintLinkCode,
  mintUndoToken,
  planLinkOptOut,
  planLinkUndo,
  UNDO_WINDOW_MS,
  unsubscribeChoices,
  verifyUndoToken,
} from "../src/index.ts";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("mintLinkCode", () => {
  it("defaults to 12 base62 characters (over 71 bits)", () => {
    const code = mintLinkCode();
    expect(code).toHaveLength(LINK_CODE_DEFAULT_LENGTH);
    expect(isLinkCode(code)).toBe(true);
    expect(LINK_CODE_DEFAULT_LENGTH * Math.log2(62)).toBeGreaterThan(71);
  });

  it("never goes under 64 bits", () => {
    expect(LINK_CODE_MIN_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(64);
    expect((LINK_CODE_MIN_LENGTH - 1) * Math.log2(62)).toBeLessThan(64);
    expect(mintLinkCode(LINK_CODE_MIN_LENGTH)).toHaveLength(LINK_CODE_MIN_LENGTH);
  });

  it.each([
    { name: "10 characters (59 bits)", length: 10 },
    { name: "zero", length: 0 },
    { name: "negative", length: -12 },
    { name: "fractional", length: 12.5 },
    { name: "NaN", length: Number.NaN },
    { name: "longer than 32", length: 33 },
  ])("refuses $name", ({ length }) => {
    expect(() => mintLinkCode(length)).toThrow(DomainError);
  });

  // 200,000 codes of 12 characters = 2.4 M characters: the uniformity check has power to spot a
  // 1% bias on any single character, and a birthday collision at 71 bits has odds below 1e-10.
  const SAMPLE = 200_000;
  const codes = Array.from({ length: SAMPLE }, () => mintLinkCode());

  it("gives unique codes in a large sample", () => {
    expect(new Set(codes).size).toBe(SAMPLE);
  });

  it("spreads characters uniformly over the alphabet (chi-squared, 61 degrees of freedom)", () => {
    const counts = new Map<string, number>();
    for (const code of codes) for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect([...counts.keys()].sort().join("")).toBe([...ALPHABET].sort().join(""));
    const expected = (SAMPLE * LINK_CODE_DEFAULT_LENGTH) / 62;
    let chi = 0;
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
    // The 99.99th percentile of chi-squared with 61 degrees of freedom is about 112.
    expect(chi).toBeLessThan(112);
  });

  it("spreads characters uniformly at every position (no position is weaker)", () => {
    for (let pos = 0; pos < LINK_CODE_DEFAULT_LENGTH; pos++) {
      const counts = new Array<number>(62).fill(0);
      for (const code of codes) counts[ALPHABET.indexOf(code[pos]!)]!++;
      const expected = SAMPLE / 62;
      const chi = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      // Bonferroni over 12 positions: 0.0001 / 12 ≈ 1e-5 → about 122 at 61 degrees of freedom.
      expect(chi, `position ${pos}`).toBeLessThan(122);
    }
  });
});

describe("hashLinkCode", () => {
  it("is the hex SHA-256 of the code, and differs from the code", async () => {
    const code = "AbCdEf123456";
    const hash = await hashLinkCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashLinkCode(code)).toBe(hash);
    expect(await hashLinkCode("AbCdEf123457")).not.toBe(hash);
  });
});

describe("isLinkCode", () => {
  it.each([
    { name: "12 base62", value: "AbCdEf123456", ok: true },
    { name: "11 base62", value: "AbCdEf12345", ok: true },
    { name: "10 characters", value: "AbCdEf1234", ok: false },
    { name: "a dash", value: "AbCdEf-23456", ok: false },
    { name: "a path", value: "../../etc/pa", ok: false },
    { name: "unicode digits", value: "AbCdEf12345٣", ok: false },
    { name: "33 characters", value: "a".repeat(33), ok: false },
  ])("$name → $ok", ({ value, ok }) => {
    expect(isLinkCode(value)).toBe(ok);
  });
});

describe("linkUrl", () => {
  it.each([
    { base: "https://u.example.com", url: "https://u.example.com/u/AbCdEf123456" },
    { base: "https://u.example.com/", url: "https://u.example.com/u/AbCdEf123456" },
    { base: "https://example.com/optout", url: "https://example.com/optout/u/AbCdEf123456" },
  ])("$base", ({ base, url }) => {
    expect(linkUrl(base, "AbCdEf123456")).toBe(url);
  });
});

describe("listUnsubscribeHeaders", () => {
  it("returns the RFC 8058 pair", () => {
    expect(listUnsubscribeHeaders("https://u.example.com/u/AbCdEf123456")).toEqual({
      "List-Unsubscribe": "<https://u.example.com/u/AbCdEf123456>",
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    });
  });

  it("lists a mailto fallback after the URL", () => {
    const h = listUnsubscribeHeaders("https://u.example.com/u/AbCdEf123456", {
      mailto: "unsubscribe@example.com",
    });
    expect(h["List-Unsubscribe"]).toBe(
      "<https://u.example.com/u/AbCdEf123456>, <mailto:unsubscribe@example.com>",
    );
  });

  it.each([
    { name: "not a URL", url: "u/AbCdEf123456" },
    { name: "javascript:", url: "javascript:alert(1)" },
    { name: "ftp:", url: "ftp://example.com/u/x" },
    { name: "a comma", url: "https://example.com/u/a,b" },
  ])("refuses $name", ({ url }) => {
    expect(() => listUnsubscribeHeaders(url)).toThrow(DomainError);
  });

  it("never lets a value break out of its header line or brackets", () => {
    fc.assert(
      fc.property(fc.string(), (path) => {
        let headers: ReturnType<typeof listUnsubscribeHeaders>;
        try {
          headers = listUnsubscribeHeaders(`https://example.com/${path}`);
        } catch (e) {
          return e instanceof DomainError;
        }
        const value = headers["List-Unsubscribe"];
        return /^<[^\s<>,]+>$/.test(value);
      }),
    );
  });
});

describe("isLinkExpired / canUndoOptOut", () => {
  const now = new Date("2030-01-02T00:00:00.000Z");
  it.each([
    { name: "no expiry", expiresAt: null, expired: false },
    { name: "expires later", expiresAt: "2030-01-02T00:00:01.000Z", expired: false },
    { name: "expires now", expiresAt: "2030-01-02T00:00:00.000Z", expired: true },
    { name: "expired", expiresAt: "2030-01-01T00:00:00.000Z", expired: true },
  ])("$name", ({ expiresAt, expired }) => {
    expect(isLinkExpired(expiresAt, now)).toBe(expired);
  });

  it.each([
    { name: "not opted out", at: null, ok: false },
    { name: "just now", at: now.toISOString(), ok: true },
    {
      name: "a minute inside the window",
      at: new Date(now.getTime() - UNDO_WINDOW_MS + 60_000).toISOString(),
      ok: true,
    },
    { name: "exactly the window ago", at: new Date(now.getTime() - UNDO_WINDOW_MS).toISOString(), ok: false },
    { name: "two days ago", at: "2029-12-31T00:00:00.000Z", ok: false },
    { name: "in the future (clock skew)", at: "2030-01-03T00:00:00.000Z", ok: false },
  ])("undo: $name → $ok", ({ at, ok }) => {
    expect(canUndoOptOut(at, now)).toBe(ok);
  });
});

describe("undo tokens", () => {
  const secret = "edge-secret-for-tests";
  const claim = { codeHash: "a".repeat(64), seq: 42 };
  const optedOutAt = new Date("2030-01-02T00:00:00.000Z");
  const later = (ms: number) => new Date(optedOutAt.getTime() + ms);

  it("verifies for its own link and event, within the undo window", async () => {
    const token = await mintUndoToken(secret, claim, optedOutAt);
    expect(token).toMatch(/^\d+\.[0-9a-f]{64}$/);
    expect(await verifyUndoToken(secret, token, claim, later(0))).toBe(true);
    expect(await verifyUndoToken(secret, token, claim, later(UNDO_WINDOW_MS - 1))).toBe(true);
  });

  it.each([
    {
      name: "after the window",
      mutate: (t: string) => t,
      claimOver: {},
      at: UNDO_WINDOW_MS,
      secretOver: null,
    },
    {
      name: "another link",
      mutate: (t: string) => t,
      claimOver: { codeHash: "b".repeat(64) },
      at: 0,
      secretOver: null,
    },
    {
      name: "another opt-out of the same link",
      mutate: (t: string) => t,
      claimOver: { seq: 43 },
      at: 0,
      secretOver: null,
    },
    {
      name: "another deployment's secret",
      mutate: (t: string) => t,
      claimOver: {},
      at: 0,
      secretOver: "other-secret",
    },
    {
      name: "an expiry pushed later",
      mutate: (t: string) => `${Number(t.split(".")[0]) + 86_400_000}.${t.split(".")[1]}`,
      claimOver: {},
      at: UNDO_WINDOW_MS + 1,
      secretOver: null,
    },
    {
      name: "a flipped MAC character",
      mutate: (t: string) => t.slice(0, -1) + (t.endsWith("0") ? "1" : "0"),
      claimOver: {},
      at: 0,
      secretOver: null,
    },
    { name: "no token", mutate: () => "", claimOver: {}, at: 0, secretOver: null },
    { name: "garbage", mutate: () => "1.xyz", claimOver: {}, at: 0, secretOver: null },
  ])("refuses $name", async ({ mutate, claimOver, at, secretOver }) => {
    const token = mutate(await mintUndoToken(secret, claim, optedOutAt));
    expect(await verifyUndoToken(secretOver ?? secret, token, { ...claim, ...claimOver }, later(at))).toBe(
      false,
    );
  });
});

describe("unsubscribeChoices", () => {
  const sender = { type: "sender", sender: "ACME" } as const;
  const account = { type: "account" } as const;
  it.each([
    { name: "sender link", link: { scope: sender }, both: false, choices: [sender] },
    { name: "sender link, both offered", link: { scope: sender }, both: true, choices: [sender, account] },
    { name: "account link", link: { scope: account, sender: "ACME" }, both: false, choices: [account] },
    {
      name: "account link naming its sender, both offered",
      link: { scope: account, sender: "ACME" },
      both: true,
      choices: [account, sender],
    },
    {
      name: "account link without sender, both offered",
      link: { scope: account },
      both: true,
      choices: [account],
    },
  ])("$name", ({ link, both, choices }) => {
    expect(unsubscribeChoices(link, both)).toEqual(choices);
  });
});

describe("MintLinkInput", () => {
  it("defaults like the blocklist: every channel, account scope", () => {
    expect(MintLinkInput.parse({ address: "+14155550100" })).toEqual({
      address: "+14155550100",
      channel: "*",
      scope: { type: "account" },
    });
  });

  it.each([
    { name: "unknown field", input: { address: "a@example.com", code: "x" } },
    {
      name: "sender differs from scope",
      input: { address: "a@example.com", scope: sender("A"), sender: "B" },
    },
    {
      name: "expiresAt without offset",
      input: { address: "a@example.com", expiresAt: "2030-01-01T00:00:00" },
    },
    { name: "bad channel", input: { address: "a@example.com", channel: "fax" } },
  ])("refuses $name", ({ input }) => {
    expect(MintLinkInput.safeParse(input).success).toBe(false);
  });

  it(`batches take 1..${MAX_LINK_BATCH} items`, () => {
    const item = { address: "a@example.com" };
    expect(MintLinkBatchInput.safeParse({ items: [] }).success).toBe(false);
    expect(MintLinkBatchInput.safeParse({ items: Array(MAX_LINK_BATCH).fill(item) }).success).toBe(true);
    expect(MintLinkBatchInput.safeParse({ items: Array(MAX_LINK_BATCH + 1).fill(item) }).success).toBe(false);
  });
});

function sender(s: string) {
  return { type: "sender" as const, sender: s };
}

describe("what a click means", () => {
  const link = {
    codeHash: "c".repeat(64),
    address: "+14155550100",
    channel: "sms" as const,
    scope: { type: "sender", sender: "ACME" } as const,
    sender: "ACME",
    campaign: "spring",
    messageId: null,
    offerBothScopes: true,
  };
  const client = { ipHash: "i".repeat(64), userAgentHash: null };
  const now = new Date("2026-05-01T12:00:00.000Z");

  it.each([
    { name: "one-click: the link's own scope", post: { oneClick: true }, want: link.scope, via: "one_click" },
    {
      name: "the form's choice among those offered",
      post: { scope: "account", oneClick: false },
      want: { type: "account" },
      via: "page",
    },
    {
      name: "a choice not offered: the link's own",
      post: { scope: "everything", oneClick: false },
      want: link.scope,
      via: "page",
    },
  ])("$name", ({ post, want, via }) => {
    const plan = planLinkOptOut(link, post, client, now);
    expect(plan.scope).toEqual(want);
    expect(plan.change).toMatchObject({
      action: "opt_out",
      source: "link",
      scope: want,
      skipIfUnchanged: true,
      occurredAt: now.toISOString(),
      evidence: {
        linkCodeHash: link.codeHash,
        via,
        campaign: "spring",
        sender: "ACME",
        ipHash: client.ipHash,
      },
    });
    expect(plan.change.evidence).not.toHaveProperty("userAgentHash");
    // A link without a message id gets one of its own, so its clicks stay one event.
    expect(plan.click).toMatchObject({ type: "clicked", origin: "link", messageId: `link:${link.codeHash}` });
  });

  it("an undo reverts only the opt-out it undoes", () => {
    const change = planLinkUndo(link, { seq: 42, scope: { type: "account" } }, client, now);
    expect(change).toMatchObject({
      action: "opt_in",
      scope: { type: "account" },
      expectSeq: 42,
      evidence: { via: "undo", undoes: 42 },
    });
  });
});
