import { describe, expect, it } from "vitest";
import {
  API_KEY_FORMAT,
  generateApiKey,
  hmacSha256Hex,
  keyedHash,
  randomBase62,
  sha256Hex,
  timingSafeEqual,
} from "../src/index.ts";

describe("randomBase62", () => {
  it("draws every character about equally often", () => {
    const sample = randomBase62(62 * 2000);
    const counts = new Map<string, number>();
    for (const ch of sample) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // chi-squared with 61 degrees of freedom: p = 0.0001 at about 112
    const expected = 2000;
    let chi = 0;
    for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
    expect(chi).toBeLessThan(112);
  });

  it("produces unique values", () => {
    const set = new Set(Array.from({ length: 10_000 }, () => randomBase62(12)));
    expect(set.size).toBe(10_000);
  });
});

describe("api keys", () => {
  it.each(["live", "test"] as const)("%s keys match the documented format", (mode) => {
    const key = generateApiKey(mode);
    expect(key).toMatch(API_KEY_FORMAT);
    expect(key.startsWith(`sk_${mode}_`)).toBe(true);
  });
});

describe("timingSafeEqual", () => {
  it.each([
    { a: "abc", b: "abc", equal: true },
    { a: "abc", b: "abd", equal: false },
    { a: "abc", b: "abcd", equal: false },
    { a: "", b: "", equal: true },
    { a: "", b: "a", equal: false },
  ])("$a vs $b", ({ a, b, equal }) => {
    expect(timingSafeEqual(a, b)).toBe(equal);
  });
});

describe("sha256Hex", () => {
  it("matches the known digest of 'abc'", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("keyedHash", () => {
  it("is HMAC-SHA256 of purpose:value under the secret (RFC 4231 case 2 shape)", async () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(await hmacSha256Hex("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(await keyedHash("Jefe", "what do ya want for nothing", "")).not.toBe(
      await keyedHash("Jefe", "ip", "1.2.3.4"),
    );
    expect(await keyedHash("Jefe", "what do ya want for nothing?", "x")).toBe(
      await hmacSha256Hex("Jefe", "what do ya want for nothing?:x"),
    );
  });

  it("differs by secret and by purpose, so one use's pseudonyms never match another's", async () => {
    const ip = "203.0.113.7";
    const a = await keyedHash("secret-a", "ip", ip);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(await keyedHash("secret-b", "ip", ip));
    expect(a).not.toBe(await keyedHash("secret-a", "ua", ip));
    expect(a).not.toBe(await sha256Hex(`ip:${ip}`));
  });
});
