import { describe, expect, it } from "vitest";
import { backoffMs, retryAfterMs } from "../src/retry.ts";

const NOW = Date.parse("2026-10-21T07:28:00Z");

describe("retryAfterMs", () => {
  it.each([
    { name: "delay-seconds", value: "3", expected: 3000 },
    { name: "zero", value: "0", expected: 0 },
    { name: "padded", value: " 12 ", expected: 12_000 },
    { name: "an HTTP date ahead", value: "Wed, 21 Oct 2026 07:28:05 GMT", expected: 5000 },
    { name: "an HTTP date in the past", value: "Wed, 21 Oct 2026 07:27:00 GMT", expected: 0 },
    { name: "absent", value: null, expected: undefined },
    { name: "empty", value: "", expected: undefined },
    { name: "unreadable", value: "soon", expected: undefined },
    { name: "negative", value: "-1", expected: undefined },
    { name: "a fraction", value: "1.5", expected: undefined },
    { name: "an obsolete RFC 850 date", value: "Wednesday, 21-Oct-26 07:28:02 GMT", expected: 2000 },
    { name: "an asctime date (GMT)", value: "Wed Oct 21 07:28:03 2026", expected: 3000 },
  ])("$name", ({ value, expected }) => {
    expect(retryAfterMs(value, NOW)).toBe(expected);
  });
});

describe("backoffMs", () => {
  it("grows exponentially, is capped, and keeps half of each wait fixed", () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, () => 0))).toEqual([125, 250, 500, 1000]);
    expect([1, 2, 3, 4].map((n) => backoffMs(n, () => 1))).toEqual([250, 500, 1000, 2000]);
    expect(backoffMs(20, () => 1)).toBe(8000);
  });

  it("spreads clients that failed together", () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffMs(3)));
    expect(waits.size).toBeGreaterThan(40);
    for (const wait of waits) expect(wait).toBeGreaterThanOrEqual(500);
  });
});
