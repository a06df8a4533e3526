// Stands in for zod's core/compile.js (`z.compile`, zod's ahead-of-time parser generator): see
// README.md here. It generates code with `new Function`, which Workers refuse, so in the Worker
// `compile()` always fell back to handing the schema back on the runtime parser; this does the
// same without the 29 KB generator. Nothing in the edge calls it.

/** @internal The sentinel a compiled fast path returns on failure (same symbol as zod's). */
export const INVALID = Symbol.for("zod.compile.invalid");

export class ZodCompileAsyncError extends Error {
  constructor(message = "z.compile does not support async refinements, transforms, or checks") {
    super(message);
    this.name = "ZodCompileAsyncError";
  }
}

export class ZodCompileUnsupportedError extends Error {
  readonly islandable: boolean;
  constructor(feature: string, islandable = true) {
    super(`z.compile does not support ${feature}; this schema must use the runtime parser`);
    this.name = "ZodCompileUnsupportedError";
    this.islandable = islandable;
  }
}

const unsupported = () => new ZodCompileUnsupportedError("code generation in a Cloudflare Worker");

/** Zod's documented fallback: the schema, unchanged, on the runtime parser (`strict` refuses instead). */
export function compile<T>(schema: T, options?: { strict?: boolean }): T {
  if (options?.strict) throw unsupported();
  return schema;
}

export function withParser(): never {
  throw unsupported();
}

export function compileFn(): never {
  throw unsupported();
}
