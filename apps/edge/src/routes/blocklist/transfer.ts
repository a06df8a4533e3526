/**
 * Blocklist files: `POST /v1/blocklist/import` reads CSV or NDJSON as it streams in and commits
 * its rows through the account's writer in chunks, idempotent by (file digest, row);
 * `GET /v1/blocklist/export` streams the active entries back in the same columns. See
 * docs/adr/0011-blocklist-import-export.md.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  CsvRecords,
  EXPORT_CSV_HEADER,
  type ExportEntry,
  exportCsvLine,
  exportNdjsonLine,
  IMPORT_FORMATS,
  type ImportColumns,
  type ImportFormat,
  type ImportRecord,
  importColumnsOf,
  importRecordOf,
  importRecordOfJson,
  NdjsonLines,
  parseScopeKey,
  readImportRow,
  sha256Hex,
  toHex,
} from "@optout/core";
import type { Context } from "hono";
import type { AppEnv } from "../../lib/app-env.ts";
import { requireAccount } from "../../lib/auth.ts";
import { createRouter } from "../../lib/create-app.ts";
import { ApiError, authErrors, commonErrors, errorResponse, writeErrors } from "../../lib/errors.ts";
import { jsonContent, security } from "../../lib/openapi.ts";
import { commitWrite } from "../../writer/client.ts";
import type { ImportChunk } from "../../writer/ops.ts";

const tags = ["blocklist"];

/** Rows per commit: half a writer group, so other changes of the account fit beside it. */
export const IMPORT_CHUNK_ROWS = 1000;
/** Refusals listed in a report (with row numbers); beyond, they are only counted. */
export const MAX_LISTED_REFUSALS = 100;
/** The largest file one request takes (Workers accept request bodies up to 100 MB). */
export const MAX_IMPORT_BYTES = 100 * 1024 * 1024;
/** Active entries read per D1 query of an export. */
const EXPORT_PAGE = 1000;

const MEDIA_TYPES: Record<string, ImportFormat> = {
  "text/csv": "csv",
  "application/csv": "csv",
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
  "application/jsonl": "ndjson",
};
const CONTENT_TYPE: Record<ImportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  ndjson: "application/x-ndjson; charset=utf-8",
};

const Digest = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{64}$/, "must be the file's SHA-256 as 64 hex digits")
  .transform((d) => d.toLowerCase());

const Refusal = z.object({
  row: z
    .number()
    .int()
    .positive()
    .openapi({ description: "Data row number (1-based; a CSV header is not a row)" }),
  reason: z.string().openapi({ description: "Why the row was refused (names the field, never its value)" }),
});

