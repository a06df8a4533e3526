#!/usr/bin/env node
// CI: the edge's OpenAPI document and the client types generated from it.
//   1. Regenerates apps/edge/assets/openapi.json from the Worker's routes (`pnpm --filter
//      @optout/edge openapi`), then packages/client/src/generated/openapi.ts from it (`pnpm --filter
//      @optout/client generate`, openapi-typescript).
//   2. Lints the document with Redocly CLI (rules in redocly.yaml): any error fails the run.
//   3. Fails if step 1 changed what is committed (`git diff --exit-code`): a route changed and
//      nobody regenerated the client.
// `--lint-only` runs step 2 alone (`pnpm lint:openapi`).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GENERATED = ["apps/edge/assets/openapi.json", "packages/client/src/generated/openapi.ts"];
const GENERATORS = [
  {
    cwd: "apps/edge",
    args: ["--import", "tsx", "--import", "./scripts/cloudflare-workers-stub.mjs", "scripts/openapi.ts"],
  },
  { cwd: "packages/client", args: ["--import", "tsx", "scripts/generate.ts"] },
];
const lintOnly = process.argv.includes("--lint-only");

const read = (path) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), "utf8") : null);
const before = GENERATED.map(read);

if (!lintOnly) {
  for (const { cwd, args } of GENERATORS) {
    console.log(`+ ${cwd}: node ${args.join(" ")}`);
    execFileSync(process.execPath, args, { cwd: join(ROOT, cwd), stdio: "inherit" });
  }
}

console.log("+ redocly lint (redocly.yaml)");
try {
  execFileSync(join(ROOT, "node_modules/.bin/redocly"), ["lint", "--format=summary"], {
    cwd: ROOT,
    stdio: "inherit",
    // No telemetry or update check: CI reaches package registries only.
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
} catch {
  console.error("check-openapi: the edge's OpenAPI document has lint errors (above)");
  process.exit(1);
}

if (lintOnly) process.exit(0);

const changed = GENERATED.filter((path, i) => read(path) !== before[i]);
let gitDiffFailed = false;
try {
  execFileSync("git", ["diff", "--exit-code", "--stat", "--", ...GENERATED], { cwd: ROOT, stdio: "inherit" });
} catch {
  gitDiffFailed = true;
}
if (changed.length || gitDiffFailed) {
  console.error(
    `check-openapi: generated files are stale (${(changed.length ? changed : GENERATED).join(", ")}): ` +
      "run `pnpm --filter @optout/edge openapi && pnpm --filter @optout/client generate` and commit the result",
  );
  process.exit(1);
}
console.log("check-openapi: the document lints and the generated client types are up to date");
