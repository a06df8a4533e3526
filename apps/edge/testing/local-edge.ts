import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * The real edge for Node-side tests and scripts (browser tests, the sync daemon's integration
 * tests, the lag benchmark): apps/edge under `wrangler dev` on a free loopback port, local D1
 * (migrations applied) and KV in a throwaway `--persist-to` directory, its own tokens. Shares
 * nothing with a developer's `pnpm dev`. Import it as `@optout/edge/testing`.
 */

const EDGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class LocalEdge {
  readonly adminToken = "local-edge-admin-token-0123456789abcdef";
  readonly syncToken = "local-edge-sync-token-0123456789abcdef";
  url = "";
  /** wrangler's output, for failure messages. */
  output = "";
  #child: ChildProcess | undefined;
  #dir = "";

  /** Starts the edge; one retry absorbs a port taken between choosing it and binding it. */
  async start(): Promise<this> {
    try {
      return await this.#start();
    } catch (first) {
      await this.stop();
      this.output = `${(first as Error).message}\n--- retrying ---\n`;
      return this.#start();
    }
  }

  async #start(): Promise<this> {
    this.#dir = mkdtempSync(join(tmpdir(), "optout-local-edge-"));
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" };
    await promisify(execFile)(
      process.execPath,
      [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", this.#dir],
      { cwd: EDGE_DIR, env },
    );
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    // Own process group, so stop() takes wrangler's workerd children down with it.
    this.#child = spawn(
      process.execPath,
      [
        WRANGLER,
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(await freePort()),
        "--persist-to",
        this.#dir,
        "--var",
        `ADMIN_TOKEN:${this.adminToken}`,
        "--var",
        `SYNC_TOKEN:${this.syncToken}`,
        "--var",
        "EDGE_SECRET:local-edge-secret-0123456789abcdef",
        // Not production, whatever a developer's .dev.vars says (--var wins): URLs follow the request.
        "--var",
        "ENVIRONMENT:test",
        "--var",
        `PUBLIC_LINK_BASE:${this.url}`,
        "--show-interactive-dev-session=false",
        "--log-level",
        "warn",
      ],
      { cwd: EDGE_DIR, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    const collect = (d: Buffer) => {
      this.output += d;
    };
    this.#child.stdout!.on("data", collect);
    this.#child.stderr!.on("data", collect);
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return this;
      } catch {
        // not up yet
      }
      if (this.#child.exitCode !== null) throw new Error(`wrangler dev exited:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`wrangler dev did not become healthy:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      const kill = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
      };
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }

  /**
   * One JSON API call; throws with the body on any other non-2xx answer. wrangler dev reloads the
   * worker when apps/edge's sources change (while someone edits them) and answers 503 to a request
   * caught in the reload; callers here make calls that are safe to repeat, so those are retried.
   */
  async request<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let res: Response | undefined;
      try {
        res = await fetch(`${this.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body ? { "content-type": "application/json" } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
      } catch (e) {
        if (attempt >= 5) throw e;
      }
      if (res) {
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as T;
        if (res.status !== 503 || attempt >= 5) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
      }
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}
