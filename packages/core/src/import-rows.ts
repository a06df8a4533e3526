/**
 * Blocklist files in and out (`POST /v1/blocklist/import`, `GET /v1/blocklist/export`): splitting
 * CSV and NDJSON into records as text arrives, mapping a header's columns to the fields an entry
 * has, and reading one row by the same rules as `POST /v1/blocklist`. Pure: the edge streams the
 * bytes in, the sync CLI counts rows with the same splitters.
 */
import { normalizeAddress } from "./address.ts";
import { DomainError, isDomainError } from "./errors.ts";
import { canonicalInstant, futureInstantProblem } from "./instant.ts";
import { Channel, type Scope, Sender } from "./schemas.ts";
import { parseScopeKey, scopeKey } from "./scope.ts";
import { textProblem } from "./storable-text.ts";

export const IMPORT_FORMATS = ["csv", "ndjson"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The fields a row can carry; an export writes exactly these columns, so it imports again. */
export const IMPORT_FIELDS = ["address", "channel", "scope", "sender", "reason", "occurredAt"] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];
export const EXPORT_COLUMNS = ["address", "channel", "scope", "reason", "occurredAt"] as const;

/** One row's raw values by field (absent or empty: not given). */
export type ImportRecord = Partial<Record<ImportField, string>>;

/** A record longer than this is refused: an unterminated quote must not swallow the whole file. */
export const MAX_RECORD_CHARS = 64 * 1024;
/** The longest `reason`, as in POST /v1/blocklist. */
export const MAX_IMPORT_REASON = 500;

// Header names are compared lower-cased with everything but letters and digits removed, so
// `Phone Number`, `phone_number` and `phone-number` are one name.
const ALIASES: Record<ImportField, readonly string[]> = {
  address: [
    "address",
    "phone",
    "phonenumber",
    "phoneno",
    "mobile",
    "mobilenumber",
    "mobilephone",
    "cell",
    "msisdn",
    "number",
    "email",
    "emailaddress",
    "mail",
    "recipient",
    "to",
    "contact",
    "destination",
  ],
  channel: ["channel", "medium"],
  scope: ["scope"],
  sender: ["sender", "senderid", "from", "fromnumber"],
  reason: ["reason", "note", "notes", "comment", "comments", "description"],
  occurredAt: [
    "occurredat",
    "date",
    "datetime",
    "timestamp",
    "time",
    "createdat",
    "created",
    "optedoutat",
    "optoutdate",
    "unsubscribedat",
    "dateadded",
    "addedat",
  ],
};

const FIELD_BY_NAME = new Map<string, ImportField>(
  IMPORT_FIELDS.flatMap((field) => ALIASES[field].map((name) => [name, field] as const)),
);

const simpleName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "");

/** The field a column (CSV header cell or NDJSON member name) maps to, or null: ignored. */
export function importFieldOf(name: string): ImportField | null {
  return FIELD_BY_NAME.get(simpleName(name)) ?? null;
}

export interface ImportColumns {
  /** Per column, the field it fills (null: ignored). */
  fields: (ImportField | null)[];
  /** Header cells that name no field, as written. */
  ignored: string[];
}

/** Maps a CSV header row; a problem when no column names an address. */
export function importColumnsOf(header: readonly string[]): ImportColumns {
  const fields = header.map((cell) => importFieldOf(cell));
  if (!fields.includes("address")) {
    throw new DomainError(
      "invalid_input",
      "the first line must be a header naming the columns, with at least an address column " +
        "(address, phone, phone_number, email, …); other columns: channel, scope, sender, reason, occurredAt (or date)",
    );
  }
  return { fields, ignored: header.filter((_, i) => fields[i] === null).map((c) => c.trim()) };
}

