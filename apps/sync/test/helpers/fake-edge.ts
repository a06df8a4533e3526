import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConsentEvent } from "@optout/core";

export type Fault =
  | { type: "status"; status: number }
  | { type: "reset" } // drop the connection without answering
  | { type: "hang"; ms: number } // answer after a delay
  | { type: "override"; changes: ConsentEvent[]; hasMore?: boolean };

/**
 * A stand-in for the edge's sync API on loopback, serving `GET /v1/changes` from an array,
 * with faults queued per request. For tests of the daemon's own behaviour (retries, gaps,
 * exit codes); the integration test uses the real edge.
 */
export class FakeEdge {
  events: ConsentEvent[] = [];
  readonly faults: Fault[] = [];
  requests = 0;
  #server: Server | undefined;
  url = "";

  constructor(readonly token = "sync-test-token") {}

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/health") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
        return;
      }
      if (url.pathname !== "/v1/changes") {
        res.writeHead(404).end();
        return;
      }
      this.requests++;
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        res
          .writeHead(401, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "unauthorized", message: "bad token", requestId: "r" } }));
        return;
      }
      const fault = this.faults.shift();
      const after = Number(url.searchParams.get("after") ?? "0");
      const limit = Number(url.searchParams.get("limit") ?? "500");
      const answer = (changes: ConsentEvent[], hasMore: boolean) =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ changes, next: String(changes.at(-1)?.seq ?? after), hasMore }));
      if (fault?.type === "status") {
        res
          .writeHead(fault.status, { "content-type": "application/json" })
          .end('{"error":{"code":"x","message":"y"}}');
        return;
      }
      if (fault?.type === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault?.type === "override") {
        answer(fault.changes, fault.hasMore ?? false);
        return;
      }
      const rest = this.events.filter((e) => e.seq > after);
      const page = rest.slice(0, limit);
      const send = () => answer(page, rest.length > limit);
      if (fault?.type === "hang") setTimeout(send, fault.ms);
      else send();
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}
