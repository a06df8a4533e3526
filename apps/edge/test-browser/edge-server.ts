import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

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

/**
 * apps/edge under `wrangler dev` on a free loopback port: local D1 (migrations applied) and KV in
 * a throwaway `--persist-to` directory, its own tokens. Shares nothing with a developer's
 * `pnpm dev`. `stop()` takes down wrangler and its workerd children (own process group).
 */
export class EdgeServer {
  readonly adminToken = "browser-admin-token-0123456789abcdef";
  readonly syncToken = "browser-sync-token-0123456789abcdef";
  url = "";
  output = "";
  #child: ChildProcess | undefined;
  #dir = "";

  async start(): Promise<this> {
    this.#dir = mkdtempSync(join(tmpdir(), "optout-edge-browser-"));
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" };
    await promisify(execFile)(
      process.execPath,
      [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", this.#dir],
      { cwd: EDGE_DIR, env },
    );
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
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
        `PUBLIC_LINK_BASE:${this.url}`,
        "--show-interactive-dev-session=false",
        "--log-level",
        "warn",
      ],
      { cwd: EDGE_DIR, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child.stdout!.on("data", (d) => {
      this.output += d;
    });
    this.#child.stderr!.on("data", (d) => {
      this.output += d;
    });
    const deadline = Date.now() + 60_000;
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

  /** A JSON API call; throws with the body on any non-2xx answer. */
  async api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}
