import { describe, expect, it } from "vitest";
import { API_KEY_FORMAT, generateApiKey, randomBase62, sha256Hex, timingSafeEqual } from "../src/index.ts";

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
