/**
 * The code in the client's README and in docs/guides/check-before-send.md is the files in
 * examples/, which the package's typecheck compiles against the real SDK types: a block marked
 * `<!-- example: path -->` must equal that file, so the docs cannot drift from code that compiles.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../../", import.meta.url);
const DOCS = ["packages/client/README.md", "docs/guides/check-before-send.md"];
const MARKED_BLOCK = /<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g;

const blocks = DOCS.flatMap((doc) =>
  [...readFileSync(new URL(doc, ROOT), "utf8").matchAll(MARKED_BLOCK)].map((m) => ({
    name: `${doc} ← ${m[1]}`,
    example: m[1]!,
    code: m[2]!,
  })),
);

describe("docs show the typechecked examples", () => {
  it.each(blocks)("$name", ({ example, code }) => {
    expect(code, `copy ${example} into the block verbatim`).toBe(
      readFileSync(new URL(example, ROOT), "utf8"),
    );
  });

  it("every example is shown somewhere, and the guide shows Twilio and Vonage", () => {
    const shown = new Set(blocks.map((b) => b.example));
    const examples = readdirSync(new URL("../examples/", import.meta.url)).map(
      (file) => `packages/client/examples/${file}`,
    );
    expect([...shown].sort()).toEqual(examples.sort());
    const guide = blocks.filter((b) => b.name.startsWith("docs/guides/")).map((b) => b.example);
    expect(guide).toEqual(["packages/client/examples/twilio.ts", "packages/client/examples/vonage.ts"]);
  });
});
