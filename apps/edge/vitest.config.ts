import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  // The same migrations `wrangler d1 migrations apply` runs; applied in test/apply-migrations.ts.
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.jsonc" },
        miniflare: {
          // Tests never read .dev.vars: they pin their own secrets.
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token",
            SYNC_TOKEN: "test-sync-token",
            EDGE_SECRET: "test-edge-secret",
            ENVIRONMENT: "test",
          },
        },
      }),
    ],
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      // Generous: these are behaviour tests, not timing tests, and CI machines have 2 shared cores
      // (a 1000-change batch took over 5 s under load). Speed lives in `pnpm bench`.
      testTimeout: 30_000,
      // The Worker's info-level JSON lines (one per request, one per cron run) are its contract with
      // its log pipeline, not test output; warnings and errors still show. VERBOSE_LOGS=1 shows all.
      onConsoleLog: (line: string) =>
        process.env.VERBOSE_LOGS || !line.startsWith('{"level":"info"') ? undefined : false,
    },
  };
});
