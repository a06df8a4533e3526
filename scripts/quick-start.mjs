#!/usr/bin/env node
// Prints one command line of the README's Quick start block: `dev` (line 1) or `test` (line 2).
// CI runs the `test` line itself, so the README's promise is what CI checks.
import { readFileSync } from "node:fs";

const which = process.argv[2];
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const section = readme.split(/^## Quick start\s*$/m)[1];
const block = section?.match(/```[a-z]*\n([\s\S]*?)```/)?.[1];
const lines = block
  ?.split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
if (lines?.length !== 2) {
  console.error("README.md: the Quick start block must hold exactly two command lines");
  process.exit(1);
}
const line = !lines ? undefined : which === "dev" ? lines[0] : which === "test" ? lines[1] : undefined;
if (!line) {
  console.error("usage: quick-start.mjs dev|test");
  process.exit(2);
}
console.log(line);
