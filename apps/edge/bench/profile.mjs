// CPU profiles of the edge's isolate under load, through workerd's inspector (Chrome DevTools
// protocol): `BENCH_PROFILE=<scenario id> pnpm --filter @optout/edge bench` profiles that
// scenario's first measured round, saves the .cpuprofile (open it in Chrome DevTools) and prints
// the functions with the most self time.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

/** Node 20 has no global WebSocket without a flag; miniflare's own `ws` dependency serves. */
function webSocketClass() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  const miniflare = createRequire(import.meta.url).resolve("miniflare");
  return createRequire(miniflare)("ws");
}

async function connect(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  // The user worker's isolate (Miniflare's own helper workers are named core:*).
  const target = targets.find((t) => /core:user:/.test(t.title ?? t.id ?? "")) ?? targets[0];
  const WebSocket = webSocketClass();
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(typeof event.data === "string" ? event.data : event.data.toString());
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      message.error ? waiter.reject(new Error(message.error.message)) : waiter.resolve(message.result);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      pending.set(++id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
}

/** Runs `work` with the profiler on; writes the profile to `path` and prints the top self times. */
export async function profiled(inspectorPort, path, work) {
  const session = await connect(inspectorPort);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 200 });
  await session.send("Profiler.start");
  const result = await work();
  const { profile } = await session.send("Profiler.stop");
  session.close();
  writeFileSync(path, JSON.stringify(profile));
  printTop(profile);
  return result;
}

function printTop(profile, count = 25) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const node = byNode.get(nodeId);
    const f = node.callFrame;
    const url = f.url ? f.url.split("/").slice(-1)[0] : "";
    const key = `${f.functionName || "(anonymous)"} ${url}:${f.lineNumber + 1}`;
    const dt = deltas[i] ?? 0;
    total += dt;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  console.log(`[bench] profile: ${(total / 1000).toFixed(0)} ms sampled; top self time:`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
}
