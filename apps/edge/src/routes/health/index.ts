import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../lib/create-app.ts";
import { commonErrors } from "../../lib/errors.ts";
import { jsonContent } from "../../lib/openapi.ts";

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  security: [],
  tags: ["meta"],
  summary: "Liveness",
  description: "Answers `{ ok: true }` while the Worker runs and its configuration is valid.",
  responses: {
    200: jsonContent(z.object({ ok: z.literal(true) }), "The Worker is up"),
    ...commonErrors,
  },
});

export const healthRoutes = createRouter().openapi(health, (c) => c.json({ ok: true as const }, 200));
