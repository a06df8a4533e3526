import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanText, findUnstorableText, textProblem } from "../src/storable-text.ts";

describe("textProblem", () => {
  it.each([
    { name: "plain ASCII", value: "STOP", problem: null },
    { name: "emoji (a surrogate pair)", value: "stop 🛑", problem: null },
    { name: "other control characters", value: "a\tb\u0001", problem: null },
    { name: "NUL", value: "x\u0000y", problem: /U\+0000/ },
    { name: "a lone high surrogate", value: "STOP\uD800", problem: /U\+D800/ },
    { name: "a lone low surrogate", value: "\uDC00STOP", problem: /U\+DC00/ },
    { name: "a reversed pair", value: "\uDE00\uD83D", problem: /unpaired/ },
  ])("$name", ({ value, problem }) => {
    const found = textProblem(value);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });

  it("is null exactly when UTF-8 encoding round-trips the string and it has no NUL", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (value) => {
        const roundTrips = new TextDecoder().decode(new TextEncoder().encode(value)) === value;
        expect(textProblem(value) === null).toBe(roundTrips && !value.includes("\u0000"));
      }),
    );
  });
});

describe("cleanText", () => {
  it("removes NUL and unpaired surrogates and keeps everything else", () => {
    expect(cleanText("ST\u0000OP\uD800")).toBe("STOP");
    expect(cleanText("stop 🛑")).toBe("stop 🛑");
  });

  it("always gives storable text, and leaves storable text alone", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (value) => {
        const cleaned = cleanText(value);
        expect(textProblem(cleaned)).toBeNull();
        if (textProblem(value) === null) expect(cleaned).toBe(value);
      }),
    );
  });
});

describe("findUnstorableText", () => {
  it("names the path of the first bad value, in zod's dotted form", () => {
    expect(findUnstorableText({ items: [{ a: "ok" }, { reason: "x\u0000" }] })).toMatchObject({
      path: "items.1.reason",
    });
    expect(findUnstorableText({ scope: { type: "sender", sender: "\uD800" } })?.path).toBe("scope.sender");
    expect(findUnstorableText("\u0000")?.path).toBe("(body)");
  });

  it("checks member names too", () => {
    expect(findUnstorableText(JSON.parse('{"evidence":{"a\\u0000":1}}'))).toMatchObject({
      path: "evidence.a\u0000",
      problem: expect.stringMatching(/^member name/),
    });
  });

  it("finds nothing in storable JSON, and finds the bad string anywhere in any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: "binary" }), (json, bad) => {
        const storable = JSON.parse(
          JSON.stringify(json, (_k, v) => (typeof v === "string" ? cleanText(v) : v)),
        );
        expect(findUnstorableText(storable)).toBeNull();
        expect(findUnstorableText({ wrapped: [storable, bad] }) === null).toBe(textProblem(bad) === null);
      }),
    );
  });

  it("survives deep nesting", () => {
    let deep: unknown = "x\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findUnstorableText(deep)?.problem).toMatch(/U\+0000/);
  });
});
