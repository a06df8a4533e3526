/**
 * What can go wrong while syncing, and whether waiting and trying again can fix it.
 *
 * Retryable: the edge or the database is briefly unreachable, slow, overloaded or restarting,
 * or another consumer moved the cursor under us. Fatal: retrying cannot help and may hide a
 * real problem — a rejected token, a gap in the feed, a hash chain that does not verify.
 */

/** Closed set of labels, used in logs and (later) as the `kind` label of error metrics. */
export type ErrorKind =
  | "config"
  | "edge_network"
  | "edge_timeout"
  | "edge_unavailable"
  | "edge_rejected"
  | "edge_unauthorized"
  | "edge_bad_response"
  | "database_unavailable"
  | "database_timeout"
  | "database"
  | "cursor_conflict"
  | "seq_gap"
  | "chain_broken"
  | "unknown";

/** Process exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  integrity: 3,
  /** `verify` found the edge and the primary database different. */
  differences: 4,
} as const;

export class SyncError extends Error {
  override readonly name: string = "SyncError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly retryable: boolean,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ConfigError extends SyncError {
  override readonly name = "ConfigError";
  constructor(message: string) {
    super("config", message, false);
  }
}

/** The feed cannot be applied as served: a missing seq or a broken hash chain. Never retried. */
export class IntegrityError extends SyncError {
  override readonly name = "IntegrityError";
  constructor(kind: "seq_gap" | "chain_broken", message: string, details: Record<string, unknown>) {
    super(kind, message, false, details);
  }
}

/** The edge answered with a status that is not 2xx. */
export class EdgeHttpError extends SyncError {
  override readonly name = "EdgeHttpError";
  constructor(
    readonly status: number,
    message: string,
    /** The response body, for callers that read the error envelope (which change was refused). */
    readonly body = "",
  ) {
    const kind: ErrorKind =
      status === 401 || status === 403
        ? "edge_unauthorized"
        : status >= 500 || status === 429 || status === 408
          ? "edge_unavailable"
          : "edge_rejected";
    super(kind, message, kind === "edge_unavailable", { status });
  }
}

/** Another consumer advanced the cursor since we read it; re-read it and carry on. */
export class CursorConflictError extends SyncError {
  override readonly name = "CursorConflictError";
  constructor(cursor: string, expectedSeq: number) {
    super(
      "cursor_conflict",
      `cursor "${cursor}" is no longer at ${expectedSeq}: another optout-sync process is applying the same feed`,
      true,
      { cursor, expectedSeq },
    );
  }
}

// SQLSTATE classes and codes that mean "the server is (temporarily) not there or not able".
const RETRYABLE_SQLSTATE_CLASSES = ["08", "53", "57P"];
const RETRYABLE_SQLSTATES = new Set(["40001", "40P01", "55P03"]);
const RETRYABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
// 57014 query_canceled: our statement_timeout fired (the transaction rolled back; try again).
const PG_TIMEOUT_SQLSTATE = "57014";
// node-postgres's client-side query_timeout: the connection hung mid-query (it is then closed).
const PG_READ_TIMEOUT_MESSAGE = /^Query read timeout$/;
const PG_CONNECTION_MESSAGES = [
  /connection terminated/i,
  /connection (?:is )?closed/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
];

function* causes(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

export interface Classification {
  kind: ErrorKind;
  retryable: boolean;
}

/**
 * Classifies any thrown value. Errors are often wrapped (drizzle wraps driver errors, fetch
 * wraps socket errors), so the whole `cause` chain is inspected.
 */
export function classifyError(error: unknown): Classification {
  for (const e of causes(error)) {
    if (e instanceof SyncError) return { kind: e.kind, retryable: e.retryable };
  }
  for (const e of causes(error)) {
    if (typeof e !== "object" || e === null) continue;
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    if (name === "TimeoutError") return { kind: "edge_timeout", retryable: true };
    if (code === PG_TIMEOUT_SQLSTATE) return { kind: "database_timeout", retryable: true };
    if (typeof message === "string" && PG_READ_TIMEOUT_MESSAGE.test(message)) {
      return { kind: "database_timeout", retryable: true };
    }
    if (typeof code === "string") {
      if (/^[0-9A-Z]{5}$/.test(code)) {
        const retryable =
          RETRYABLE_SQLSTATES.has(code) || RETRYABLE_SQLSTATE_CLASSES.some((c) => code.startsWith(c));
        return { kind: retryable ? "database_unavailable" : "database", retryable };
      }
      // The edge client wraps its own transport errors, so a bare socket error is the database's.
      if (RETRYABLE_NODE_CODES.has(code)) return { kind: "database_unavailable", retryable: true };
    }
    if (typeof message === "string" && PG_CONNECTION_MESSAGES.some((m) => m.test(message))) {
      return { kind: "database_unavailable", retryable: true };
    }
  }
  // `fetch` reports every transport failure as `TypeError: fetch failed`.
  for (const e of causes(error)) {
    if (e instanceof TypeError && e.message === "fetch failed")
      return { kind: "edge_network", retryable: true };
  }
  return { kind: "unknown", retryable: false };
}

/** Whether the error is the stop signal cutting a wait short, not a failure. */
export function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) && (error as { name?: string })?.name === "AbortError";
}
