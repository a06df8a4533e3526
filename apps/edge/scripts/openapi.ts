/**
 * Generates the edge's OpenAPI 3.1 document, assets/openapi.json, from the routes' own
 * definitions: the same hono app, routes and zod schemas `wrangler dev` and production run, loaded
 * in Node with the real @asteasolutions/zod-to-openapi (the Worker's bundle leaves it out; see
 * src/lib/zod-trim and docs/adr/0012). The Worker serves this file at GET /openapi.json and
 * renders GET /docs from it. Its server is `pnpm dev`'s edge; the Worker answers with its own.
 *
 *   pnpm --filter @optout/edge openapi            write it
 *   pnpm --filter @optout/edge openapi --check    write nothing; exit 1 if it is stale
 *
 * Runs under `node --import tsx --import ./scripts/cloudflare-workers-stub.mjs` (the package script).
 * CI runs it through scripts/check-openapi.mjs, which also lints the result and regenerates the
 * client's types from it.
 */
// @ts-expect-error a plain ESM helper without declarations, shared with the client's generator.
import { writeGeneratedFile } from "../../../scripts/lib/generated-file.mjs";
import { createApp } from "../src/lib/create-app.ts";
import { documentConfig, registerSecuritySchemes } from "../src/routes/docs/document.ts";
import { routers } from "../src/routes/index.ts";

const TARGET = "apps/edge/assets/openapi.json";

const app = createApp();
for (const router of routers) app.route("/", router);
registerSecuritySchemes(app.openAPIRegistry);
const document = app.getOpenAPI31Document(documentConfig);

writeGeneratedFile(TARGET, `${JSON.stringify(document, null, 2)}\n`, "pnpm --filter @optout/edge openapi");
