import { Hono } from "hono";

interface Bindings {
  KV: KVNamespace;
  DB: D1Database;
}

/**
 * The benchmark's ceiling: the least a hono Worker can do per request in this runtime — route one
 * GET and answer a fixed JSON body. Our routes' throughput is reported as a ratio to `GET /`,
 * measured in the same run, so the ratios hold on any machine.
 *
 * `GET /kv` and `GET /d1` are floors, not ceilings: the same worker plus exactly one KV read or
 * one indexed D1 query. They show what a single storage round trip costs in this runtime, which
 * bounds every route that needs one.
 */
const app = new Hono<{ Bindings: Bindings }>();
app.get("/", (c) => c.json({ ok: true, service: "ceiling" }));
app.get("/kv", async (c) => c.json({ ok: true, value: await c.env.KV.get("e:acc:+14155550100", "json") }));
app.get("/d1", async (c) =>
  c.json({ ok: true, row: await c.env.DB.prepare("SELECT v FROM t WHERE k = ?").bind("k1").first() }),
);

export default app;
