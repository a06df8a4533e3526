import { z } from "@hono/zod-openapi";
import { type DomainErrorCode, isDomainError } from "@optout/core";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error code the API answers with. Clients switch on `code`, never on `message`. */
export const ErrorCode = z.enum([
  "invalid_input",
  "invalid_address",
  "malformed_json",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "unknown_sender",
  "payload_too_large",
  "unsupported_media_type",
  "invalid_signature",
  "busy",
  "misconfigured",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The one error envelope of the whole API. */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** An error that already knows its HTTP status. Thrown anywhere; rendered by `onError`. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Core stays transport-free; this is the only place its error codes meet HTTP.
const DOMAIN_STATUS: Record<DomainErrorCode, ContentfulStatusCode> = {
  invalid_address: 400,
  invalid_input: 400,
  invalid_signature: 401,
  not_found: 404,
  conflict: 409,
  chain_broken: 500,
};

const DOMAIN_CODE: Record<DomainErrorCode, ErrorCode> = {
  invalid_address: "invalid_address",
  invalid_input: "invalid_input",
  invalid_signature: "invalid_signature",
  not_found: "not_found",
  conflict: "conflict",
  chain_broken: "internal",
};

/** Maps anything thrown to (status, code, message). Unknown errors become an opaque 500. */
export function classifyError(err: unknown): {
  status: ContentfulStatusCode;
  code: ErrorCode;
  message: string;
} {
  if (err instanceof ApiError) return { status: err.status, code: err.code, message: err.message };
  if (isDomainError(err))
    return { status: DOMAIN_STATUS[err.code], code: DOMAIN_CODE[err.code], message: err.message };
  // hono's own HTTPException (e.g. from a validator); keep its status, never its internals.
  if (err instanceof Error && "getResponse" in err && "status" in err && typeof err.status === "number") {
    const status = err.status as ContentfulStatusCode;
    if (status === 400) return { status, code: "invalid_input", message: err.message };
    if (status === 401) return { status, code: "unauthorized", message: err.message };
    if (status === 413) return { status, code: "payload_too_large", message: err.message };
    if (status === 415) return { status, code: "unsupported_media_type", message: err.message };
  }
  return { status: 500, code: "internal", message: "internal error" };
}

/** An error response of the OpenAPI document: the envelope, with what the status means here. */
export const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorEnvelope } },
});

/** Spread into every route's `responses`. */
export const commonErrors = {
  400: errorResponse("Invalid input (`invalid_input`, `invalid_address`, `malformed_json`)"),
  500: errorResponse("Internal error"),
} as const;

/** Spread into every authenticated route's `responses`. */
export const authErrors = {
  401: errorResponse("Missing, malformed, unknown or revoked credentials (`unauthorized`)"),
} as const;

/** Spread into every route that reads a JSON body. */
export const bodyErrors = {
  413: errorResponse("Body larger than 1 MiB (`payload_too_large`)"),
  415: errorResponse("Content-Type is not application/json (`unsupported_media_type`)"),
} as const;

/** Spread into routes whose writes can meet heavy contention. */
export const writeErrors = {
  503: errorResponse("Too much concurrent writing; retry (`busy`)"),
} as const;
