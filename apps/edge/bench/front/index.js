/**
 * The contention bench's front worker (contention.mjs): every request of the contention, latency
 * and burst groups enters here and is passed on, round-robin, to one of the first N workers of a
 * pool of copies of the edge, through service bindings named `<pool>_<i>` (`edge_0` … `edge_7`,
 * `latency_0` … `latency_7`). Cloudflare spreads one deployment's requests over its isolates the
 * same way: a client neither picks nor keeps an isolate, whatever connection it reuses.
 *
 * The bench names the pool and N in two request headers, removed before the edge sees the
 * request; the URL (which webhook signatures cover), the body and every other header pass as sent.
 * Plain JavaScript, no build: it does nothing but choose.
 */
const turns = new Map();

export default {
  fetch(request, env) {
    const pool = request.headers.get("x-bench-pool") ?? "edge";
    const isolates = Number(request.headers.get("x-bench-isolates") ?? "1");
    const key = `${pool}:${isolates}`;
    const turn = turns.get(key) ?? 0;
    turns.set(key, turn + 1);
    const name = `${pool}_${turn % isolates}`;
    const target = env[name];
    if (!target) return new Response(`front: no worker bound as ${name}`, { status: 500 });
    const headers = new Headers(request.headers);
    headers.delete("x-bench-pool");
    headers.delete("x-bench-isolates");
    return target.fetch(new Request(request, { headers }));
  },
};
