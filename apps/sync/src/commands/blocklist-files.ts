/**
 * What `import` and `export` share: which edge and which account (the account's API key, not
 * SYNC_TOKEN: a blocklist belongs to one account), the file format, and progress output — a bar
 * on a terminal, a plain line every PROGRESS_EVERY rows otherwise.
 */
import { IMPORT_FORMATS, type ImportFormat } from "@optout/core";
import { type Config, isLoopbackHost } from "../config.ts";
import { ConfigError } from "../errors.ts";

/** Rows between two plain progress lines when stderr is not a terminal. */
export const PROGRESS_EVERY = 100_000;

export interface AccountEdge {
  edgeUrl: string;
  apiKey: string;
  timeoutMs: number;
}

/**
 * The edge (`--edge`, else EDGE_URL) and the account's API key (`--key`, else OPTOUT_API_KEY).
 * Plain http:// only to loopback unless EDGE_ALLOW_HTTP=true, as for the daemon.
 */
export function accountEdge(
  values: { edge?: string; key?: string },
  config: Config,
  env: Record<string, string | undefined> = process.env,
): AccountEdge {
  const problems: string[] = [];
  let edgeUrl = config.edgeUrl;
  if (values.edge !== undefined) {
    try {
      const url = new URL(values.edge);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("protocol");
      edgeUrl = url.toString().replace(/\/+$/, "");
      if (url.protocol === "http:" && !isLoopbackHost(url.hostname) && env.EDGE_ALLOW_HTTP !== "true") {
        problems.push(
          "--edge: plain http:// to a host that is not loopback sends the API key in clear; use https://, or set EDGE_ALLOW_HTTP=true",
        );
      }
    } catch {
      problems.push(`--edge: must be an http:// or https:// URL (got ${JSON.stringify(values.edge)})`);
    }
  }
  const apiKey = (values.key ?? env.OPTOUT_API_KEY ?? "").trim();
  if (!apiKey) {
    problems.push(
      "OPTOUT_API_KEY: is required (the account's API key, sk_live_… or sk_test_…; or pass --key)",
    );
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  return { edgeUrl, apiKey, timeoutMs: config.requestTimeoutMs };
}

/** `--format`, else the file name's extension (`.csv`; `.ndjson`, `.jsonl`), else `fallback`. */
export function formatOf(
  flag: string | undefined,
  fileName: string | undefined,
  fallback?: ImportFormat,
): ImportFormat {
  if (flag !== undefined) {
    if (!(IMPORT_FORMATS as readonly string[]).includes(flag))
      throw new ConfigError(`--format: must be csv or ndjson (got ${JSON.stringify(flag)})`);
    return flag as ImportFormat;
  }
  const name = fileName?.toLowerCase() ?? "";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "ndjson";
  if (fallback) return fallback;
  throw new ConfigError("--format: cannot tell from the file name; pass --format csv or --format ndjson");
}

export const MEDIA_TYPE: Record<ImportFormat, string> = {
  csv: "text/csv",
  ndjson: "application/x-ndjson",
};

/** One progress line: a bar on a terminal (total known), plain text otherwise. */
export function progressLine(
  verb: string,
  done: number,
  total: number | null,
  rate: number,
  tty: boolean,
): string {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const counts = `${fmt(done)}${total === null ? "" : `/${fmt(total)}`} rows, ${fmt(rate)}/s`;
  if (!tty) return `${verb}: ${counts}\n`;
  if (total === null) return `\r${verb}: ${counts}\u001b[K`;
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const width = 30;
  const filled = Math.round(fraction * width);
  const eta = rate > 0 && total > done ? `, ETA ${Math.ceil((total - done) / rate)} s` : "";
  return `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${`${Math.floor(fraction * 100)}%`.padStart(4)} ${counts}${eta}\u001b[K`;
}

/**
 * Progress output: on a terminal a bar redrawn at most 10 times a second, otherwise a line each
 * time another PROGRESS_EVERY rows are done.
 */
export class Progress {
  private readonly startedAt = performance.now();
  private lastDrawn = 0;
  private lastLineAt = 0;

  constructor(
    private readonly verb: string,
    private readonly total: number | null,
    private readonly tty = Boolean(process.stderr.isTTY),
    private readonly write = (s: string) => process.stderr.write(s),
    private readonly startAt = 0,
  ) {}

  update(done: number, force = false): void {
    const now = performance.now();
    const rate = ((done - this.startAt) / Math.max(1, now - this.startedAt)) * 1000;
    if (this.tty) {
      if (!force && now - this.lastDrawn < 100) return;
      this.lastDrawn = now;
      this.write(progressLine(this.verb, done, this.total, rate, true));
      return;
    }
    const mark = Math.floor(done / PROGRESS_EVERY);
    if (force || mark > this.lastLineAt) {
      this.lastLineAt = mark;
      this.write(progressLine(this.verb, done, this.total, rate, false));
    }
  }

  done(): void {
    if (this.tty) this.write("\n");
  }
}

/** The error envelope's code and message, or the status alone. */
export async function edgeError(res: Response): Promise<{ status: number; code: string; message: string }> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message)
      return { status: res.status, code: parsed.error.code ?? "error", message: parsed.error.message };
  } catch {
    // Not the edge's envelope (a proxy's page, say).
  }
  return { status: res.status, code: "http", message: `HTTP ${res.status}` };
}
