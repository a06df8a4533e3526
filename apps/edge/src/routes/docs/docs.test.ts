import { z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { call, documentOperations, expectStatus } from "../../../test/helpers.ts";
import { createApp } from "../../lib/create-app.ts";
import { routers } from "../index.ts";

// Every operation the Worker serves, from its own document: a new route is checked here without
// being listed anywhere.
const { document, operations } = await documentOperations();
const ERROR = { $ref: "#/components/schemas/Error" };

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document with the security schemes and the error envelope", async () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.servers).toEqual([{ url: "https://edge.test" }]);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual([
      "adminToken",
      "apiKey",
      "syncToken",
    ]);
    expect(document.components.schemas.Error).toBeDefined();
    // The same document served twice: nothing in it depends on the request but the server.
    expect(await expectStatus(await call("/openapi.json"), 200)).toEqual(document);
  });

  it("has the operations a client expects (a guard against an empty or truncated document)", () => {
    const keys = operations.map((op) => op.key);
    expect(keys.length).toBeGreaterThan(35);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining([
        "GET /health",
        "POST /v1/accounts",
        "PATCH /v1/accounts/{id}",
        "GET /v1/check",
        "GET /v1/changes",
        "POST /v1/evidence/verify",
      ]),
    );
    expect(operations.find((op) => op.key === "POST /v1/blocklist")?.schemes).toEqual(["apiKey"]);
    expect(operations.find((op) => op.key === "GET /v1/changes")?.schemes).toEqual(["syncToken"]);
    expect(operations.find((op) => op.key === "PATCH /v1/accounts/{id}")?.schemes).toEqual(["adminToken"]);
  });

  it("describes exactly the routes the Worker answers (assets/openapi.json is not stale)", () => {
    // The document is built ahead of time (scripts/openapi.ts); the app is built here the way
    // src/index.ts builds it. CI also regenerates the whole file and compares (check-openapi).
    const app = createApp();
    for (const router of routers) app.route("/", router);
    const served = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect([...new Set(served)].sort()).toEqual(operations.map((op) => op.key).sort());
  });

  it("is read from the built file, not generated: the Worker carries no OpenAPI generator", () => {
    // wrangler.jsonc's `alias` leaves zod-to-openapi and zod's JSON Schema output out of the
    // bundle (src/lib/zod-trim); vitest.config.ts applies the same map, so this is what deploys.
    const schema = z.string();
    expect(schema.openapi("Name")).toBe(schema);
    expect(() => z.toJSONSchema(schema)).toThrow(/left out of the optout Worker/);
    expect(() => createApp().getOpenAPI31Document(document)).toThrow(/generated at build time/);
  });

  describe.each(operations)("$key", ({ path, operation, schemes }) => {
    const responses = Object.entries<{ content?: Record<string, { schema?: unknown }> }>(operation.responses);

    it("has a summary, a tag and a success response", () => {
      expect(operation.summary).toEqual(expect.any(String));
      expect(operation.tags?.length).toBeGreaterThan(0);
      expect(responses.some(([status]) => /^2\d\d$/.test(status))).toBe(true);
    });

    it("answers every JSON error with the one error envelope, and a 500", () => {
      const jsonErrors = responses.filter(
        ([status, r]) => Number(status) >= 400 && r.content?.["application/json"],
      );
      for (const [status, r] of jsonErrors) {
        expect(r.content!["application/json"]!.schema, status).toEqual(ERROR);
      }
      expect(operation.responses["500"], "500").toBeDefined();
    });

    it("names only known security schemes, and declares 400 and 401 when it has any", () => {
      for (const scheme of schemes)
        expect(Object.keys(document.components.securitySchemes)).toContain(scheme);
      if (schemes.length === 0) return;
      expect(operation.responses["400"]?.content["application/json"].schema).toEqual(ERROR);
      expect(operation.responses["401"]?.content["application/json"].schema).toEqual(ERROR);
    });

    it("declares 413 when it reads JSON, and 415 when the body must be JSON", () => {
      const mediaTypes = Object.keys(operation.requestBody?.content ?? {});
      // The unsubscribe page's form is read only when small; anything else counts as empty.
      if (!mediaTypes.includes("application/json")) return;
      expect(operation.responses["413"]?.content["application/json"].schema).toEqual(ERROR);
      if (mediaTypes.join() !== "application/json") return;
      expect(operation.responses["415"]?.content["application/json"].schema).toEqual(ERROR);
    });

    it("declares each of its path parameters", () => {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (operation.parameters ?? [])
        .filter((p: { in: string }) => p.in === "path")
        .map((p: { name: string }) => p.name);
      expect(declared.sort()).toEqual(inPath.sort());
    });
  });
});

describe("GET /docs", () => {
  let html: string;

  beforeAll(async () => {
    const res = await call("/docs");
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(200);
  });

  it("is self-contained HTML (no scripts, nothing external)", () => {
    expect(html).not.toMatch(/<script|<link|src=["']?https?:|@import/i);
  });

  it.each(operations)("renders $key", ({ method, path }) => {
    expect(html).toContain(`${method}</span> <code>${path}</code>`);
  });
});
