import type { ApiErrorCode } from "./types.ts";

/**
 * What went wrong, as a code to branch on:
 * - the API's own codes (`invalid_address`, `unauthorized`, `busy`, ...: the error envelope's `code`);
 * - `http_error`: an error status whose body is not the envelope (e.g. a proxy's page);
 * - `network_error`: no answer (connection refused or reset, DNS);
 * - `timeout`: no complete answer within `timeoutMs`.
 */
export type OptoutErrorCode = ApiErrorCode | "http_error" | "network_error" | "timeout";

export interface OptoutErrorInit {
  code: OptoutErrorCode;
  message: string;
  /** The HTTP status; 0 when there was no answer. */
  status: number;
  requestId?: string | undefined;
  cause?: unknown;
}

/** Every failure of an `OptoutClient` call: the API's `{ error: { code, message, requestId } }` and more. */
export class OptoutError extends Error {
  override readonly name = "OptoutError";
  readonly code: OptoutErrorCode;
  readonly status: number;
  /** The edge's request id (the envelope's `requestId`, else the `x-request-id` header), for support. */
  readonly requestId: string | undefined;

  constructor(init: OptoutErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
  }
}

/** The error an answer with a non-2xx status stands for. */
export function errorFromResponse(status: number, requestIdHeader: string | null, text: string): OptoutError {
  const error = envelopeOf(text);
  if (error) {
    return new OptoutError({
      status,
      code: error.code as ApiErrorCode,
      message: error.message,
      requestId: error.requestId ?? requestIdHeader ?? undefined,
    });
  }
  const excerpt = text.trim().slice(0, 200);
  return new OptoutError({
    status,
    code: "http_error",
    message: excerpt ? `HTTP ${status}: ${excerpt}` : `HTTP ${status}`,
    requestId: requestIdHeader ?? undefined,
  });
}

function envelopeOf(text: string): { code: string; message: string; requestId?: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (typeof error?.code !== "string" || typeof error.message !== "string") return undefined;
  return {
    code: error.code,
    message: error.message,
    ...(typeof error.requestId === "string" ? { requestId: error.requestId } : {}),
  };
}
