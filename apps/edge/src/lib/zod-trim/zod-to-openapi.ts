// Stands in for @asteasolutions/zod-to-openapi, which @hono/zod-openapi imports: see README.md
// here. The Worker validates requests with the routes' zod schemas but never builds its OpenAPI
// document: scripts/openapi.ts generates it at build time, in Node, with the real library, and the
// Worker serves that file (routes/docs). So at run time:
//   - `.openapi(...)` (names, examples, descriptions) hands back the schema itself: that metadata
//     only ever feeds the document, never parsing;
//   - the registry `OpenAPIHono` fills as routes are declared records nothing;
//   - generating a document fails loudly instead of answering with an empty one.
import type { z } from "zod";

type ZodNamespace = { ZodType: { prototype: object } };

export function extendZodWithOpenApi(zod: ZodNamespace): void {
  const prototype = zod.ZodType.prototype as { openapi?: unknown };
  if (prototype.openapi) return;
  prototype.openapi = function openapi(this: z.ZodType) {
    return this;
  };
}

export function getOpenApiMetadata(): Record<string, never> {
  return {};
}

export class OpenAPIRegistry {
  readonly definitions: never[] = [];
  register<T>(_refId: string, schema: T): T {
    return schema;
  }
  registerParameter<T>(_refId: string, schema: T): T {
    return schema;
  }
  registerPath(): void {}
  registerWebhook(): void {}
  registerComponent(): void {}
}

class LeftOutGenerator {
  constructor() {
    throw new Error(
      "the OpenAPI document is generated at build time (apps/edge/scripts/openapi.ts), not in the Worker",
    );
  }
}

export { LeftOutGenerator as OpenApiGeneratorV3, LeftOutGenerator as OpenApiGeneratorV31 };
