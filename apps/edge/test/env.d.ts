import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Set in vitest.config.ts from readD1Migrations. */
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
