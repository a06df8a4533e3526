import { resolve } from "node:path";
import { MAX_PAGE } from "@optout/core";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const integer = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);

/**
 * Every environment variable the daemon reads, with its default. The README's configuration
 * table mirrors this schema; keep them in step.
 */
export const Env = z.object({
  EDGE_URL: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
    .default("http://127.0.0.1:8787")
    .transform((u) => u.replace(/\/+$/, "")),
  /** Lets EDGE_URL be plain http:// to a host that is not loopback (SYNC_TOKEN then travels in clear). */
  EDGE_ALLOW_HTTP: z.stringbool({ error: "must be true or false" }).default(false),
  SYNC_TOKEN: z.string().trim().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\//, "must start with postgres:// or postgresql://")
    .optional(),
  SYNC_DATA_DIR: z.string().default(".data"),
  /** PostgreSQL `statement_timeout` of the daemon's sessions (and a client-side read timeout); 0 = off. */
  PG_STATEMENT_TIMEOUT_MS: integer(0, 3_600_000, 60_000),
  BATCH_SIZE: integer(1, MAX_PAGE, MAX_PAGE),
  POLL_INTERVAL_MS: integer(50, 3_600_000, 1000),
  APPLY_MAX_EVENTS: integer(1, 10_000, 5000),
  REQUEST_TIMEOUT_MS: integer(100, 600_000, 30_000),
  RETRY_MAX_DELAY_MS: integer(100, 600_000, 30_000),
  SHUTDOWN_TIMEOUT_MS: integer(100, 600_000, 10_000),
  /** The HTTP port for /health, /ready and /metrics; 0 turns it off. METRICS_PORT is an alias. */
  HTTP_PORT: integer(0, 65_535, 9464),
  METRICS_PORT: integer(0, 65_535, 9464).optional(),
  HTTP_HOST: z.string().trim().min(1).default("127.0.0.1"),
  READY_MAX_POLL_AGE_MS: integer(1000, 3_600_000, 30_000),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
});
export type Env = z.infer<typeof Env>;

export type DatabaseTarget =
  | {
      kind: "postgres";
      url: string;
      /**
       * Server-side `statement_timeout` of every session, plus a client-side read timeout a
       * little above it (a connection that hangs mid-query). Unset or 0: none.
       */
      statementTimeoutMs?: number;
    }
  | { kind: "pglite"; dataDir: string };

export interface Config {
  edgeUrl: string;
  syncToken: string | undefined;
  database: DatabaseTarget;
  batchSize: number;
  pollIntervalMs: number;
  /** Most events per apply transaction when fetched pages queue up (pages merged). */
  applyMaxEvents: number;
  requestTimeoutMs: number;
  retryMaxDelayMs: number;
  shutdownTimeoutMs: number;
  /** 0: no HTTP server. */
  httpPort: number;
  httpHost: string;
  /** /ready fails when the last successful poll of the edge is older than this. */
  readyMaxPollAgeMs: number;
  logLevel: Env["LOG_LEVEL"];
}

// Values of these are never echoed back in error messages.
const SECRET = new Set(["SYNC_TOKEN", "DATABASE_URL"]);

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and localhost: traffic that never leaves the host. */
export function isLoopbackHost(hostname: string): boolean {
  // URL parsing has already normalized IPv4 forms (127.1 → 127.0.0.1) and IPv6 ([0::1] → [::1]).
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return (
    host === "localhost" ||
    host === "::1" ||
    /^127(?:\.\d{1,3}){3}$/.test(host) ||
    /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)
  );
}

const SYNC_TOKEN_REQUIRED =
  "SYNC_TOKEN: is required (the edge's SYNC_TOKEN secret; in local dev see apps/edge/.dev.vars)";

/**
 * Rules between variables, checked even when other variables are wrong, so that one pass
 * reports every problem. A variable that is itself invalid is left to its own message.
 */
function crossProblems(input: Record<string, string>, options: { requireSyncToken?: boolean }): string[] {
  const problems: string[] = [];
  if (options.requireSyncToken && !("SYNC_TOKEN" in input)) problems.push(SYNC_TOKEN_REQUIRED);
  const url = Env.shape.EDGE_URL.safeParse(input.EDGE_URL);
  const allowHttp = Env.shape.EDGE_ALLOW_HTTP.safeParse(input.EDGE_ALLOW_HTTP);
  if (url.success && allowHttp.success && !allowHttp.data) {
    const { protocol, hostname } = new URL(url.data);
    if (protocol === "http:" && !isLoopbackHost(hostname)) {
      problems.push(
        `EDGE_URL: plain http:// to a host that is not loopback sends SYNC_TOKEN in clear; use https://, or set EDGE_ALLOW_HTTP=true if the network between them is trusted (got ${JSON.stringify(input.EDGE_URL)})`,
      );
    }
  }
  return problems;
}

/**
 * Reads the configuration from the environment. An empty variable counts as unset, so
 * `DATABASE_URL= optout-sync once` falls back to the embedded database as one would expect.
 * Problems are reported all at once, one line per variable, never echoing secrets; a command
 * that talks to the edge passes `requireSyncToken`, so a missing token is among them.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
  options: { requireSyncToken?: boolean } = {},
): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(Env.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") input[key] = value;
  }
  const parsed = Env.safeParse(input);
  const problems = (parsed.success ? [] : parsed.error.issues).map((issue) => {
    const key = String(issue.path[0] ?? "environment");
    const got = key in input && !SECRET.has(key) ? ` (got ${JSON.stringify(input[key])})` : "";
    return `${key}: ${issue.message}${got}`;
  });
  problems.push(...crossProblems(input, options));
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  const e = parsed.data;
  return {
    edgeUrl: e.EDGE_URL,
    syncToken: e.SYNC_TOKEN,
    database: e.DATABASE_URL
      ? { kind: "postgres", url: e.DATABASE_URL, statementTimeoutMs: e.PG_STATEMENT_TIMEOUT_MS }
      : { kind: "pglite", dataDir: resolve(cwd, e.SYNC_DATA_DIR, "pglite") },
    batchSize: e.BATCH_SIZE,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    applyMaxEvents: e.APPLY_MAX_EVENTS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    httpPort: "HTTP_PORT" in input ? e.HTTP_PORT : (e.METRICS_PORT ?? e.HTTP_PORT),
    httpHost: e.HTTP_HOST,
    readyMaxPollAgeMs: e.READY_MAX_POLL_AGE_MS,
    logLevel: e.LOG_LEVEL,
  };
}

/** The token is needed to talk to the edge, not to print help; commands ask for it here. */
export function requireSyncToken(config: Config): string {
  if (!config.syncToken) throw new ConfigError(`invalid configuration:\n  ${SYNC_TOKEN_REQUIRED}`);
  return config.syncToken;
}

/** Where the database is, for logs and `status`, without credentials. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === "pglite") return `pglite ${target.dataDir}`;
  try {
    const u = new URL(target.url);
    return `postgres ${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "postgres (unparsable URL)";
  }
}
