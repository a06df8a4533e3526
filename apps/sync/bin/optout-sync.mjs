#!/usr/bin/env node
// Runs the compiled daemon (dist/, from `pnpm build`); no TypeScript loader at run time. In this
// repository the tests and `pnpm dev` run the sources instead (scripts/optout-sync-src.mjs).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "optout-sync: dist/cli.js is missing; build it with `pnpm --filter @optout/sync build` " +
      "(or run the sources: node apps/sync/scripts/optout-sync-src.mjs <command>)\n",
  );
  process.exit(2);
}
// Stack traces of unexpected errors name the TypeScript sources (dist/*.js.map).
process.setSourceMapsEnabled(true);
await import(entry.href);
