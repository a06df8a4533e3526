import { describe, expect, it } from "vitest";
import { ambiguousMember } from "./unambiguous-json.ts";

describe("ambiguousMember", () => {
  it.each([
    { name: "a scalar", text: "42" },
    { name: "an empty object", text: " { } " },
    { name: "the same key in sibling objects", text: '[{"a":1},{"a":2}]' },
    { name: "the same key at two depths", text: '{"a":{"a":{"a":1}}}' },
    { name: "keys that differ only in case", text: '{"a":1,"A":2}' },
    { name: "structure inside strings", text: '{"a":"{\\"a\\":1,\\"a\\":2}","b":"[,]:"}' },
    { name: "a string ending in a backslash", text: '{"a":"\\\\","b":"\\\\"}' },
    { name: "__proto__ as a value", text: '{"a":"__proto__","b":["__proto__"]}' },
    { name: "a key that merely contains __proto__", text: '{"__proto__x":1,"x__proto__":2}' },
    { name: "pretty-printed", text: JSON.stringify({ a: [1, { b: null, c: true }], d: "x" }, null, 2) },
  ])("accepts $name", ({ text }) => {
    JSON.parse(text);
    expect(ambiguousMember(text)).toBeNull();
  });

  it.each([
    { name: "a duplicate at the top", text: '{"a":1,"a":1}', message: 'duplicate key "a"' },
    { name: "a duplicate empty key", text: '{"":1,"":2}', message: 'duplicate key ""' },
    {
      name: "a duplicate spelled with an escape",
      text: '{"x":[{},{"reason":1,"re\\u0061son":2}]}',
      message: 'x.1: duplicate key "reason"',
    },
    {
      name: "a duplicate after a nested object",
      text: '{"a":{"b":1},"c":[1,2],"a":null}',
      message: 'duplicate key "a"',
    },
    { name: "__proto__ at the top", text: '{"__proto__":null}', message: 'key "__proto__" is not allowed' },
    {
      name: "__proto__ deep in an array",
      text: '[[1],[2,{"k":{"__proto__":{}}}]]',
      message: '1.1.k: key "__proto__" is not allowed',
    },
    {
      name: "__proto__ written with escapes",
      text: '{"\\u005f\\u005fproto__":1}',
      message: 'key "__proto__" is not allowed',
    },
    {
      name: "a long key, cut short",
      text: `{"${"k".repeat(100)}":1,"${"k".repeat(100)}":2}`,
      message: `duplicate key "${"k".repeat(64)}…"`,
    },
  ])("names $name", ({ text, message }) => {
    JSON.parse(text);
    expect(ambiguousMember(text)).toBe(message);
  });

  it("walks deep nesting without recursion", () => {
    const depth = 300_000;
    expect(ambiguousMember(`${"[".repeat(depth)}{"a":1,"a":2}${"]".repeat(depth)}`)).toMatch(
      /^0\.0\.0\..*\.0: duplicate key "a"$/,
    );
  });
});
