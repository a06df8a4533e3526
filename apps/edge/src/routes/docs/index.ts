import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { publicOrigin } from "../../config.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { renderDocs } from "./render.ts";

const description =
  "optout keeps the Do Not Contact list that every message must pass. Errors always have the " +
  "shape `{ error: { code, message, requestId } }`; every response carries `x-request-id`.";

function documentConfig(c: Context<AppEnv>) {
  const server = publicOrigin(c.var.config, c.req.url);
  return {
    openapi: "3.1.0",
    info: {
      title: "optout edge API",
      version: "0.1.0",
      description,
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [{ url: server }],
  };
}

/** GET /openapi.json and GET /docs, built from the routes registered on `app`. Call last. */
export function registerDocs(app: OpenAPIHono<AppEnv>) {
  const registry = app.openAPIRegistry;
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

  app.doc31("/openapi.json", documentConfig);
  app.get("/docs", (c) => c.html(renderDocs(app.getOpenAPI31Document(documentConfig(c)) as never)));
}