/** A CSV record's values by field; where several columns fill one field the first non-empty wins. */
export function importRecordOf(cells: readonly string[], columns: ImportColumns): ImportRecord {
  const record: ImportRecord = {};
  for (let i = 0; i < cells.length; i++) {
    const field = columns.fields[i];
    if (!field || record[field] !== undefined) continue;
    const value = cells[i]!.trim();
    if (value !== "") record[field] = value;
  }
  return record;
}

/** An NDJSON line's object as a record (member names mapped like header cells), or why not. */
export function importRecordOfJson(
  line: string,
): { ok: true; record: ImportRecord } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { ok: false, reason: "not a JSON object" };
  const record: ImportRecord = {};
  for (const [name, member] of Object.entries(value)) {
    const field = importFieldOf(name);
    if (!field || record[field] !== undefined || member === null || member === undefined) continue;
    if (field === "scope" && typeof member === "object" && !Array.isArray(member)) {
      // `{ "type": "sender", "sender": "ACME" }` as the API writes scopes.
      const scope = member as { type?: unknown; sender?: unknown };
      if (scope.type === "account") record.scope = "account";
      else if (scope.type === "sender" && typeof scope.sender === "string")
        record.scope = `sender:${scope.sender}`;
      else return { ok: false, reason: "scope: must be account, sender:<id> or { type, sender }" };
      continue;
    }
    if (typeof member !== "string" && typeof member !== "number")
      return { ok: false, reason: `${field}: must be a string` };
    const text = String(member).trim();
    if (text !== "") record[field] = text;
  }
  return { ok: true, record };
}

/** A row as the ledger will record it: an opt_out with source `import`. */
export interface ImportRow {
  address: string;
  channel: Channel;
  scope: Scope;
  reason: string | null;
  occurredAt: string;
}

export type ReadRow = { ok: true; row: ImportRow } | { ok: false; reason: string };

/** Instants before this are typing mistakes, not opt-outs. */
const EARLIEST = Date.UTC(1970, 0, 1);
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads an occurredAt cell: an ISO-8601 instant (`2026-05-01T12:00:00Z`, `+02:00`), or a date
 * (`2026-05-01`) or date-time without offset (`2026-05-01 12:00`), both taken as UTC.
 */
export function readImportInstant(
  value: string,
  now: Date,
): { ok: true; at: string } | { ok: false; reason: string } {
  let iso: string;
  if (DATE_ONLY.test(value)) iso = `${value}T00:00:00Z`;
  else {
    const m = DATE_TIME.exec(value);
    if (!m)
      return { ok: false, reason: "occurredAt: not an ISO-8601 date or instant (2026-05-01T12:00:00Z)" };
    iso = `${m[1]}T${m[2]}${m[3] ?? "Z"}`;
  }
  const ms = Date.parse(iso);
  // Date.parse rolls 2026-02-30 over into March: the date part must survive the round trip.
  const datePart = iso.slice(0, 10);
  if (!Number.isFinite(ms) || (iso.endsWith("Z") && new Date(ms).toISOString().slice(0, 10) !== datePart))
    return { ok: false, reason: "occurredAt: not a valid date" };
  if (ms < EARLIEST) return { ok: false, reason: "occurredAt: before 1970" };
  const future = futureInstantProblem(iso, now);
  if (future) return { ok: false, reason: `occurredAt: ${future}` };
  return { ok: true, at: canonicalInstant(ms) };
}

function readScope(record: ImportRecord): { ok: true; scope: Scope } | { ok: false; reason: string } {
  const raw = record.scope;
  const sender = record.sender;
  if (raw === undefined || raw.toLowerCase() === "sender") {
    if (sender === undefined) {
      return raw === undefined
        ? { ok: true, scope: { type: "account" } }
        : { ok: false, reason: "scope: sender scope without a sender column value" };
    }
    const parsed = Sender.safeParse(sender);
    if (!parsed.success) return { ok: false, reason: "sender: at most 128 characters" };
    return { ok: true, scope: { type: "sender", sender: parsed.data } };
  }
  if (raw.toLowerCase() === "account") {
    if (sender !== undefined) return { ok: false, reason: "scope: account scope with a sender given" };
    return { ok: true, scope: { type: "account" } };
  }
  if (raw.startsWith("sender:")) {
    const parsed = Sender.safeParse(raw.slice("sender:".length));
    if (!parsed.success) return { ok: false, reason: "scope: sender:<id> with an id of 1 to 128 characters" };
    if (sender !== undefined && sender !== parsed.data)
      return { ok: false, reason: "scope: names another sender than the sender column" };
    return { ok: true, scope: parseScopeKey(`sender:${parsed.data}`) };
  }
  return { ok: false, reason: "scope: must be account or sender:<id>" };
}

