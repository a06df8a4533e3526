import { describe, expect, it } from "vitest";
import {
  CursorConflictError,
  classifyError,
  EdgeHttpError,
  IntegrityError,
  SyncError,
} from "../src/errors.ts";
import { createLogger, describeError } from "../src/log.ts";
import { backoffDelay, withRetry } from "../src/retry.ts";

const pgError = (code: string, message = "pg") => Object.assign(new Error(message), { code });
const wrapped = (cause: unknown) =>
  Object.assign(new Error("Failed query: insert ...\nparams: +14155550100"), { cause });

describe("error classification", () => {
  it.each([
    { name: "edge 503", error: new EdgeHttpError(503, "x"), kind: "edge_unavailable", retryable: true },
    { name: "edge 429", error: new EdgeHttpError(429, "x"), kind: "edge_unavailable", retryable: true },
    { name: "edge 401", error: new EdgeHttpError(401, "x"), kind: "edge_unauthorized", retryable: false },
    { name: "edge 400", error: new EdgeHttpError(400, "x"), kind: "edge_rejected", retryable: false },
    { name: "seq gap", error: new IntegrityError("seq_gap", "x", {}), kind: "seq_gap", retryable: false },
    {
      name: "broken chain",
      error: new IntegrityError("chain_broken", "x", {}),
      kind: "chain_broken",
      retryable: false,
    },
    {
      name: "cursor moved",
      error: new CursorConflictError("c", 1),
      kind: "cursor_conflict",
      retryable: true,
    },
    {
      name: "PG admin shutdown (57P01)",
      error: wrapped(pgError("57P01")),
      kind: "database_unavailable",
      retryable: true,
    },
    {
      name: "PG cannot connect now (57P03)",
      error: pgError("57P03"),
      kind: "database_unavailable",
      retryable: true,
    },
    {
      name: "PG connection failure (08006)",
      error: pgError("08006"),
      kind: "database_unavailable",
      retryable: true,
    },
    {
      name: "PG serialization failure",
      error: wrapped(pgError("40001")),
      kind: "database_unavailable",
      retryable: true,
    },
    {
      name: "PG statement_timeout (57014)",
      error: wrapped(pgError("57014")),
      kind: "database_timeout",
      retryable: true,
    },
    {
      name: "node-postgres query_timeout (a connection hung mid-query)",
      error: wrapped(new Error("Query read timeout")),
      kind: "database_timeout",
      retryable: true,
    },
    {
      name: "PG undefined table (42P01)",
      error: wrapped(pgError("42P01")),
      kind: "database",
      retryable: false,
    },
    { name: "PG unique violation", error: pgError("23505"), kind: "database", retryable: false },
    {
      name: "server refused connection",
      error: pgError("ECONNREFUSED"),
      kind: "database_unavailable",
      retryable: true,
    },
    {
      name: "connection terminated",
      error: wrapped(new Error("Connection terminated unexpectedly")),
      kind: "database_unavailable",
      retryable: true,
    },
    { name: "fetch failed", error: new TypeError("fetch failed"), kind: "edge_network", retryable: true },
    { name: "a bug", error: new RangeError("oops"), kind: "unknown", retryable: false },
  ])("$name → $kind", ({ error, kind, retryable }) => {
    expect(classifyError(error)).toEqual({ kind, retryable });
  });

  it("never logs a failed query's parameters", () => {
    const described = describeError(wrapped(pgError("23505", "duplicate key")));
    expect(described.message).toBe("database query failed: duplicate key");
    expect(JSON.stringify(described)).not.toContain("+1415");
  });
});

describe("backoff", () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 5000, maxAttempts: 10 };
  it.each([0, 1, 2, 3, 10, 50])("attempt %i stays within [0, min(cap, base·2^n))", (attempt) => {
    const ceiling = Math.min(5000, 100 * 2 ** attempt);
    expect(backoffDelay(attempt, policy, () => 0)).toBe(0);
    expect(backoffDelay(attempt, policy, () => 0.999999)).toBe(ceiling - 1);
  });

  it("retries retryable errors, then succeeds", async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw new EdgeHttpError(503, "busy");
        return "done";
      },
      { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 5 },
      { log: createLogger("silent") },
    );
    expect([result, calls]).toEqual(["done", 3]);
  });

  it("does not retry a fatal error", async () => {
    let calls = 0;
    const failing = withRetry(
      async () => {
        calls++;
        throw new SyncError("edge_unauthorized", "no", false);
      },
      { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 5 },
      { log: createLogger("silent") },
    );
    await expect(failing).rejects.toThrow("no");
    expect(calls).toBe(1);
  });

  it("returns undefined when stopped during a backoff wait", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    const started = Date.now();
    const result = await withRetry(
      async () => {
        throw new EdgeHttpError(503, "busy");
      },
      { baseDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: Number.POSITIVE_INFINITY },
      { log: createLogger("silent"), signal: stop.signal },
    );
    expect(result).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
