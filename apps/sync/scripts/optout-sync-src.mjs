#!/usr/bin/env node
// optout-sync from its TypeScript sources, through tsx (a devDependency): what the tests and
// `pnpm dev` run, so neither needs a build. The shipped bin (bin/optout-sync.mjs) runs dist/.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