/**
 * Reads one row by the rules of `POST /v1/blocklist`: the address normalized with the account's
 * default region, channel `*` and account scope unless given, storable text only, occurredAt not
 * more than the allowed clock skew ahead (default: `now`). A row that cannot be read says why,
 * naming the field, never echoing the value.
 */
export function readImportRow(record: ImportRecord, options: { defaultRegion?: string; now: Date }): ReadRow {
  for (const field of IMPORT_FIELDS) {
    const value = record[field];
    if (value === undefined) continue;
    const problem = textProblem(value);
    if (problem) return { ok: false, reason: `${field}: ${problem}` };
  }
  if (record.address === undefined) return { ok: false, reason: "address: missing" };
  let address: string;
  try {
    address = normalizeAddress(record.address, { defaultRegion: options.defaultRegion }).value;
  } catch (err) {
    if (isDomainError(err)) return { ok: false, reason: `address: ${err.message}` };
    throw err;
  }
  const rawChannel = record.channel?.toLowerCase();
  const channel = Channel.safeParse(rawChannel === undefined || rawChannel === "all" ? "*" : rawChannel);
  if (!channel.success) return { ok: false, reason: "channel: must be sms, whatsapp, email, voice or *" };
  const scope = readScope(record);
  if (!scope.ok) return scope;
  const reason = record.reason ?? null;
  if (reason !== null && reason.length > MAX_IMPORT_REASON)
    return { ok: false, reason: `reason: longer than ${MAX_IMPORT_REASON} characters` };
  let occurredAt = canonicalInstant(options.now);
  if (record.occurredAt !== undefined) {
    const at = readImportInstant(record.occurredAt, options.now);
    if (!at.ok) return at;
    occurredAt = at.at;
  }
  return { ok: true, row: { address, channel: channel.data, scope: scope.scope, reason, occurredAt } };
}

// ---------- splitting text into records ----------

const NEWLINE = /[\r\n]/g;

/**
 * RFC 4180 CSV, fed text as it arrives: `push` returns the records completed so far, `end` the
 * last one. Quoted fields may hold commas, quotes (`""`) and line breaks; LF, CRLF and CR end
 * records; blank lines are skipped; a leading BOM is dropped. A record longer than
 * MAX_RECORD_CHARS (an unterminated quote, a file without line breaks) throws.
 */
export class CsvRecords {
  private buffer = "";
  private started = false;

  push(text: string): string[][] {
    this.buffer += text;
    return this.take(false);
  }

  end(): string[][] {
    return this.take(true);
  }

  private take(final: boolean): string[][] {
    if (!this.started && this.buffer.length > 0) {
      this.started = true;
      if (this.buffer.charCodeAt(0) === 0xfeff) this.buffer = this.buffer.slice(1);
    }
    const records: string[][] = [];
    const buf = this.buffer;
    let pos = 0;
    while (pos < buf.length) {
      const parsed = parseCsvRecord(buf, pos, final);
      if (!parsed) break;
      pos = parsed.next;
      const cells = parsed.cells;
      if (!(cells.length === 1 && cells[0] === "")) records.push(cells);
    }
    this.buffer = buf.slice(pos);
    if (this.buffer.length > MAX_RECORD_CHARS) {
      throw new DomainError(
        "invalid_input",
        `a record is longer than ${MAX_RECORD_CHARS} characters (an unterminated quote?)`,
      );
    }
    return records;
  }
}

