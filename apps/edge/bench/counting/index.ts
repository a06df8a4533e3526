/**
 * The edge with its D1 and KV bindings counted: `GET /__bench/counts` answers and resets the
 * counts since the last call. Built and run by the benchmark only (never deployed), to report
 * the storage round trips each scenario's request makes. Throughput is never measured on it.
 */
import { env as moduleEnv } from "cloudflare:workers";
import edge from "../../src/index.ts";

// The Durable Objects the edge defines run in this isolate with the same bindings: re-exported
// unchanged, their D1 and KV calls are counted at the prototypes below.
export * from "../../src/index.ts";

interface Counts {
  /** D1 round trips: one per statement run alone, one per batch. */
  d1RoundTrips: number;
  /** Statements sent to D1, counting each statement of a batch. */
  d1Statements: number;
  /** KV keys read (a bulk get of n keys counts n, as the per-invocation limit does). */
  kvReads: number;
  kvWrites: number;
}

const zero = (): Counts => ({ d1RoundTrips: 0, d1Statements: 0, kvReads: 0, kvWrites: 0 });
let counts = zero();
const patched = new WeakSet<object>();

/** D1's binding is JS and its statements are class instances: count at the prototypes. */
function countD1(db: D1Database) {
  const dbProto = Object.getPrototypeOf(db) as D1Database;
  if (patched.has(dbProto)) return;
  patched.add(dbProto);
  const stmtProto = Object.getPrototypeOf(db.prepare("SELECT 1")) as Record<string, unknown>;
  const batch = dbProto.batch;
  dbProto.batch = function (this: D1Database, statements: D1PreparedStatement[]) {
    counts.d1RoundTrips++;
    counts.d1Statements += statements.length;
    return batch.call(this, statements);
  } as typeof batch;
  for (const name of ["first", "all", "run", "raw"]) {
    const original = stmtProto[name] as (...args: unknown[]) => unknown;
    stmtProto[name] = function (this: unknown, ...args: unknown[]) {
      counts.d1RoundTrips++;
      counts.d1Statements++;
      return original.apply(this, args);
    };
  }
}

/** KV's binding: counted at its prototype too, so the writer's puts (in its Durable Object) count. */
function countKv(kv: KVNamespace) {
  const proto = Object.getPrototypeOf(kv) as Record<string, unknown>;
  if (patched.has(proto)) return;
  patched.add(proto);
  for (const name of ["get", "getWithMetadata", "list", "put", "delete"]) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      if (name === "put" || name === "delete") counts.kvWrites++;
      else counts.kvReads += Array.isArray(args[0]) ? args[0].length : 1;
      return original.apply(this, args);
    };
  }
}

countD1(moduleEnv.DB);
countKv(moduleEnv.KV);

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname === "/__bench/counts") {
      const answer = Response.json(counts);
      counts = zero();
      return answer;
    }
    return edge.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