const ImportReport = z
  .object({
    digest: z.string().openapi({ description: "SHA-256 of the file (hex): the import's identity" }),
    format: z.enum(IMPORT_FORMATS),
    status: z.enum(["complete", "in_progress"]).openapi({
      description: "`in_progress`: rows up to `rows` are recorded; post the same file again to resume",
    }),
    rows: z.number().int().openapi({ description: "Data rows read so far (recorded or refused)" }),
    imported: z
      .number()
      .int()
      .openapi({ description: "Rows that blocked an address (one `opt_out` event each)" }),
    unchanged: z
      .number()
      .int()
      .openapi({ description: "Rows already blocked that way (or repeated in the file): nothing recorded" }),
    superseded: z.number().int().openapi({
      description:
        "Rows recorded in the ledger that a later change of the entry outranks (e.g. a newer opt-in)",
    }),
    refused: z.number().int().openapi({ description: "Rows that could not be read: nothing recorded" }),
    refusals: z.array(Refusal).openapi({ description: `The first ${MAX_LISTED_REFUSALS} refused rows` }),
    ignoredColumns: z.array(z.string()).openapi({ description: "CSV header cells that name no field" }),
    replayed: z
      .boolean()
      .openapi({ description: "This file was imported before: the report of then; the body was not read" }),
    resumedAfterRow: z
      .number()
      .int()
      .openapi({ description: "Rows an earlier request had already recorded, skipped by this one" }),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi("ImportReport");
type ImportReport = z.infer<typeof ImportReport>;

const fileSchema = z.string().openapi({ format: "binary" });

const importRoute = createRoute({
  method: "post",
  path: "/v1/blocklist/import",
  operationId: "importBlocklist",
  tags,
  summary: "Import a blocklist file (CSV or NDJSON)",
  description: [
    "Blocks every readable row of a file: one `opt_out` ledger event with source `import` per row, its",
    "evidence `{ importDigest, importRow }` (plus `reason`). The body is read as it streams (up to 100 MB)",
    "and committed **in chunks** of 1,000 rows, each chunk atomically with the import's progress, so a",
    "large import is not all-or-nothing: a cut request leaves the chunks before it recorded.",
    "",
    "**Idempotent by (file digest, row).** `X-Import-Digest` is the SHA-256 of the exact body (hex;",
    "`sha256sum file.csv`). Posting the same file again skips the rows already recorded and continues",
    "after them (a resume), or, once complete, answers the first report without reading the body.",
    "The edge hashes the body as it reads it: if it does not match (a body cut short, another file), the",
    "answer is 400 and the rows read stay recorded; a resume first checks that its body starts with the",
    "rows recorded (409 and the progress reset if not).",
    "",
    "**CSV** (`text/csv`): RFC 4180, UTF-8; the first line is a header. Columns, matched",
    "case-insensitively ignoring spaces, `_` and `-`: `address` (also `phone`, `phone_number`,",
    "`mobile`, `msisdn`, `email`, `email_address`, …; required), `channel` (`sms`, `whatsapp`,",
    "`email`, `voice`, `*`; default `*`), `scope` (`account` or `sender:<id>`; default `account`) or a",
    "`sender` column (sender scope), `reason` (also `note`, `comment`), `occurredAt` (also `date`,",
    "`timestamp`, `created_at`, `unsubscribed_at`: ISO-8601 instant, or a date or date-time without",
    "offset read as UTC; default now). Other columns are ignored and listed in the report.",
    "**NDJSON** (`application/x-ndjson`): one JSON object per line with the same member names (a",
    "`scope` may also be `{ type, sender }`).",
    "",
    "Rows are read by the rules of `POST /v1/blocklist` (the account's default region, storable text,",
    "occurredAt at most 15 minutes ahead and not before 1970); a row that cannot be read is refused",
    "and reported with its number (1-based, the header not counted). Rows already blocked that way",
    "are `unchanged`.",
  ].join("\n"),
  security: security.account,
  middleware: [requireAccount] as const,
  request: {
    headers: z.object({
      "x-import-digest": Digest.openapi({
        description: "SHA-256 of the body as 64 hex digits: the import's identity, verified at the end",
      }),
    }),
    body: {
      required: true,
      content: {
        "text/csv": { schema: fileSchema },
        "application/x-ndjson": { schema: fileSchema },
      },
    },
  },
  responses: {
    200: jsonContent(ImportReport, "The import's report (`replayed`: it was complete before this request)"),
    ...commonErrors,
    ...authErrors,
    409: errorResponse(
      "Another request is importing the same file right now, or it was imported as the other format (`conflict`)",
    ),
    413: errorResponse("Body larger than 100 MB (`payload_too_large`)"),
    415: errorResponse(
      "Content-Type is neither text/csv nor application/x-ndjson (`unsupported_media_type`)",
    ),
    ...writeErrors,
  },
});

const importStatusRoute = createRoute({
  method: "get",
  path: "/v1/blocklist/import/{digest}",
  operationId: "getBlocklistImport",
  tags,
  summary: "An import's progress and report",
  description:
    "Where the import of the file with this SHA-256 stands: `rows` recorded or refused so far (a resume " +
    "continues after them) and the report. 404 if no import of that file was started.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: { params: z.object({ digest: Digest }) },
  responses: {
    200: jsonContent(ImportReport, "The import's report"),
    ...commonErrors,
    ...authErrors,
    404: errorResponse("No import of this file (`not_found`)"),
  },
});

const exportRoute = createRoute({
  method: "get",
  path: "/v1/blocklist/export",
  operationId: "exportBlocklist",
  tags,
  summary: "Export the active entries (CSV or NDJSON)",
  description:
    "Streams the account's active entries in creation order, with the import's columns (`address`, " +
    "`channel`, `scope` as `account` or `sender:<id>`, `reason`, `occurredAt`), so an export imports " +
    "again (as `unchanged` rows). Read page by page while it streams: not a snapshot — an entry " +
    "changed during the export may or may not be in it.",
  security: security.account,
  middleware: [requireAccount] as const,
  request: {
    query: z.strictObject({
      format: z
        .enum(IMPORT_FORMATS)
        .default("csv")
        .openapi({ description: "`csv` (with a header) or `ndjson`" }),
    }),
  },
  responses: {
    200: {
      description: "The active entries",
      content: {
        "text/csv": { schema: fileSchema },
        "application/x-ndjson": { schema: fileSchema },
      },
    },
    ...commonErrors,
    ...authErrors,
  },
});

interface ImportsRow {
  digest: string;
  format: ImportFormat;
  status: "in_progress" | "complete";
  rowsDone: number;
  prefixDigest: string;
  imported: number;
  unchanged: number;
  superseded: number;
  refused: number;
  refusals: string;
  ignoredColumns: string;
  createdAt: string;
  completedAt: string | null;
}

const IMPORT_COLUMNS = `digest, format, status, rows_done AS rowsDone, prefix_digest AS prefixDigest, imported, unchanged, superseded, refused,
  refusals, ignored_columns AS ignoredColumns, created_at AS createdAt, completed_at AS completedAt`;

function reportOf(row: ImportsRow, extra: { replayed: boolean; resumedAfterRow: number }): ImportReport {
  return {
    digest: row.digest,
    format: row.format,
    status: row.status,
    rows: row.rowsDone,
    imported: row.imported,
    unchanged: row.unchanged,
    superseded: row.superseded,
    refused: row.refused,
    refusals: JSON.parse(row.refusals) as ImportReport["refusals"],
    ignoredColumns: JSON.parse(row.ignoredColumns) as string[],
    createdAt: row.createdAt,
    completedAt: row.completedAt,
    ...extra,
  };
}

function formatOf(contentType: string | undefined): ImportFormat {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  const format = MEDIA_TYPES[mediaType];
  if (!format)
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Content-Type must be text/csv or application/x-ndjson",
    );
  return format;
}

/**
 * What a file's first rows were, as a hash chain over blocks of IMPORT_CHUNK_ROWS rows (the CSV
 * header first): the progress an import records is only trusted by a resume whose body starts
 * with the same rows. The whole file's SHA-256 is known only at its end; this is known at every
 * chunk, so a body cut short (which may reach the Worker as a clean end) still resumes.
 */
class RowsDigest {
  private head = "";
  private block: string[] = [];

  async start(header: unknown): Promise<void> {
    this.head = await sha256Hex(JSON.stringify(header));
  }

  /** Adds one row (its cells or its line); closes the block when `row` ends one. */
  async add(raw: unknown, row: number): Promise<void> {
    this.block.push(JSON.stringify(raw));
    if (row % IMPORT_CHUNK_ROWS === 0) {
      this.head = await sha256Hex(`${this.head}\n${this.block.join("\n")}`);
      this.block = [];
    }
  }

  /** The digest of every row added so far. */
  async now(): Promise<string> {
    return this.block.length === 0 ? this.head : sha256Hex(`${this.head}\n${this.block.join("\n")}`);
  }
}

/** The body does not start with the rows the import recorded: another file under this digest. */
class ForeignPrefix extends Error {}

/**
 * Reads the body as it arrives, committing chunks (ending at block boundaries, or at the body's
 * end) while the next is parsed; rows the import already recorded are checked and skipped.
 */
async function runImport(
  c: Context<AppEnv>,
  body: ReadableStream<Uint8Array>,
  format: ImportFormat,
  digest: string,
  start: ImportsRow,
): Promise<{ actualDigest: string; rows: number; ignored: string[] }> {
  const principal = c.var.principal;
  const now = new Date();
  const region = principal.defaultRegion ?? undefined;
  const refusals = JSON.parse(start.refusals) as { row: number; reason: string }[];
  const hasher = new crypto.DigestStream("SHA-256");
  const hashing = hasher.getWriter();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const csv = format === "csv" ? new CsvRecords() : null;
  const ndjson = format === "ndjson" ? new NdjsonLines() : null;
  const rowsDigest = new RowsDigest();
  let columns: ImportColumns | undefined;
  if (ndjson) await rowsDigest.start(null);

  let row = 0;
  let committedTo = start.rowsDone;
  let items: ImportChunk["items"] = [];
  let refused = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | null = null;

  const send = async () => {
    const chunk: ImportChunk = {
      digest,
      afterRow: committedTo,
      toRow: row,
      items,
      refused,
      refusals: JSON.stringify(refusals),
      prefixDigest: await rowsDigest.now(),
    };
    committedTo = row;
    items = [];
    refused = 0;
    // One commit in flight: the next chunk is parsed while this one commits.
    await inFlight;
    if (failure) throw failure.err;
    inFlight = commitWrite(c.env, principal.accountId, { kind: "import", chunk }).then(
      () => undefined,
      (err) => {
        failure = { err };
      },
    );
  };

  const take = async (raw: unknown, record: ImportRecord | { refusal: string }) => {
    row++;
    await rowsDigest.add(raw, row);
    if (row <= start.rowsDone) {
      if (row === start.rowsDone && (await rowsDigest.now()) !== start.prefixDigest)
        throw new ForeignPrefix();
      return;
    }
    const read =
      "refusal" in record
        ? { ok: false as const, reason: record.refusal }
        : readImportRow(record, { defaultRegion: region, now });
    if (read.ok) {
      const r = read.row;
      items.push({
        row,
        change: {
          address: r.address,
          channel: r.channel,
          scope: r.scope,
          action: "opt_out",
          source: "import",
          occurredAt: r.occurredAt,
          evidence: { importDigest: digest, importRow: row, ...(r.reason ? { reason: r.reason } : {}) },
          reason: r.reason,
          skipIfUnchanged: true,
        },
      });
    } else {
      refused++;
      if (refusals.length < MAX_LISTED_REFUSALS) refusals.push({ row, reason: read.reason });
    }
    if (row % IMPORT_CHUNK_ROWS === 0) await send();
  };

  const takeText = async (text: string, final: boolean) => {
    if (csv) {
      const records = final ? [...csv.push(text), ...csv.end()] : csv.push(text);
      for (const cells of records) {
        if (!columns) {
          columns = importColumnsOf(cells);
          await rowsDigest.start(cells);
          continue;
        }
        await take(cells, importRecordOf(cells, columns));
      }
    } else if (ndjson) {
      const lines = final ? [...ndjson.push(text), ...ndjson.end()] : ndjson.push(text);
      for (const line of lines) {
        const parsed = importRecordOfJson(line);
        await take(line, parsed.ok ? parsed.record : { refusal: parsed.reason });
      }
    }
  };

  const reader = body.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > MAX_IMPORT_BYTES) {
        throw new ApiError(413, "payload_too_large", `the file is larger than ${MAX_IMPORT_BYTES} bytes`);
      }
      await hashing.write(value);
      let text: string;
      try {
        text = decoder.decode(value, { stream: true });
      } catch {
        throw new ApiError(400, "invalid_input", `the file is not valid UTF-8 (after row ${row})`);
      }
      await takeText(text, false);
    }
    let rest: string;
    try {
      rest = decoder.decode();
    } catch {
      throw new ApiError(400, "invalid_input", "the file is not valid UTF-8 (at its end)");
    }
    await takeText(rest, true);
    if (bytes === 0) throw new ApiError(400, "invalid_input", "the file is empty");
    if (csv && !columns) throw new ApiError(400, "invalid_input", "the file has no header line");
    if (row < start.rowsDone) throw new ForeignPrefix();
  } catch (err) {
    reader.cancel().catch(() => undefined);
    // What was sent commits or fails on its own; wait, so the answer says where the import stands.
    await inFlight;
    throw err;
  }
  await inFlight;
  if (failure) throw (failure as { err: unknown }).err;
  await hashing.close();
  const actualDigest = toHex(await hasher.digest);
  // The rows after the last full block are recorded only from a body that is the whole file: a
  // body cut short may end in the middle of its last row (and reach us as a clean end).
  if (actualDigest === digest && items.length + refused > 0) {
    await send();
    await inFlight;
    if (failure) throw (failure as { err: unknown }).err;
  }
  return { actualDigest, rows: row, ignored: columns?.ignored ?? [] };
}

