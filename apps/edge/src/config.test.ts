import { afterEach, describe, expect, it, vi } from "vitest";
import { Config, publicOrigin, readConfig } from "./config.ts";
import { ApiError } from "./lib/errors.ts";

const valid = {
  ADMIN_TOKEN: "admin-token-1",
  SYNC_TOKEN: "sync-token-1",
  EDGE_SECRET: "edge-secret-1",
  PUBLIC_BASE_URL: "",
  ENVIRONMENT: "development",
};
const long = (name: string) => `${name}-${"x".repeat(40)}`;
const production = {
  ADMIN_TOKEN: long("admin"),
  SYNC_TOKEN: long("sync"),
  EDGE_SECRET: long("edge"),
  PUBLIC_BASE_URL: "https://optout.example.com",
  ENVIRONMENT: "production",
};
const asEnv = (vars: Record<string, unknown>) => ({ ...vars }) as unknown as Env;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("readConfig", () => {
  it("parses valid vars and secrets, with defaults", () => {
    expect(readConfig(asEnv(valid))).toMatchObject({ ...valid, PUBLIC_LINK_BASE: "" });
    expect(readConfig(asEnv(production))).toMatchObject(production);
  });

  it("defaults to production, the safe side, when ENVIRONMENT is not set", () => {
    const { ENVIRONMENT: _unset, ...rest } = production;
    expect(Config.parse(rest).ENVIRONMENT).toBe("production");
    // ...so a deploy that forgot the variable gets production's rules, not development's.
    const { ENVIRONMENT: _none, ...short } = valid;
    expect(Config.safeParse(short).success).toBe(false);
  });

  it.each([
    { name: "a missing ADMIN_TOKEN", vars: { ...valid, ADMIN_TOKEN: undefined }, field: "ADMIN_TOKEN" },
    { name: "a missing EDGE_SECRET", vars: { ...valid, EDGE_SECRET: undefined }, field: "EDGE_SECRET" },
    { name: "a short SYNC_TOKEN", vars: { ...valid, SYNC_TOKEN: "short" }, field: "SYNC_TOKEN" },
    { name: "the same token twice", vars: { ...valid, SYNC_TOKEN: valid.ADMIN_TOKEN }, field: "SYNC_TOKEN" },
    {
      name: "EDGE_SECRET equal to a token",
      vars: { ...valid, EDGE_SECRET: valid.SYNC_TOKEN },
      field: "EDGE_SECRET",
    },
    // Each production rule alone: everything else is valid for production.
    ...(["ADMIN_TOKEN", "SYNC_TOKEN", "EDGE_SECRET"] as const).map((name) => ({
      name: `a ${name} under 32 characters in production`,
      vars: { ...production, [name]: "twenty-characters-ok" },
      field: name,
    })),
    {
      name: "an empty PUBLIC_BASE_URL in production (links would follow the Host header)",
      vars: { ...production, PUBLIC_BASE_URL: "" },
      field: "PUBLIC_BASE_URL",
    },
    {
      name: "a base URL that is not http(s)",
      vars: { ...valid, PUBLIC_BASE_URL: "ftp://example.com" },
      field: "PUBLIC_BASE_URL",
    },
    { name: "an unknown environment", vars: { ...valid, ENVIRONMENT: "prod" }, field: "ENVIRONMENT" },
    // Where SNS certificates come from is Amazon's, except in tests and local development.
    ...(["staging", "production"] as const).map((environment) => ({
      name: `an SNS stand-in in ${environment}`,
      vars: {
        ...(environment === "production" ? production : valid),
        ENVIRONMENT: environment,
        SNS_BASE_URL_OVERRIDE: "http://127.0.0.1:9999",
      },
      field: "SNS_BASE_URL_OVERRIDE",
    })),
  ])("refuses $name as misconfigured, naming $field without echoing values", ({ vars, field }) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    let thrown: unknown;
    try {
      readConfig(asEnv(vars));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 500, code: "misconfigured" });
    const secrets = [vars.ADMIN_TOKEN, vars.SYNC_TOKEN, vars.EDGE_SECRET].filter(
      (v) => typeof v === "string",
    );
    for (const secret of secrets) expect((thrown as Error).message).not.toContain(secret);
    // The log names the field, never a value.
    expect(logged).toHaveBeenCalledOnce();
    const line = String(logged.mock.calls[0]?.[0]);
    expect(line).toContain(`${field}:`);
    for (const secret of secrets) expect(line).not.toContain(secret);
  });
});

describe("publicOrigin", () => {
  it("is PUBLIC_BASE_URL when set, whatever Host the request carried", () => {
    const config = Config.parse(production);
    expect(publicOrigin(config, "https://attacker.example/v1/links")).toBe("https://optout.example.com");
  });

  it("falls back to the request's origin only where PUBLIC_BASE_URL may be empty (not production)", () => {
    const config = Config.parse(valid);
    expect(publicOrigin(config, "http://127.0.0.1:8787/v1/links")).toBe("http://127.0.0.1:8787");
  });
});
