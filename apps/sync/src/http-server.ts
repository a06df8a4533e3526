import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorFields, type Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  log: Logger;
  /** Whether the database answers (a short query). */
  databaseReachable: () => Promise<boolean>;
  readyMaxPollAgeMs: number;
}

/**
 * `/health` (the process is up), `/ready` (the database answers and the feed was polled
 * successfully within `readyMaxPollAgeMs`) and `/metrics` (Prometheus text format). Nothing
 * here carries an address: metrics are counts, seqs and times.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<{ server: Server; port: number }> {
  const { metrics, log } = options;
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, { error: "method not allowed" });
    switch (path) {
      case "/health":
        return json(200, { ok: true });
      case "/ready": {
        const database = await options.databaseReachable().catch(() => false);
        const pollAgeMs = metrics.lastPollAt ? Date.now() - metrics.lastPollAt : null;
        const polled = pollAgeMs !== null && pollAgeMs <= options.readyMaxPollAgeMs;
        return json(database && polled ? 200 : 503, {
          ready: database && polled,
          database,
          lastPollAgeMs: pollAgeMs,
          maxPollAgeMs: options.readyMaxPollAgeMs,
        });
      }
      case "/metrics":
        return res
          .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
          .end(metrics.render());
      default:
        return json(404, { error: "not found", routes: ["/health", "/ready", "/metrics"] });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (e) => log.error(errorFields(e), "http server error"));
  // Not keeping the process alive: shutdown is the sync loop's decision.
  server.unref();
  return { server, port: (server.address() as AddressInfo).port };
}
