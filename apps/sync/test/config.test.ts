import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeDatabase, Env, loadConfig, requireSyncToken } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";

const load = (env: Record<string, string | undefined>) => loadConfig(env, "/srv/app");

describe("configuration from the environment", () => {
  it("has defaults for everything but the token", () => {
    expect(load({})).toEqual({
      edgeUrl: "http://127.0.0.1:8787",
      syncToken: undefined,
      database: { kind: "pglite", dataDir: "/srv/app/.data/pglite" },
      batchSize: 1000,
      pollIntervalMs: 1000,
      requestTimeoutMs: 30_000,
      retryMaxDelayMs: 30_000,
      shutdownTimeoutMs: 10_000,
      applyMaxEvents: 5000,
      httpPort: 9464,
      httpHost: "127.0.0.1",
      readyMaxPollAgeMs: 30_000,
      logLevel: "info",
    });
  });

  it.each([
    { name: "HTTP_PORT", env: { HTTP_PORT: "9100" }, port: 9100 },
    { name: "METRICS_PORT as an alias", env: { METRICS_PORT: "9200" }, port: 9200 },
    { name: "HTTP_PORT over METRICS_PORT", env: { HTTP_PORT: "0", METRICS_PORT: "9200" }, port: 0 },
  ])("takes the HTTP port from $name", ({ env, port }) => {
    expect(loadConfig(env).httpPort).toBe(port);
  });

  it.each([
    {
      name: "DATABASE_URL selects PostgreSQL",
      env: { DATABASE_URL: "postgres://u:p@db:5432/app" },
      key: "database",
      value: { kind: "postgres", url: "postgres://u:p@db:5432/app", statementTimeoutMs: 60_000 },
    },
    {
      name: "PG_STATEMENT_TIMEOUT_MS sets the PostgreSQL statement timeout (0 = off)",
      env: { DATABASE_URL: "postgres://u:p@db:5432/app", PG_STATEMENT_TIMEOUT_MS: "0" },
      key: "database",
      value: { kind: "postgres", url: "postgres://u:p@db:5432/app", statementTimeoutMs: 0 },
    },
    {
      name: "an empty DATABASE_URL means unset",
      env: { DATABASE_URL: "" },
      key: "database",
      value: { kind: "pglite", dataDir: "/srv/app/.data/pglite" },
    },
    {
      name: "SYNC_DATA_DIR moves PGlite",
      env: { SYNC_DATA_DIR: "/var/lib/optout" },
      key: "database",
      value: { kind: "pglite", dataDir: "/var/lib/optout/pglite" },
    },
    {
      name: "a trailing slash on EDGE_URL is dropped",
      env: { EDGE_URL: "https://edge.example.com/" },
      key: "edgeUrl",
      value: "https://edge.example.com",
    },
    {
      name: "numbers are read from strings",
      env: { BATCH_SIZE: "250", POLL_INTERVAL_MS: "200" },
      key: "batchSize",
      value: 250,
    },
  ])("$name", ({ env, key, value }) => {
    expect(load(env)[key as keyof ReturnType<typeof load>]).toEqual(value);
  });

  it.each([
    {
      name: "a batch above the edge's page limit",
      env: { BATCH_SIZE: "1001" },
      message: 'BATCH_SIZE: must be at most 1000 (got "1001")',
    },
    { name: "a batch of zero", env: { BATCH_SIZE: "0" }, message: "BATCH_SIZE: must be at least 1" },
    {
      name: "a non-numeric interval",
      env: { POLL_INTERVAL_MS: "soon" },
      message: 'POLL_INTERVAL_MS: must be a whole number (got "soon")',
    },
    {
      name: "a fractional timeout",
      env: { REQUEST_TIMEOUT_MS: "1.5" },
      message: "REQUEST_TIMEOUT_MS: must be a whole number",
    },
    {
      name: "a negative statement timeout",
      env: { PG_STATEMENT_TIMEOUT_MS: "-1" },
      message: 'PG_STATEMENT_TIMEOUT_MS: must be at least 0 (got "-1")',
    },
    {
      name: "an EDGE_URL that is not http",
      env: { EDGE_URL: "ftp://edge" },
      message: "EDGE_URL: must be an http:// or https:// URL",
    },
    {
      name: "an EDGE_URL that is not a URL",
      env: { EDGE_URL: "edge" },
      message: "EDGE_URL: must be an http:// or https:// URL",
    },
    {
      name: "an unknown log level",
      env: { LOG_LEVEL: "loud" },
      message: "LOG_LEVEL: must be one of fatal, error",
    },
    {
      name: "a DATABASE_URL of another kind",
      env: { DATABASE_URL: "mysql://x" },
      message: "DATABASE_URL: must start with postgres://",
    },
  ])("rejects $name with a message that names the variable", ({ env, message }) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it("reports every problem at once and never echoes a secret", () => {
    let error: Error | undefined;
    try {
      load({ BATCH_SIZE: "x", LOG_LEVEL: "y", DATABASE_URL: "mysql://user:hunter2@db" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message.split("\n")).toHaveLength(4);
    expect(error?.message).not.toContain("hunter2");
  });

  it.each([
    "http://127.0.0.1:8787",
    "http://127.10.0.3",
    "http://localhost:8787",
    "http://LOCALHOST",
    "http://[::1]:8787",
    "http://[0:0:0:0:0:0:0:1]",
    "http://[::ffff:127.0.0.1]:8787",
    "https://edge.example.com",
  ])("accepts EDGE_URL %s (https, or plain http to loopback only)", (url) => {
    expect(load({ EDGE_URL: url }).edgeUrl).toBe(url.replace(/\/+$/, ""));
  });

  it.each([
    "http://edge.example.com",
    "http://10.0.0.5:8787",
    "http://128.0.0.1",
    "http://[::2]",
    "http://localhost.example.com",
  ])("refuses EDGE_URL %s: the SYNC_TOKEN would cross the network in clear", (url) => {
    expect(() => load({ EDGE_URL: url })).toThrow(ConfigError);
    expect(() => load({ EDGE_URL: url })).toThrow(
      /EDGE_URL: plain http:\/\/ to a host that is not loopback sends SYNC_TOKEN in clear; use https:\/\/, or set EDGE_ALLOW_HTTP=true/,
    );
  });

  it("EDGE_ALLOW_HTTP=true allows plain http:// to any host; it must be a boolean", () => {
    expect(load({ EDGE_URL: "http://edge.internal:8787", EDGE_ALLOW_HTTP: "true" }).edgeUrl).toBe(
      "http://edge.internal:8787",
    );
    expect(() => load({ EDGE_URL: "http://edge.internal", EDGE_ALLOW_HTTP: "false" })).toThrow(
      /EDGE_URL: plain http/,
    );
    expect(() => load({ EDGE_ALLOW_HTTP: "maybe" })).toThrow(/EDGE_ALLOW_HTTP: must be true or false/);
  });

  it("a missing SYNC_TOKEN is reported with every other problem, one line each", () => {
    let error: Error | undefined;
    try {
      loadConfig({ EDGE_URL: "http://edge.example.com", BATCH_SIZE: "0" }, "/srv/app", {
        requireSyncToken: true,
      });
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = error!.message.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe("invalid configuration:");
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().split(":")[0])
        .sort(),
    ).toEqual(["BATCH_SIZE", "EDGE_URL", "SYNC_TOKEN"]);
  });

  it("asks for SYNC_TOKEN only where it is needed", () => {
    expect(() => requireSyncToken(load({}))).toThrow(/SYNC_TOKEN: is required/);
    expect(requireSyncToken(load({ SYNC_TOKEN: "t" }))).toBe("t");
  });

  it("describes the database without credentials", () => {
    expect(describeDatabase({ kind: "postgres", url: "postgres://u:secret@db.internal:6543/app" })).toBe(
      "postgres db.internal:6543/app",
    );
  });
});

describe("pnpm dev passes the daemon its configuration", () => {
  it("turbo's dev task lets every variable of the daemon through (turbo drops the others)", () => {
    const turbo = JSON.parse(readFileSync(new URL("../../../turbo.json", import.meta.url), "utf8"));
    const passed: string[] = turbo.tasks.dev.passThroughEnv;
    expect(Object.keys(Env.shape).filter((name) => !passed.includes(name))).toEqual([]);
  });
});
