import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Set in vitest.config.ts from readD1Migrations. */
      TEST_MIGRATIONS: D1Migration[];
      /** The send-API stand-in's origin (test/send-api-standin.ts), set in vitest.config.ts. */
      SEND_API_STANDIN_URL: string;
      /** Set in vitest.config.ts: the local stand-in for Amazon SNS (test/stand-ins/amazon-sns.ts). */
      SNS_BASE_URL_OVERRIDE: string;
    }
  }
}
