#!/usr/bin/env node
// `prepack` of the published packages (@optout/core, @optout/client), run in the package's folder
// by `pnpm pack` and `pnpm publish` (so by `changeset publish`): a clean dist/ from
// tsconfig.build.json. Only pnpm makes a correct tarball from this workspace — it applies
// `publishConfig` (exports → dist/*.js and .d.ts) and turns `catalog:` and `workspace:` ranges
// into versions — so npm and yarn are refused here rather than allowed to ship a package whose
// exports point at sources it does not contain.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const agent = process.env.npm_config_user_agent ?? "";
if (!agent.startsWith("pnpm/")) {
  console.error(
    `prepack: pack and publish with pnpm (\`pnpm pack\`, \`pnpm publish\`), not ${agent.split(" ")[0] || "this tool"}: ` +
      "only pnpm applies publishConfig and resolves catalog: versions.",
  );
  process.exit(1);
}
rmSync("dist", { recursive: true, force: true });
const tsc = createRequire(join(process.cwd(), "package.json")).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
