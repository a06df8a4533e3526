/**
 * A local HTTP server standing in for the providers' send APIs (vitest globalSetup, in Node). The
 * Worker's `<PROVIDER>_API_BASE_URL`s point at `http://127.0.0.1:<port>/<provider>` (vitest.config.ts),
 * so every confirmation the edge sends lands here and is recorded. Tests (in workerd) read what it
 * got and script failures over HTTP:
 *   GET  /__requests?match=<s>                    requests whose body or authorization contains s
 *   POST /__fail?match=<s>&status=500&times=1     the next `times` such requests get `status`
 * A Vonage request is answered like the SMS API (200, `messages[0].status` "0"); others with 200 `{}`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";

interface Recorded {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  body: string;
  status: number;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });

export function startSendApiStandIn(port: number): Promise<Server> {
  const recorded: Recorded[] = [];
  const failures: { match: string; status: number; times: number }[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://standin");
    const body = await readBody(req);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (url.pathname === "/__requests") {
      const match = url.searchParams.get("match") ?? "";
      return send(
        200,
        recorded.filter((r) => r.body.includes(match) || (r.authorization ?? "").includes(match)),
      );
    }
    if (url.pathname === "/__fail") {
      failures.push({
        match: url.searchParams.get("match") ?? "",
        status: Number(url.searchParams.get("status") ?? "500"),
        times: Number(url.searchParams.get("times") ?? "1"),
      });
      return send(200, { ok: true });
    }
    const authorization = req.headers.authorization ?? null;
    const failure = failures.find(
      (f) => f.times > 0 && (body.includes(f.match) || (authorization ?? "").includes(f.match)),
    );
    const status = failure ? failure.status : 200;
    if (failure) failure.times--;
    recorded.push({
      method: req.method ?? "",
      path: url.pathname,
      authorization,
      contentType: req.headers["content-type"] ?? null,
      body,
      status,
    });
    if (status !== 200) return send(status, { error: "stand-in failure" });
    if (url.pathname.startsWith("/vonage/"))
      return send(200, { "message-count": "1", messages: [{ status: "0", "message-id": "standin-1" }] });
    return send(200, {});
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

/** vitest globalSetup: the port comes from vitest.config.ts (SEND_API_STANDIN_PORT). */
export default async function setup() {
  const server = await startSendApiStandIn(Number(process.env.SEND_API_STANDIN_PORT));
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
