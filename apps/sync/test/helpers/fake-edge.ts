import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ConsentEvent,
  entryKey,
  GENESIS_HASH,
  type SyncChange,
  sealEvent,
  supersedes,
} from "@optout/core";

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
  /** POST /v1/sync/apply calls that reached the fake (faults included). */
  applyRequests = 0;
  /** Change ids the fake refuses with a 400 naming the change, like the edge does an unknown account. */
  readonly refuse = new Set<string>();
  readonly #bySyncId = new Map<string, number>();
  readonly #heads = new Map<string, string>();
  readonly #state = new Map<string, ConsentEvent>();
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
      if (url.pathname === "/v1/sync/apply" && req.method === "POST") {
        this.#apply(req, res);
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

  /**
   * Appends an event the way the edge does (global seq, per-account hash chain), so feeds that
   * mix edge-made and pushed changes stay valid. `events` may be preset by a test only before.
   */
  append(
    change: Omit<ConsentEvent, "seq" | "id" | "recordedAt" | "prevHash" | "hash">,
  ): Promise<ConsentEvent> {
    // One append at a time (D1 is a single writer): a seq is taken only after the previous is sealed.
    const next = this.#appending.then(() => this.#append(change));
    this.#appending = next.catch(() => {});
    return next;
  }

  #appending: Promise<unknown> = Promise.resolve();

  async #append(
    change: Omit<ConsentEvent, "seq" | "id" | "recordedAt" | "prevHash" | "hash">,
  ): Promise<ConsentEvent> {
    const seq = (this.events.at(-1)?.seq ?? 0) + 1;
    if (this.#heads.size === 0) for (const e of this.events) this.#heads.set(e.accountId, e.hash);
    const event = await sealEvent({
      ...change,
      seq,
      id: `evt_${seq}`,
      recordedAt: new Date().toISOString(),
      prevHash: this.#heads.get(change.accountId) ?? GENESIS_HASH,
    });
    this.#heads.set(event.accountId, event.hash);
    this.events.push(event);
    const key = entryKey(event);
    if (supersedes(event, this.#state.get(key))) this.#state.set(key, event);
    return event;
  }

  /** The winning event per entry, by the core rule (what the edge's blocklist holds). */
  state(): Map<string, ConsentEvent> {
    return this.#state;
  }

  #apply(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse): void {
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => {
      body += d;
    });
    // One request at a time, like D1's single writer: seqs and chains stay consistent.
    req.on("end", () => {
      this.#writes = this.#writes.then(() => this.#applyBody(req, res, body)).catch(() => {});
    });
  }

  #writes: Promise<unknown> = Promise.resolve();

  async #applyBody(
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
    body: string,
  ): Promise<unknown> {
    {
      this.applyRequests++;
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        return json(401, { error: { code: "unauthorized", message: "bad token", requestId: "r" } });
      }
      const fault = this.faults.shift();
      if (fault?.type === "status") return json(fault.status, { error: { code: "x", message: "y" } });
      if (fault?.type === "reset") return req.socket.destroy();
      const { changes } = JSON.parse(body) as { changes: SyncChange[] };
      const refused = changes.findIndex((c) => this.refuse.has(c.id));
      if (refused >= 0) {
        return json(400, {
          error: {
            code: "invalid_input",
            message: `changes.${refused}.accountId: unknown account`,
            requestId: "r",
          },
        });
      }
      const results: Array<{ id: string; seq: number; applied: boolean }> = [];
      for (const c of changes) {
        const known = this.#bySyncId.get(c.id);
        if (known !== undefined) {
          results.push({ id: c.id, seq: known, applied: false });
          continue;
        }
        const current = this.#state.get(entryKey(c));
        const event = await this.append({
          accountId: c.accountId,
          address: c.address,
          channel: c.channel,
          scope: c.scope,
          action: c.action,
          source: "primary",
          occurredAt: new Date(c.occurredAt).toISOString(),
          evidence: { changeId: c.id, ...(c.reason ? { reason: c.reason } : {}) },
        });
        this.#bySyncId.set(c.id, event.seq);
        results.push({ id: c.id, seq: event.seq, applied: supersedes(event, current) });
      }
      const send = () => json(200, { results });
      if (fault?.type === "hang") setTimeout(send, fault.ms);
      else send();
    }
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}
