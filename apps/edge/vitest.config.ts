import { createServer } from "node:net";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { startSnsStandIn } from "./test/stand-ins/amazon-sns.ts";

/** A free local port for the send-API stand-in (test/send-api-standin.ts), chosen once per run. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export default defineConfig(async () => {
  // The same migrations `wrangler d1 migrations apply` runs; applied in test/apply-migrations.ts.
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  // The providers' send APIs are stood in by a local server that records what it gets.
  process.env.SEND_API_STANDIN_PORT ??= String(await freePort());
  const standIn = `http://127.0.0.1:${process.env.SEND_API_STANDIN_PORT}`;
  // A local stand-in for Amazon SNS (certificates, subscription confirmations): see test/stand-ins.
  const sns = await startSnsStandIn();
  // wrangler.jsonc's `alias` (modules left out of the Worker's bundle, src/lib/zod-trim), applied
  // here too: the tests run the modules the deployed Worker runs.
  const alias: Record<string, string> =
    unstable_readConfig({ config: path.join(import.meta.dirname, "wrangler.jsonc") }).alias ?? {};
  return {
    resolve: {
      alias: Object.entries(alias).map(([find, replacement]) => ({
        find,
        replacement: path.resolve(import.meta.dirname, replacement),
      })),
    },
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
            SEND_API_STANDIN_URL: standIn,
            VONAGE_API_BASE_URL: `${standIn}/vonage`,
            TELNYX_API_BASE_URL: `${standIn}/telnyx`,
            INFOBIP_API_BASE_URL: `${standIn}/infobip`,
            SINCH_API_BASE_URL: `${standIn}/sinch`,
            BANDWIDTH_API_BASE_URL: `${standIn}/bandwidth`,
            BIRD_API_BASE_URL: `${standIn}/bird`,
            SNS_BASE_URL_OVERRIDE: sns.url,
          },
        },
      }),
    ],
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      globalSetup: ["./test/send-api-standin.ts"],
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
