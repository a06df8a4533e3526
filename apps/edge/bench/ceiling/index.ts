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
 * `GET /kv`, `GET /kv100`, `GET /d1`, `POST /d1` and `POST /d1kv` are floors, not ceilings: the
 * same worker plus exactly one KV read, one bulk KV read of 100 keys, one indexed D1 query, one D1
 * write transaction, or one D1 write transaction and one KV put. They show what a single storage round trip costs in this runtime, which bounds
 * every route that needs one.
 */
const app = new Hono<{ Bindings: Bindings }>();
app.get("/", (c) => c.json({ ok: true, service: "ceiling" }));
app.get("/kv", async (c) => c.json({ ok: true, value: await c.env.KV.get("e:acc:+14155550100", "json") }));
app.get("/kv100", async (c) => {
  const keys = Array.from({ length: 100 }, (_, i) => `e:acc:${i}`);
  const values = await c.env.KV.get(keys, "json");
  return c.json({ ok: true, found: [...values.values()].filter(Boolean).length });
});
app.get("/d1", async (c) =>
  c.json({ ok: true, row: await c.env.DB.prepare("SELECT v FROM t WHERE k = ?").bind("k1").first() }),
);
// One write transaction: what every state change at the edge needs at least once.
app.post("/d1", async (c) => {
  const k = crypto.randomUUID();
  await c.env.DB.prepare("INSERT INTO t (k, v) VALUES (?, ?)").bind(k, "v").run();
  return c.json({ ok: true, k }, 201);
});

// An opt-out's least: its write transaction, then the KV value the check path reads.
app.post("/d1kv", async (c) => {
  const k = crypto.randomUUID();
  await c.env.DB.prepare("INSERT INTO t (k, v) VALUES (?, ?)").bind(k, "v").run();
  await c.env.KV.put(`e:acc:${k}`, "[]");
  return c.json({ ok: true, k }, 201);
});

export default app;
