import { describe, expect, it, vi } from "vitest";
import { readConfig } from "./config.ts";
import { ApiError } from "./lib/errors.ts";

const valid = {
  ADMIN_TOKEN: "admin-token-1",
  SYNC_TOKEN: "sync-token-1",
  PUBLIC_BASE_URL: "",
  ENVIRONMENT: "development",
};
const asEnv = (vars: Record<string, unknown>) => ({ ...vars }) as unknown as Env;

describe("readConfig", () => {
  it("parses valid vars and secrets, with defaults", () => {
    expect(readConfig(asEnv(valid))).toMatchObject({ ...valid, PUBLIC_LINK_BASE: "" });
  });

  it.each([
    { name: "a missing ADMIN_TOKEN", vars: { ...valid, ADMIN_TOKEN: undefined } },
    { name: "a short SYNC_TOKEN", vars: { ...valid, SYNC_TOKEN: "short" } },
    { name: "the same token twice", vars: { ...valid, SYNC_TOKEN: valid.ADMIN_TOKEN } },
    { name: "short tokens in production", vars: { ...valid, ENVIRONMENT: "production" } },
    { name: "a base URL that is not http(s)", vars: { ...valid, PUBLIC_BASE_URL: "ftp://example.com" } },
    { name: "an unknown environment", vars: { ...valid, ENVIRONMENT: "prod" } },
  ])("refuses $name as misconfigured, without echoing values", ({ vars }) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    let thrown: unknown;
    try {
      readConfig(asEnv(vars));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 500, code: "misconfigured" });
    expect((thrown as Error).message).not.toContain(valid.ADMIN_TOKEN);
    // The log names the field, never a value.
    expect(logged).toHaveBeenCalledOnce();
    expect(String(logged.mock.calls[0]?.[0])).not.toContain(valid.ADMIN_TOKEN);
    logged.mockRestore();
  });
});