export const blocklistTransferRoutes = createRouter()
  .openapi(importRoute, async (c) => {
    const format = formatOf(c.req.header("content-type"));
    const digest = c.req.valid("header")["x-import-digest"];
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > MAX_IMPORT_BYTES)
      throw new ApiError(413, "payload_too_large", `the file is larger than ${MAX_IMPORT_BYTES} bytes`);
    const body = c.req.raw.body;
    if (!body) throw new ApiError(400, "invalid_input", "the file is empty");
    const accountId = c.var.principal.accountId;
    const d1 = c.env.DB;
    const now = new Date().toISOString();
    const select = d1.prepare(`SELECT ${IMPORT_COLUMNS} FROM imports WHERE account_id = ?1 AND digest = ?2`);
    // Not part of the chain: the import's row is created here; only its progress moves with the writer.
    const [, found] = await d1.batch<ImportsRow>([
      d1
        .prepare(
          `INSERT INTO imports (account_id, digest, format, status, created_at, updated_at)
          VALUES (?1, ?2, ?3, 'in_progress', ?4, ?4) ON CONFLICT DO NOTHING`,
        )
        .bind(accountId, digest, format, now),
      select.bind(accountId, digest),
    ]);
    const start = found?.results[0];
    if (!start) throw new Error("the import row was not created");
    if (start.format !== format) {
      await body.cancel();
      throw new ApiError(
        409,
        "conflict",
        `this file was imported as ${start.format}; send it with that Content-Type`,
      );
    }
    if (start.status === "complete") {
      await body.cancel();
      return c.json(reportOf(start, { replayed: true, resumedAfterRow: start.rowsDone }), 200);
    }

    let ran: Awaited<ReturnType<typeof runImport>>;
    try {
      ran = await runImport(c, body, format, digest, start);
    } catch (err) {
      if (!(err instanceof ForeignPrefix)) throw err;
      // The rows recorded under this digest came from another body: forget that progress, so
      // this file, posted again, is read from its first row (rows already blocked are unchanged).
      await d1
        .prepare("DELETE FROM imports WHERE account_id = ?1 AND digest = ?2 AND rows_done = ?3")
        .bind(accountId, digest, start.rowsDone)
        .run();
      throw new ApiError(
        409,
        "conflict",
        `this body's first ${start.rowsDone} rows are not the rows recorded under this X-Import-Digest; ` +
          "the import's progress was reset: post the file again",
      );
    }
    if (ran.actualDigest !== digest) {
      // Cut short (a cut connection can end a body cleanly) or another file: the rows read were
      // recorded with the import's progress, which a resume trusts only for the same rows.
      throw new ApiError(
        400,
        "invalid_input",
        `the body's SHA-256 is ${ran.actualDigest}, not the X-Import-Digest ${digest}: it was cut short or is ` +
          `another file. Rows up to the last full block of ${IMPORT_CHUNK_ROWS} were recorded; post the file again to resume`,
      );
    }
    const [, after] = await d1.batch<ImportsRow>([
      d1
        .prepare(
          `UPDATE imports SET status = 'complete', completed_at = ?3, updated_at = ?3, ignored_columns = ?5
          WHERE account_id = ?1 AND digest = ?2 AND rows_done = ?4`,
        )
        .bind(accountId, digest, new Date().toISOString(), ran.rows, JSON.stringify(ran.ignored)),
      select.bind(accountId, digest),
    ]);
    const row = after?.results[0];
    if (!row) throw new ApiError(409, "conflict", "this import was reset meanwhile; post the file again");
    return c.json(reportOf(row, { replayed: false, resumedAfterRow: start.rowsDone }), 200);
  })
  .openapi(importStatusRoute, async (c) => {
    const { digest } = c.req.valid("param");
    const row = await c.env.DB.prepare(
      `SELECT ${IMPORT_COLUMNS} FROM imports WHERE account_id = ?1 AND digest = ?2`,
    )
      .bind(c.var.principal.accountId, digest)
      .first<ImportsRow>();
    if (!row) throw new ApiError(404, "not_found", "no import of this file");
    return c.json(reportOf(row, { replayed: false, resumedAfterRow: 0 }), 200);
  })
  .openapi(exportRoute, async (c) => {
    const { format } = c.req.valid("query");
    const accountId = c.var.principal.accountId;
    const d1 = c.env.DB;
    const encoder = new TextEncoder();
    const line = format === "csv" ? exportCsvLine : exportNdjsonLine;
    let cursor = 0;
    // Walks blocklist_entries_account_active_id_idx a page at a time: constant memory, and each
    // page is read only when the client has taken the one before (pull).
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (format === "csv") controller.enqueue(encoder.encode(EXPORT_CSV_HEADER));
      },
      async pull(controller) {
        const { results } = await d1
          .prepare(
            `SELECT id, address, channel, scope_key AS scopeKey, reason, occurred_at AS occurredAt
            FROM blocklist_entries WHERE account_id = ?1 AND active = 1 AND id > ?2 ORDER BY id LIMIT ?3`,
          )
          .bind(accountId, cursor, EXPORT_PAGE)
          .all<{ id: number; scopeKey: string } & Omit<ExportEntry, "scope">>();
        if (results.length === 0) {
          controller.close();
          return;
        }
        cursor = results.at(-1)!.id;
        let text = "";
        for (const r of results) text += line({ ...r, scope: parseScopeKey(r.scopeKey) });
        controller.enqueue(encoder.encode(text));
      },
    });
    return c.body(stream, 200, {
      "content-type": CONTENT_TYPE[format],
      "content-disposition": `attachment; filename="blocklist.${format === "csv" ? "csv" : "ndjson"}"`,
      "cache-control": "no-store",
    });
  });