/** One record from `pos`, or null when the text ends before the record does (and more may come). */
function parseCsvRecord(buf: string, pos: number, final: boolean): { cells: string[]; next: number } | null {
  NEWLINE.lastIndex = pos;
  const nl = NEWLINE.exec(buf);
  const lineEnd = nl ? nl.index : buf.length;
  // A CR at the end of the text may be the first half of a CRLF.
  if (!nl && !final) return null;
  if (nl && nl[0] === "\r" && lineEnd === buf.length - 1 && !final) return null;
  const line = buf.slice(pos, lineEnd);
  if (!line.includes('"')) {
    const next = !nl
      ? buf.length
      : buf[lineEnd] === "\r" && buf[lineEnd + 1] === "\n"
        ? lineEnd + 2
        : lineEnd + 1;
    return { cells: line.split(","), next };
  }
  // Quotes: character by character (records may span lines).
  const cells: string[] = [];
  let cell = "";
  let i = pos;
  let fieldStart = true;
  for (;;) {
    if (i >= buf.length) {
      if (!final) return null;
      cells.push(cell);
      return { cells, next: i };
    }
    const ch = buf[i]!;
    if (ch === '"' && fieldStart) {
      let j = i + 1;
      for (;;) {
        const k = buf.indexOf('"', j);
        if (k === -1) {
          if (!final) return null;
          throw new DomainError("invalid_input", "a quoted CSV field is never closed");
        }
        if (k + 1 >= buf.length && !final) return null;
        if (buf[k + 1] === '"') {
          cell += `${buf.slice(j, k)}"`;
          j = k + 2;
          continue;
        }
        cell += buf.slice(j, k);
        i = k + 1;
        break;
      }
      fieldStart = false;
      continue;
    }
    if (ch === ",") {
      cells.push(cell);
      cell = "";
      fieldStart = true;
      i++;
      continue;
    }
    if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && i + 1 >= buf.length && !final) return null;
      cells.push(cell);
      return { cells, next: ch === "\r" && buf[i + 1] === "\n" ? i + 2 : i + 1 };
    }
    // A quote inside an unquoted field, or text after a closing quote: kept as written.
    cell += ch;
    fieldStart = false;
    i++;
  }
}

/** NDJSON lines, fed text as it arrives; blank lines are skipped. */
export class NdjsonLines {
  private buffer = "";

  push(text: string): string[] {
    this.buffer += text;
    const parts = this.buffer.split("\n");
    this.buffer = parts.pop()!;
    if (this.buffer.length > MAX_RECORD_CHARS)
      throw new DomainError("invalid_input", `a line is longer than ${MAX_RECORD_CHARS} characters`);
    return clean(parts);
  }

  end(): string[] {
    const rest = this.buffer;
    this.buffer = "";
    return clean([rest]);
  }
}

function clean(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const trimmed = (line.charCodeAt(0) === 0xfeff ? line.slice(1) : line).trim();
    if (trimmed !== "") out.push(trimmed);
  }
  return out;
}

// ---------- export ----------

/** An active entry as an export line carries it. */
export interface ExportEntry {
  address: string;
  channel: Channel;
  scope: Scope;
  reason: string | null;
  occurredAt: string;
}

/** A CSV cell, quoted when it must be (RFC 4180). */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

export const EXPORT_CSV_HEADER = `${EXPORT_COLUMNS.join(",")}\n`;

export function exportCsvLine(e: ExportEntry): string {
  return `${[e.address, e.channel, scopeKey(e.scope), e.reason ?? "", e.occurredAt].map(csvCell).join(",")}\n`;
}

export function exportNdjsonLine(e: ExportEntry): string {
  return `${JSON.stringify({ address: e.address, channel: e.channel, scope: scopeKey(e.scope), reason: e.reason, occurredAt: e.occurredAt })}\n`;
}
