// Stands in for zod's classic/from-json-schema.js (`z.fromJSONSchema`, JSON Schema → zod): see
// README.md here. The edge builds its schemas in code and never converts JSON Schema at run time.
export function fromJSONSchema(): never {
  throw new Error("z.fromJSONSchema is left out of the optout Worker's bundle (apps/edge/src/lib/zod-trim)");
}
