import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * The CLI from its TypeScript sources (through tsx), so the tests need no build; the compiled
 * bin (bin/optout-sync.mjs → dist/) is proved from its deploy folder by scripts/check-deploy.mjs.
 */
export const BIN = fileURLToPath(new URL("../../scripts/optout-sync-src.mjs", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();

/** SIGKILLs every child still running: for afterAll, so a failed test leaves no daemon behind. */
export function killLiveChildren(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

/** A running `optout-sync` child with its output collected as it comes. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<CliResult>;

  constructor(args: string[], env: Record<string, string | undefined>, cwd?: string) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", HTTP_PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      this.stdout += d;
    });
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
    });
    live.add(this.child);
    this.child.on("exit", () => live.delete(this.child));
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      );
    });
  }

  /** JSON log lines written so far. */
  logs(): Array<Record<string, unknown>> {
    return this.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Resolves once stderr matches `pattern` (plain output such as progress lines). */
  async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (this.child.exitCode !== null) throw new Error(`optout-sync exited first:\n${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}:\n${this.stderr.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves once a log line satisfies `match`; rejects if the process exits first. */
  async waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    this.exited.then(() => {
      done = true;
    });
    for (;;) {
      if (this.logs().some(match)) return;
      if (done) throw new Error(`optout-sync exited before the expected log line:\n${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for a log line:\n${this.stderr.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  cwd?: string,
): Promise<CliResult> {
  return new CliProcess(args, env, cwd).exited;
}
