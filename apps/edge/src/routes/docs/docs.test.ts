import { describe, expect, it } from "vitest";
import { call, expectStatus } from "../../../test/helpers.ts";

const operations = [
  ["get", "/health"],
  ["post", "/v1/accounts"],
  ["post", "/v1/blocklist"],
  ["delete", "/v1/blocklist"],
  ["get", "/v1/blocklist"],
  ["get", "/v1/check"],
  ["post", "/v1/check"],
  ["get", "/v1/changes"],
  ["post", "/v1/sync/apply"],
  ["get", "/v1/evidence"],
] as const;

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document with every operation, its security and the error envelope", async () => {
    const doc = await expectStatus(await call("/openapi.json"), 200);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: "https://edge.test" }]);
    for (const [method, path] of operations) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.responses["400"].content["application/json"].schema).toEqual({
        $ref: "#/components/schemas/Error",
      });
    }
    expect(doc.paths["/v1/blocklist"].post.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths["/v1/changes"].get.security).toEqual([{ syncToken: [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "apiKey", "syncToken"]);
  });
});

describe("GET /docs", () => {
  it("renders every operation as self-contained HTML (no scripts, nothing external)", async () => {
    const res = await call("/docs");
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(200);
    for (const [method, path] of operations) {
      expect(html, `${method} ${path}`).toContain(`${method.toUpperCase()}</span> <code>${path}</code>`);
    }
    expect(html).not.toMatch(/<script|<link|src=["']?https?:|@import/i);
  });
});
