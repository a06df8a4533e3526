import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { CsvRecords, type ImportFormat, NdjsonLines } from "@optout/core";
import type { Config } from "../config.ts";
import { ConfigError, EXIT } from "../errors.ts";
import type { Logger } from "../log.ts";
import { accountEdge, edgeError, formatOf, MEDIA_TYPE, Progress } from "./blocklist-files.ts";

/** The edge's import report (`ImportReport` in its OpenAPI document). */
export interface ImportReport {
  digest: string;
  format: ImportFormat;
  status: "complete" | "in_progress";
  rows: number;
  imported: number;
  unchanged: number;
  superseded: number;
  refused: number;
  refusals: { row: number; reason: string }[];
  ignoredColumns: string[];
  replayed: boolean;
  resumedAfterRow: number;
}

/** Requests before giving up; each resumes where the last one stopped. */
const MAX_ATTEMPTS = 6;

/** The file's SHA-256 (what the edge names the import by) and its data rows, in one read. */
export async function scanFile(
  path: string,
  format: ImportFormat,
): Promise<{ digest: string; rows: number }> {
  const hash = createHash("sha256");
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const csv = format === "csv" ? new CsvRecords() : null;
  const ndjson = format === "ndjson" ? new NdjsonLines() : null;
  let records = 0;
  const count = (text: string, final: boolean) => {
    if (csv) records += csv.push(text).length + (final ? csv.end().length : 0);
    else if (ndjson) records += ndjson.push(text).length + (final ? ndjson.end().length : 0);
  };
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    count(decoder.decode(chunk as Buffer, { stream: true }), false);
  }
  count(decoder.decode(), true);
  // A CSV's first record is its header.
  return { digest: hash.digest("hex"), rows: csv ? Math.max(0, records - 1) : records };
}

export function formatReport(file: string, r: ImportReport): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const lines = [
    `import: ${r.replayed ? "already imported — " : ""}${r.status === "complete" ? "complete" : "in progress"}: ${basename(file)}, ${n(r.rows)} rows: ${n(r.imported)} imported, ${n(r.unchanged)} unchanged, ${n(r.superseded)} superseded, ${n(r.refused)} refused`,
  ];
  for (const refusal of r.refusals) lines.push(`  row ${refusal.row}: ${refusal.reason}`);
  if (r.refused > r.refusals.length)
    lines.push(`  … and ${n(r.refused - r.refusals.length)} more refused rows`);
  if (r.ignoredColumns.length > 0) lines.push(`  ignored columns: ${r.ignoredColumns.join(", ")}`);
  if (r.resumedAfterRow > 0 && !r.replayed) lines.push(`  resumed after row ${n(r.resumedAfterRow)}`);
  lines.push(`  sha256 ${r.digest}`, "");
  return lines.join("\n");
}

/**
 * `import FILE`: posts the file to `POST /v1/blocklist/import` as it reads it, named by its
 * SHA-256. The edge records the import's progress with its rows, so a run that is cut (network,
 * Ctrl-C, a 503) resumes when retried — here up to MAX_ATTEMPTS times, or by running `import`
 * again: the edge skips the rows it has and continues after them. Importing a file again records
 * nothing and prints its report.
 */
export async function importCommand(
  file: string | undefined,
  values: { format?: string; edge?: string; key?: string; json?: boolean },
  config: Config,
  log: Logger,
): Promise<number> {
  if (!file) throw new ConfigError("import: name the FILE to import (optout-sync import FILE)");
  const format = formatOf(values.format, file);
  const edge = accountEdge(values, config);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    process.stderr.write(`optout-sync: cannot read ${file}: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  let scanned: { digest: string; rows: number };
  try {
    scanned = await scanFile(file, format);
  } catch (e) {
    process.stderr.write(`optout-sync: ${file} cannot be read as ${format}: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  const { digest, rows } = scanned;
  const headers = { authorization: `Bearer ${edge.apiKey}` };
  const statusUrl = `${edge.edgeUrl}/v1/blocklist/import/${digest}`;
  process.stderr.write(
    `import: ${basename(file)} (${format}, ${rows.toLocaleString("en-US")} rows, sha256 ${digest.slice(0, 12)}…) to ${edge.edgeUrl}\n`,
  );

  const finish = (report: ImportReport) => {
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(file, report));
    return EXIT.ok;
  };

  let lastProblem = "";
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** (attempt - 1))));
    // Where the edge stands: complete (print it), in progress (say where it resumes), or new.
    try {
      const res = await fetch(statusUrl, { headers, signal: AbortSignal.timeout(edge.timeoutMs) });
      if (res.ok) {
        const report = (await res.json()) as ImportReport;
        if (report.status === "complete") return finish({ ...report, replayed: true });
        process.stderr.write(`import: resuming after row ${report.rows.toLocaleString("en-US")}\n`);
      } else if (res.status === 401) {
        const e = await edgeError(res);
        process.stderr.write(`optout-sync: the edge refused the API key: ${e.message}\n`);
        return EXIT.failed;
      } else {
        await res.body?.cancel();
      }
    } catch (e) {
      lastProblem = (e as Error).message;
      log.warn({ attempt, error: lastProblem }, "the edge could not be reached; retrying");
      continue;
    }

    const progress = new Progress("import", rows);
    let sent = 0;
    const source = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
    const counted = source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          sent += chunk.byteLength;
          // Rows are estimated from the bytes sent; the edge reads as fast as it commits.
          progress.update(size > 0 ? Math.floor((rows * sent) / size) : rows);
          controller.enqueue(chunk);
        },
      }),
    );
    let res: Response;
    try {
      res = await fetch(`${edge.edgeUrl}/v1/blocklist/import`, {
        method: "POST",
        headers: { ...headers, "content-type": MEDIA_TYPE[format], "x-import-digest": digest },
        body: counted as unknown as BodyInit,
        duplex: "half",
      } as RequestInit);
    } catch (e) {
      progress.done();
      lastProblem = (e as Error).message;
      log.warn({ attempt, error: lastProblem }, "the import was cut; resuming");
      continue;
    }
    if (res.ok) {
      progress.update(rows, true);
      progress.done();
      return finish((await res.json()) as ImportReport);
    }
    progress.done();
    const e = await edgeError(res);
    lastProblem = `${e.code}: ${e.message}`;
    // 5xx: the edge could not commit now; 409: another request holds the import, or it was reset;
    // 400 naming the digest: the body reached the edge cut short. All resume.
    const resumable =
      res.status >= 500 || res.status === 409 || (res.status === 400 && /X-Import-Digest/.test(e.message));
    if (!resumable) {
      process.stderr.write(`optout-sync: the edge refused the import (${res.status}): ${e.message}\n`);
      return EXIT.failed;
    }
    log.warn({ attempt, status: res.status, error: lastProblem }, "the import stopped; resuming");
  }
  process.stderr.write(
    `optout-sync: the import did not finish after ${MAX_ATTEMPTS} attempts (${lastProblem}); run the same command again to resume\n`,
  );
  return EXIT.failed;
}
