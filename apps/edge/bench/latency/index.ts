/**
 * The edge with every D1 round trip delayed, as the network between an isolate and the D1 primary
 * delays it (10–250 ms on Cloudflare; 25 ms by default here): half of `BENCH_D1_DELAY_MS` before
 * the call reaches the local database and half after it answers, for each `batch()` and `exec()`
 * and each prepared statement's `first()`, `all()`, `run()` and `raw()`. Built and run by the
 * benchmark only (contention.mjs, the latency group), never deployed.
 *
 * The delay is installed when the module is evaluated, on the classes of the D1 bindings found in
 * `env` (imported from `cloudflare:workers`), before any request or Durable Object constructor
 * runs. So it reaches every D1 binding used in this worker's isolate: the fetch and scheduled
 * handlers', and those of the Durable Objects this worker defines, which run in the same isolate
 * and receive the same `env`. That is why the named exports of src/index.ts (Durable Object
 * classes, entrypoints, none today) are re-exported unchanged below: wrapping each class by name
 * would need the names here, and the binding they read is already delayed.
 */
import { env } from "cloudflare:workers";
import edge from "../../src/index.ts";

export * from "../../src/index.ts";

const delayMs = Number((env as unknown as Record<string, unknown>).BENCH_D1_DELAY_MS ?? 25);
const half = delayMs / 2;
const wait = () => new Promise<void>((resolve) => setTimeout(resolve, half));

type Method = (...args: unknown[]) => Promise<unknown>;

/** One network round trip around `method`: half the delay on the way there, half on the way back. */
function delay(proto: Record<string, unknown>, name: string) {
  const original = proto[name];
  if (typeof original !== "function") return;
  proto[name] = async function (this: unknown, ...args: unknown[]) {
    await wait();
    try {
      return await (original as Method).apply(this, args);
    } finally {
      await wait();
    }
  };
}

const patched = new WeakSet<object>();
function isD1(value: unknown): value is D1Database {
  const v = value as Partial<D1Database> | null;
  return typeof v?.prepare === "function" && typeof v.batch === "function" && typeof v.exec === "function";
}

// D1's binding is JS and its statements are class instances (as in the counting build): delay at
// the prototypes, once per class.
for (const value of Object.values(env as unknown as Record<string, unknown>)) {
  if (!isD1(value) || half <= 0) continue;
  const dbProto = Object.getPrototypeOf(value) as Record<string, unknown>;
  if (patched.has(dbProto)) continue;
  patched.add(dbProto);
  const stmtProto = Object.getPrototypeOf(value.prepare("SELECT 1")) as Record<string, unknown>;
  delay(dbProto, "batch");
  delay(dbProto, "exec");
  if (!patched.has(stmtProto)) {
    patched.add(stmtProto);
    for (const name of ["first", "all", "run", "raw"]) delay(stmtProto, name);
  }
}

export default edge;
