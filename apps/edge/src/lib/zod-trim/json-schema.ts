// Stands in for zod's JSON Schema output, two modules at once: core/json-schema-processors.js
// (`z.toJSONSchema` and the per-type processors every classic schema points at) and
// core/to-json-schema.js (the traversal they share). See README.md here. The Worker never turns a
// schema into JSON Schema: its OpenAPI document is generated at build time, in Node, with the real
// modules (scripts/openapi.ts), and served as a static asset. Anything that still asks fails loudly.

function leftOut(): never {
  throw new Error(
    "zod's JSON Schema output is left out of the optout Worker's bundle (apps/edge/src/lib/zod-trim)",
  );
}

// core/to-json-schema.js. The two factories run when a schema's `~standard` or `toJSONSchema` is
// read, so they must return a function; it is the call that fails.
export const initializeContext = leftOut;
export const handleUnrepresentable = leftOut;
export const processSchema = leftOut;
export { processSchema as process };
export const extractDefs = leftOut;
export const finalize = leftOut;
export const createToJSONSchemaMethod = () => leftOut;
export const createStandardJSONSchemaMethod = () => leftOut;

// core/json-schema-processors.js. Classic schemas store a closure over these; the closure runs only
// when JSON Schema is asked for. `aggregateChecks` backs the derived `minLength`, `maxLength` and
// `format` getters of string, number and bigint schemas, which nothing in the Worker reads.
export const toJSONSchema = leftOut;
export const aggregateChecks = leftOut;
export const allProcessors = {};
export const stringProcessor = leftOut;
export const numberProcessor = leftOut;
export const booleanProcessor = leftOut;
export const bigintProcessor = leftOut;
export const symbolProcessor = leftOut;
export const nullProcessor = leftOut;
export const undefinedProcessor = leftOut;
export const voidProcessor = leftOut;
export const neverProcessor = leftOut;
export const anyProcessor = leftOut;
export const unknownProcessor = leftOut;
export const dateProcessor = leftOut;
export const enumProcessor = leftOut;
export const literalProcessor = leftOut;
export const nanProcessor = leftOut;
export const templateLiteralProcessor = leftOut;
export const fileProcessor = leftOut;
export const successProcessor = leftOut;
export const customProcessor = leftOut;
export const functionProcessor = leftOut;
export const transformProcessor = leftOut;
export const mapProcessor = leftOut;
export const setProcessor = leftOut;
export const arrayProcessor = leftOut;
export const objectProcessor = leftOut;
export const unionProcessor = leftOut;
export const intersectionProcessor = leftOut;
export const tupleProcessor = leftOut;
export const recordProcessor = leftOut;
export const nullableProcessor = leftOut;
export const nonoptionalProcessor = leftOut;
export const defaultProcessor = leftOut;
export const prefaultProcessor = leftOut;
export const catchProcessor = leftOut;
export const pipeProcessor = leftOut;
export const readonlyProcessor = leftOut;
export const promiseProcessor = leftOut;
export const optionalProcessor = leftOut;
export const lazyProcessor = leftOut;
