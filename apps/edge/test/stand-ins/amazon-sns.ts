/**
 * A local HTTP server standing in for Amazon SNS in the edge's tests (Node side, started by
 * vitest.config.ts; the Worker reaches it through SNS_BASE_URL_OVERRIDE, as `<stand-in>/<sns host>/
 * <path>`). It serves what a test put there — a signing certificate the test minted — and records
 * every GET, so a test can assert which certificate was fetched and which subscription confirmed.
 *
 *   PUT  /<sns host>/<path>   stores the body (test only)
 *   GET  /<sns host>/<path>   the stored body, else 404; recorded
 *   GET  /__requests          every recorded GET path with its query, oldest first
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface SnsStandIn {
  url: string;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startSnsStandIn(): Promise<SnsStandIn> {
  const files = new Map<string, string>();
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    if (req.method === "GET" && url.pathname === "/__requests") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(requests));
      return;
    }
    if (req.method === "PUT") {
      files.set(url.pathname, await bodyOf(req));
      res.writeHead(204).end();
      return;
    }
    if (req.method === "GET") {
      requests.push(url.pathname + url.search);
      const file = files.get(url.pathname);
      // A confirmation's SubscribeURL answers with SNS's XML; the stand-in answers any such GET.
      if (url.searchParams.get("Action") === "ConfirmSubscription") {
        res.writeHead(200, { "content-type": "text/xml" }).end("<ConfirmSubscriptionResponse/>");
      } else if (file === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-type": "application/x-pem-file" }).end(file);
      return;
    }
    res.writeHead(405).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  // Never keeps the test run alive.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
