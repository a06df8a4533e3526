import { describe, expect, it } from "vitest";
import { call, expectError, expectStatus } from "../../../test/helpers.ts";

describe("GET /health", () => {
  it("answers ok with a request id", async () => {
    const res = await call("/health");
    expect(await expectStatus(res, 200)).toEqual({ ok: true });
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9A-Za-z]{20}$/);
  });

  it.each<{ name: string; headers: Record<string, string>; expected: string }>([
    {
      name: "a sane x-request-id is reused",
      headers: { "x-request-id": "client-abc-123" },
      expected: "client-abc-123",
    },
    {
      name: "cf-ray is reused",
      headers: { "cf-ray": "8f1c2d3e4f5a6b7c-SJC" },
      expected: "8f1c2d3e4f5a6b7c-SJC",
    },
  ])("$name", async ({ headers, expected }) => {
    const res = await call("/health", { headers });
    expect(res.headers.get("x-request-id")).toBe(expected);
  });

  it("replaces an insane x-request-id", async () => {
    const res = await call("/health", { headers: { "x-request-id": "has spaces <and> stuff" } });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });
});

describe("unknown routes", () => {
  it("answer 404 in the error envelope", async () => {
    const message = await expectError(await call("/nope"), 404, "not_found");
    expect(message).toContain("/nope");
  });
});
