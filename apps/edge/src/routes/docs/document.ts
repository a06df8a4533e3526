import type { OpenAPIHono } from "@hono/zod-openapi";

/**
 * What the OpenAPI document says beyond the routes: its header and the security schemes. Used at
 * build time only, by scripts/openapi.ts, which generates assets/openapi.json from the routes'
 * own definitions (docs/adr/0012). The Worker serves that file and never builds the document.
 */

const description =
  "optout keeps the Do Not Contact list that every message must pass. Errors always have the " +
  "shape `{ error: { code, message, requestId } }`; every response carries `x-request-id`.";

/** `pnpm dev`'s edge: the server the committed document names; the Worker serves its own origin. */
export const DEV_SERVER = "http://127.0.0.1:8787";

export const documentConfig = {
  openapi: "3.1.0",
  info: {
    title: "optout edge API",
    version: "0.1.0",
    description,
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  servers: [{ url: DEV_SERVER }],
};

export function registerSecuritySchemes(registry: OpenAPIHono["openAPIRegistry"]): void {
  registry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An account API key, `Authorization: Bearer sk_live_...` (or `sk_test_...`).",
  });
  registry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The ADMIN_TOKEN secret; creates accounts.",
  });
  registry.registerComponent("securitySchemes", "syncToken", {
    type: "http",
    scheme: "bearer",
    description:
      "The SYNC_TOKEN secret; reads the change feed and applies changes from the primary database.",
  });
}
