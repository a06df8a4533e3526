#!/usr/bin/env node
// After `pnpm --filter @optout/edge build` (the production bundle in dist/, with its metafile):
// fails when the bundle outgrows its budget, or when a package we keep out of it comes back.
//   - ≤ 200 KiB gzip (issue 12; BENCHMARKS.md, "Edge bundle size"), measured as wrangler reports it
//     (gzip at zlib's default level), libphonenumber-js/max included;
//   - no drizzle-orm (the Worker speaks SQL, src/db/client.ts; drizzle declares the tables for
//     drizzle-kit only), no OpenAPI generator and no zod JSON Schema output (ADR 0012,
//     src/lib/zod-trim): a value import of any of them would pull it back in silently.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const BUDGET_KIB = 200;
const KEPT_OUT = [
  { pattern: /\/drizzle-orm\//, why: "drizzle-orm (import the tables' types only: `import type`)" },
  { pattern: /\/@asteasolutions\/zod-to-openapi\//, why: "the OpenAPI generator (wrangler.jsonc alias)" },
  {
    pattern: /\/zod\/v4\/core\/(json-schema-processors|to-json-schema)\.js$/,
    why: "zod's JSON Schema output",
  },
];

const bundle = readFileSync(`${DIST}index.js`);
const metafile = JSON.parse(readFileSync(`${DIST}meta.json`, "utf8"));
const kib = (bytes) => (bytes / 1024).toFixed(2);
const gzip = gzipSync(bundle).length;

const problems = [];
if (gzip > BUDGET_KIB * 1024) problems.push(`${kib(gzip)} KiB gzip is over the ${BUDGET_KIB} KiB budget`);
const inputs = Object.keys(metafile.inputs);
for (const { pattern, why } of KEPT_OUT) {
  const found = inputs.filter((path) => pattern.test(path));
  if (found.length)
    problems.push(`${why} is in the bundle again: ${found.length} module(s), e.g. ${found[0]}`);
}

console.log(`edge bundle: ${kib(bundle.length)} KiB, ${kib(gzip)} KiB gzip (budget ${BUDGET_KIB} KiB)`);
if (problems.length) {
  for (const problem of problems) console.error(`bundle-budget: ${problem}`);
  process.exit(1);
}
