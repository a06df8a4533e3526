import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Writable } from "node:stream";
import type { Config } from "../config.ts";
import { EXIT } from "../errors.ts";
import type { Logger } from "../log.ts";
import { accountEdge, edgeError, formatOf, Progress } from "./blocklist-files.ts";

/**
 * `export`: streams `GET /v1/blocklist/export` to `--output FILE` (written beside it and renamed
 * when complete, so a cut export never leaves a file that looks whole) or to stdout. The file
 * imports again with `optout-sync import`.
 */
export async function exportCommand(
  values: { format?: string; edge?: string; key?: string; output?: string },
  config: Config,
  _log: Logger,
): Promise<number> {
  const format = formatOf(values.format, values.output, "csv");
  const edge = accountEdge(values, config);
  let res: Response;
  try {
    res = await fetch(`${edge.edgeUrl}/v1/blocklist/export?format=${format}`, {
      headers: { authorization: `Bearer ${edge.apiKey}` },
    });
  } catch (e) {
    process.stderr.write(`optout-sync: the edge could not be reached: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  if (!res.ok || !res.body) {
    const e = await edgeError(res);
    process.stderr.write(`optout-sync: the edge refused the export (${e.status}): ${e.message}\n`);
    return EXIT.failed;
  }
  const output = values.output;
  const partial = output ? `${output}.partial` : null;
  const sink = partial ? createWriteStream(partial) : process.stdout;
  // Progress goes to stderr; when the entries themselves go to stdout, only on a terminal's stderr.
  const progress = output || process.stderr.isTTY ? new Progress("export", null) : null;
  let rows = format === "csv" ? -1 : 0;
  const counting = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const byte of chunk) if (byte === 0x0a) rows++;
      progress?.update(Math.max(0, rows));
      controller.enqueue(chunk);
    },
  });
  try {
    await res.body.pipeThrough(counting).pipeTo(Writable.toWeb(sink) as WritableStream<Uint8Array>);
    if (partial && output) await rename(partial, output);
  } catch (e) {
    if (partial) await rm(partial, { force: true });
    progress?.done();
    process.stderr.write(`optout-sync: the export was cut: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
  progress?.update(Math.max(0, rows), true);
  progress?.done();
  process.stderr.write(
    `export: ${Math.max(0, rows).toLocaleString("en-US")} active entries (${format})${output ? ` to ${output}` : ""}\n`,
  );
  return EXIT.ok;
}
