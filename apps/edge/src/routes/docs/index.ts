import type { OpenAPIHono } from "@hono/zod-openapi";
import { publicOrigin } from "../../config.ts";
import type { AppEnv } from "../../lib/app-env.ts";
import { type Document, renderDocs } from "./render.ts";

/**
 * GET /openapi.json and GET /docs. The document is generated at build time from the routes'
 * definitions (scripts/openapi.ts → assets/openapi.json, checked fresh in CI) and reaches the
 * Worker as a static asset, so neither the generator nor the document's text is in the bundle
 * (docs/adr/0012). Served with this deployment's public origin as its server.
 */
export function registerDocs(app: OpenAPIHono<AppEnv>) {
  app.get("/openapi.json", async (c) => {
    const document = await builtDocument(c.env);
    return c.json({ ...document, servers: [{ url: publicOrigin(c.var.config, c.req.url) }] });
  });
  app.get("/docs", async (c) => c.html(renderDocs(await builtDocument(c.env))));
}

/** Read once per isolate: the file cannot change under a running Worker. */
let document: Promise<Document> | undefined;

function builtDocument(env: Env): Promise<Document> {
  if (!document) {
    document = env.ASSETS.fetch("https://assets.invalid/openapi.json").then(async (res) => {
      if (!res.ok)
        throw new Error(`the built OpenAPI document is missing (assets/openapi.json: ${res.status})`);
      return (await res.json()) as Document;
    });
    // A failed read is not remembered: the next request tries again.
    document.catch(() => {
      document = undefined;
    });
  }
  return document;
}
