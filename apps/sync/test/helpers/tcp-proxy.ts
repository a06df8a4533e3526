import { connect, createServer, type Server, type Socket } from "node:net";

export type ProxyMode = "pass" | "refuse" | "stall";

/**
 * A TCP proxy on loopback between the daemon and a server (PostgreSQL or the edge), that a test
 * cuts and restores: `refuse` closes the listener (connection refused) and drops every open
 * connection, as a restarting server does; `stall` accepts and forwards nothing (a hung network,
 * so timeouts fire); `pass` forwards again. Isolated: other tests and processes using the same
 * server are not affected.
 */
export class TcpProxy {
  port = 0;
  mode: ProxyMode = "pass";
  connections = 0;
  readonly #open = new Set<Socket>();
  readonly #pairs = new Set<[Socket, Socket]>();
  #server: Server | undefined;

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<this> {
    this.#server = createServer((client) => {
      this.connections++;
      this.#open.add(client);
      client.on("close", () => this.#open.delete(client));
      client.on("error", () => {});
      if (this.mode === "stall") return; // hold it open, forward nothing
      const upstream = connect(this.targetPort, this.targetHost);
      this.#open.add(upstream);
      upstream.on("close", () => {
        this.#open.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => client.destroy());
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      client.on("close", () => {
        this.#pairs.delete(pair);
        upstream.destroy();
      });
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.#server!.address() as { port: number }).port;
    return this;
  }

  /** Drops every connection and refuses new ones until pass(). */
  async refuse(): Promise<void> {
    this.mode = "refuse";
    this.dropAll();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
    this.#server = undefined;
  }

  /** Drops open connections; new ones are accepted but go nowhere. */
  stall(): void {
    this.mode = "stall";
    this.dropAll();
  }

  /**
   * The connections open now hang: kept open, nothing forwarded either way, as when a network
   * path dies without a reset (a query in flight never gets its answer). New connections pass.
   */
  freeze(): void {
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.#pairs.clear();
  }

  async pass(): Promise<void> {
    this.mode = "pass";
    if (!this.#server) await this.start(this.port);
  }

  dropAll(): void {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}
