import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ZodError } from "zod";
import { readConfig } from "../config.ts";
import { createDb } from "../db/client.ts";
import type { AppEnv } from "./app-env.ts";
import { ApiError, classifyError, type ErrorEnvelope } from "./errors.ts";
import { log, safeErrorText } from "./log.ts";
import { pickRequestId } from "./request-id.ts";

/** "items.3.address: Invalid input; limit: Too big" — names the path, never echoes the value. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ");
}

export function errorBody(
  c: Context<AppEnv>,
  code: ErrorEnvelope["error"]["code"],
  message: string,
): ErrorEnvelope {
  return { error: { code, message, requestId: c.var.requestId ?? "unknown" } };
}

/** A router for one resource. The hook turns every zod failure into the one error envelope. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    strict: true,
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError(400, "invalid_input", describeZodError(result.error));
      }
    },
  });
}

/** The root app: request id, config, db, request log, 404 and error handling. */
export function createApp() {
  const app = createRouter();

  app.use(async (c, next) => {
    const started = Date.now();
    const requestId = pickRequestId(c.req.raw.headers);
    c.set("requestId", requestId);
    try {
      c.set("config", readConfig(c.env));
      c.set("db", createDb(c.env.DB));
      await next();
    } catch (err) {
      // Errors below are rendered where they happen; this catches only this middleware's own.
      c.res = renderError(err, c);
    }
    c.header("x-request-id", requestId);
    // Workers Logs records every invocation (method, URL, status, duration) by itself. Our line
    // adds the request id, route pattern and account: kept for every change and every refusal,
    // left out for successful reads — the check and the page, the hottest paths, where the line
    // cost 12–27 % of a request's CPU (BENCHMARKS.md) and told the platform's log nothing new.
    if (isQuietRead(c.req.method, c.res.status)) return;
    log.info("request", {
      requestId,
      method: c.req.method,
      route: c.var.unmatched ? null : c.req.routePath,
      status: c.res.status,
      durationMs: Date.now() - started,
      accountId: c.var.principal?.accountId ?? null,
    });
  });

  app.notFound((c) => {
    c.set("unmatched", true);
    return c.json(errorBody(c, "not_found", `no route for ${c.req.method} ${c.req.path}`), 404);
  });

  app.onError(renderError);

  return app;
}

/** A read that succeeded: no request line of our own (see above). */
export const isQuietRead = (method: string, status: number) =>
  (method === "GET" || method === "HEAD") && status < 400;

/** The single place an error becomes an HTTP response. */
export function renderError(err: unknown, c: Context<AppEnv>): Response {
  const { status, code, message } = classifyError(err);
  if (status >= 500) {
    // Driver messages can quote bound values (addresses, message text): log a redacted form
    // and no stack (its first line repeats the message).
    log.error("unhandled_error", {
      requestId: c.var.requestId,
      code,
      error: safeErrorText(err),
      cause: err instanceof Error && err.cause !== undefined ? safeErrorText(err.cause) : undefined,
    });
  }
  // A 503 is "not now": say when to come back (providers and the client library honour it).
  if (status === 503) c.header("Retry-After", "1");
  return c.json(errorBody(c, code, message), status);
}
