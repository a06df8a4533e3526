import { env } from "cloudflare:workers";
import { sha256Hex } from "@optout/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  check,
  createAccount,
  expectChainValid,
  expectError,
  expectStatus,
  storageSnapshot,
  type TestAccount,
  unblock,
} from "../../../test/helpers.ts";
import { commitWrite } from "../../writer/client.ts";

const CSV = "text/csv";
const NDJSON = "application/x-ndjson";

function post(account: TestAccount, body: BodyInit, digest: string, contentType = CSV) {
  return call("/v1/blocklist/import", {
    method: "POST",
    headers: { ...bearer(account.apiKey), "content-type": contentType, "x-import-digest": digest },
    body,
  });
}

// biome-ignore lint/suspicious/noExplicitAny: reports are asserted field by field.
async function importFile(account: TestAccount, text: string, contentType = CSV): Promise<any> {
  return expectStatus(await post(account, text, await sha256Hex(text), contentType), 200);
}

async function exportText(account: TestAccount, format: "csv" | "ndjson") {
  const res = await call(`/v1/blocklist/export?format=${format}`, { headers: bearer(account.apiKey) });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toContain(format === "csv" ? "text/csv" : "application/x-ndjson");
  return res.text();
}

/** The account's ledger events recorded by imports, as (digest, row) pairs. */
async function importedRows(accountId: string) {
  const { results } = await env.DB.prepare(
    `SELECT json_extract(evidence, '$.importDigest') AS digest, json_extract(evidence, '$.importRow') AS row
    FROM ledger_events WHERE account_id = ?1 AND source = 'import' ORDER BY seq`,
  )
    .bind(accountId)
    .all<{ digest: string; row: number }>();
  return results;
}

/** A body that delivers `text` in small pieces, as a network would. */
function streamed(text: string, pieceSize = 4096, failAfter?: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (failAfter !== undefined && offset >= failAfter) {
        controller.error(new Error("connection cut"));
        return;
      }
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + pieceSize));
      offset += pieceSize;
    },
  });
}

function phoneRows(count: number, from = 0) {
  let text = "";
  for (let i = from; i < from + count; i++) text += `+1415${String(2_000_000 + i).padStart(7, "0")},sms\n`;
  return text;
}

let account: TestAccount;
let other: TestAccount;
beforeAll(async () => {
  account = await createAccount({ defaultRegion: "US" });
  other = await createAccount({ defaultRegion: "US" });
});

describe("POST /v1/blocklist/import", () => {
  it("maps a CSV header's columns (aliases, any case), reads rows like POST /v1/blocklist, records each once", async () => {
    const text = [
      "Phone Number,CHANNEL,Sender,Notes,date,First Name",
      "(415) 555-0101,sms,,asked by phone,2026-01-02,Jane",
      '+1 415 555 0102,SMS,ACME,"said ""stop"", twice",2026-01-03T10:00:00+02:00,John',
      "+14155550103,,,,,",
      "",
    ].join("\r\n");
    const report = await importFile(account, text);
    expect(report).toMatchObject({
      digest: await sha256Hex(text),
      format: "csv",
      status: "complete",
      rows: 3,
      imported: 3,
      unchanged: 0,
      refused: 0,
      refusals: [],
      ignoredColumns: ["First Name"],
      replayed: false,
      resumedAfterRow: 0,
    });
    const first = await check(account, { address: "+14155550101", sender: "ANY", channel: "sms" });
    expect(first).toMatchObject({
      allowed: false,
      blockedBy: {
        channel: "sms",
        scope: { type: "account" },
        source: "import",
        occurredAt: "2026-01-02T00:00:00.000Z",
      },
    });
    const second = await check(account, { address: "+14155550102", sender: "ACME", channel: "sms" });
    expect(second.blockedBy).toMatchObject({
      scope: { type: "sender", sender: "ACME" },
      occurredAt: "2026-01-03T08:00:00.000Z",
    });
    expect((await check(account, { address: "+14155550102", sender: "OTHER", channel: "sms" })).allowed).toBe(
      true,
    );
    // No channel: every channel, like POST /v1/blocklist.
    expect((await check(account, { address: "+14155550103", sender: "X", channel: "email" })).allowed).toBe(
      false,
    );

    const chain = await expectChainValid(account.id);
    const events = chain.filter((e) => e.source === "import");
    expect(events.map((e) => e.evidence)).toEqual([
      { importDigest: report.digest, importRow: 1, reason: "asked by phone" },
      { importDigest: report.digest, importRow: 2, reason: 'said "stop", twice' },
      { importDigest: report.digest, importRow: 3 },
    ]);
    expect(events.every((e) => e.action === "opt_out")).toBe(true);
  });

  it("reads NDJSON lines with the same names (and API-style scopes)", async () => {
    const text = [
      JSON.stringify({ email: "Jane@Example.COM", channel: "email", reason: "mailchimp" }),
      JSON.stringify({ phone: "+14155550111", scope: { type: "sender", sender: "ACME" } }),
      "",
      JSON.stringify({ address: "+14155550112", scope: "sender:BETA", occurredAt: "2026-02-01T00:00:00Z" }),
    ].join("\n");
    const report = await importFile(account, text, NDJSON);
    expect(report).toMatchObject({ format: "ndjson", status: "complete", rows: 3, imported: 3, refused: 0 });
    expect(
      (await check(account, { address: "jane@example.com", sender: "X", channel: "email" })).allowed,
    ).toBe(false);
    expect(
      (await check(account, { address: "+14155550111", sender: "ACME", channel: "voice" })).allowed,
    ).toBe(false);
    expect((await check(account, { address: "+14155550112", sender: "BETA", channel: "sms" })).allowed).toBe(
      false,
    );
  });

  it("refuses unreadable rows with their numbers and reasons, and records the rest", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const text = [
      "address,channel,scope,reason,occurredAt",
      "+14155550121,sms,account,,",
      "not a number,sms,account,,",
      "+14155550122,fax,account,,",
      "+14155550123,sms,team,,",
      `+14155550124,sms,account,,${future}`,
      "+14155550125,sms,account,bad \u0000 text,",
      `+14155550126,sms,account,${"x".repeat(501)},`,
      "+14155550127,sms,account,,yesterday",
      "+14155550128,sms,account,,1969-12-31",
      ",sms,account,,",
      "+14155550121,sms,account,,",
    ].join("\n");
    const report = await importFile(account, text);
    expect(report).toMatchObject({ rows: 11, imported: 1, unchanged: 1, refused: 9 });
    expect(report.refusals).toEqual([
      { row: 2, reason: expect.stringMatching(/^address: /) },
      { row: 3, reason: expect.stringMatching(/^channel: /) },
      { row: 4, reason: expect.stringMatching(/^scope: /) },
      { row: 5, reason: expect.stringMatching(/^occurredAt: more than 15 minutes in the future/) },
      { row: 6, reason: expect.stringMatching(/^reason: contains U\+0000/) },
      { row: 7, reason: "reason: longer than 500 characters" },
      { row: 8, reason: expect.stringMatching(/^occurredAt: not an ISO-8601/) },
      { row: 9, reason: "occurredAt: before 1970" },
      { row: 10, reason: "address: missing" },
    ]);
    // Reasons never echo the value.
    expect(JSON.stringify(report.refusals)).not.toContain("not a number");
  });

  it("caps the listed refusals and counts the rest", async () => {
    const text = `address\n${"nope\n".repeat(150)}`;
    const report = await importFile(account, text);
    expect(report).toMatchObject({ rows: 150, imported: 0, refused: 150 });
    expect(report.refusals).toHaveLength(100);
    expect(report.refusals.at(-1).row).toBe(100);
  });

  it("is idempotent by file digest: posting the same file again records nothing and answers the first report", async () => {
    const text = `address,channel\n${phoneRows(5, 100)}`;
    const first = await importFile(account, text);
    expect(first).toMatchObject({ imported: 5, replayed: false });
    // Removed since: a replay must not block it again (the row was applied once).
    await expectStatus(await unblock(account, { address: "+14152000100", channel: "sms" }), 200);
    const before = await storageSnapshot();
    const again = await importFile(account, text);
    expect(again).toEqual({ ...first, replayed: true, resumedAfterRow: 5 });
    expect(await storageSnapshot()).toEqual(before);
    expect((await check(account, { address: "+14152000100", sender: "X", channel: "sms" })).allowed).toBe(
      true,
    );
    const status = await expectStatus(
      await call(`/v1/blocklist/import/${first.digest}`, { headers: bearer(account.apiKey) }),
      200,
    );
    expect(status).toMatchObject({ status: "complete", rows: 5, imported: 5 });
  });

  it("resumes after a cut: a re-post skips the rows recorded and records each row exactly once", async () => {
    const text = `address,channel\n${phoneRows(3500, 10_000)}`;
    const digest = await sha256Hex(text);
    // The connection dies after about 2,300 rows. workerd ends such a body cleanly, so the edge
    // reads it to its end: the rows before the cut are recorded and the digest does not match.
    const cut = await post(account, streamed(text, 4096, 2300 * 17), digest);
    expect(await expectError(cut, 400, "invalid_input")).toContain("cut short");
    const partial = await expectStatus(
      await call(`/v1/blocklist/import/${digest}`, { headers: bearer(account.apiKey) }),
      200,
    );
    expect(partial.status).toBe("in_progress");
    // Whole blocks only: the rows after the last one may end in a cut row.
    expect(partial.rows).toBe(2000);
    expect(partial.imported).toBe(2000);

    const resumed = expectStatus(await post(account, streamed(text), digest), 200);
    expect(await resumed).toMatchObject({
      status: "complete",
      rows: 3500,
      imported: 3500,
      resumedAfterRow: partial.rows,
      replayed: false,
    });
    const rows = (await importedRows(account.id)).filter((r) => r.digest === digest).map((r) => r.row);
    expect(rows).toEqual(Array.from({ length: 3500 }, (_, i) => i + 1));
    await expectChainValid(account.id);
  });

  it("refuses a chunk whose import moved meanwhile (two requests importing one file)", async () => {
    const text = `address\n+14155550131\n`;
    const digest = await sha256Hex(text);
    await importFile(account, text);
    const change = {
      address: "+14155550132",
      channel: "*" as const,
      scope: { type: "account" as const },
      action: "opt_out" as const,
      source: "import" as const,
      occurredAt: new Date().toISOString(),
      evidence: {},
      skipIfUnchanged: true,
    };
    const before = await storageSnapshot();
    await expect(
      commitWrite(env, account.id, {
        kind: "import",
        chunk: {
          digest,
          afterRow: 0,
          toRow: 1,
          items: [{ row: 1, change }],
          refused: 0,
          refusals: "[]",
          prefixDigest: "",
        },
      }),
    ).rejects.toMatchObject({ status: 409, code: "conflict" });
    expect(await storageSnapshot()).toEqual(before);
  });

  it("a body that does not start with the rows recorded under its digest is refused, and the progress reset", async () => {
    const text = `address\n${phoneRows(1500, 20_000)}`;
    const digest = await sha256Hex(text);
    await expectError(await post(account, streamed(text, 4096, 1200 * 17), digest), 400, "invalid_input");
    const other = `address\n${phoneRows(1500, 30_000)}`;
    const message = await expectError(await post(account, other, digest), 409, "conflict");
    expect(message).toContain("reset");
    await expectError(
      await call(`/v1/blocklist/import/${digest}`, { headers: bearer(account.apiKey) }),
      404,
      "not_found",
    );
    // The real file, posted again, is read from its first row: the rows recorded are unchanged.
    const report = await expectStatus(await post(account, text, digest), 200);
    expect(report).toMatchObject({ rows: 1500, refused: 0, resumedAfterRow: 0 });
    expect(report.unchanged).toBe(1000);
    expect(report.imported + report.unchanged).toBe(1500);
  });

  it.each<{ name: string; headers: Record<string, string>; status: number; code: string }>([
    { name: "no digest", headers: { "content-type": CSV }, status: 400, code: "invalid_input" },
    {
      name: "a malformed digest",
      headers: { "content-type": CSV, "x-import-digest": "abc" },
      status: 400,
      code: "invalid_input",
    },
    {
      name: "JSON",
      headers: { "content-type": "application/json", "x-import-digest": "a".repeat(64) },
      status: 415,
      code: "unsupported_media_type",
    },
  ])("refuses $name and writes nothing", async ({ headers, status, code }) => {
    const before = await storageSnapshot();
    const res = await call("/v1/blocklist/import", {
      method: "POST",
      headers: { ...bearer(account.apiKey), ...headers },
      body: "address\n+14155550151\n",
    });
    await expectError(res, status, code);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("refuses a CSV without an address column, and invalid UTF-8", async () => {
    const header = "name,city\nJane,Paris\n";
    expect(
      await expectError(await post(account, header, await sha256Hex(header)), 400, "invalid_input"),
    ).toContain("header");
    const bytes = new Uint8Array([...new TextEncoder().encode("address\n+1415555"), 0xff, 0x0a]);
    const digest = await sha256Hex(bytes);
    expect(await expectError(await post(account, bytes, digest), 400, "invalid_input")).toContain("UTF-8");
  });

  it("streams a large file (20,000 rows) in chunks", async () => {
    const tenant = await createAccount();
    const text = `address,channel,reason\n${phoneRows(20_000, 50_000).replaceAll(",sms\n", ",sms,bulk\n")}`;
    const digest = await sha256Hex(text);
    const report = await expectStatus(await post(tenant, streamed(text, 16 * 1024), digest), 200);
    expect(report).toMatchObject({ status: "complete", rows: 20_000, imported: 20_000, refused: 0 });
    const count = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM blocklist_entries WHERE account_id = ?1 AND active = 1 AND source = 'import'",
    )
      .bind(tenant.id)
      .first<number>("n");
    expect(count).toBe(20_000);
    await expectChainValid(tenant.id);
    // Exported again, it re-imports as unchanged rows.
    const exported = await exportText(tenant, "csv");
    expect(exported.split("\n").filter(Boolean)).toHaveLength(20_001);
    const again = await importFile(tenant, exported);
    expect(again).toMatchObject({ rows: 20_000, imported: 0, unchanged: 20_000, refused: 0 });
  }, 240_000);
});

describe("GET /v1/blocklist/export", () => {
  it("streams the active entries in the import's columns; an export re-imports as unchanged (CSV and NDJSON)", async () => {
    const tenant = await createAccount({ defaultRegion: "US" });
    await expectStatus(await block(tenant, { address: "+14155550161", reason: 'comma, "quote"' }), 201);
    await expectStatus(
      await block(tenant, {
        address: "a@example.com",
        channel: "email",
        scope: { type: "sender", sender: "news,letter" },
      }),
      201,
    );
    await expectStatus(await block(tenant, { address: "+14155550162" }), 201);
    await expectStatus(await unblock(tenant, { address: "+14155550162" }), 200);

    const csv = await exportText(tenant, "csv");
    const lines = csv.trimEnd().split("\n");
    expect(lines[0]).toBe("address,channel,scope,reason,occurredAt");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\+14155550161,\*,account,"comma, ""quote""",\d{4}-/);
    expect(lines[2]).toMatch(/^a@example\.com,email,"sender:news,letter",,/);

    const ndjson = await exportText(tenant, "ndjson");
    const objects = ndjson
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(objects).toEqual([
      expect.objectContaining({
        address: "+14155550161",
        channel: "*",
        scope: "account",
        reason: 'comma, "quote"',
      }),
      expect.objectContaining({
        address: "a@example.com",
        channel: "email",
        scope: "sender:news,letter",
        reason: null,
      }),
    ]);

    const before = await storageSnapshot();
    expect(await importFile(tenant, csv)).toMatchObject({ rows: 2, imported: 0, unchanged: 2, refused: 0 });
    expect(await importFile(tenant, ndjson, NDJSON)).toMatchObject({
      rows: 2,
      imported: 0,
      unchanged: 2,
      refused: 0,
    });
    const after = await storageSnapshot();
    // Nothing on the blocklist or in the ledger moved (only the imports were recorded).
    expect({ ledger: after.ledger, entries: after.entries }).toEqual({
      ledger: before.ledger,
      entries: before.entries,
    });
  });

  it("another tenant's import and export never touch this account", async () => {
    const a = await createAccount({ defaultRegion: "US" });
    const b = await createAccount({ defaultRegion: "US" });
    const text = "address\n+14155550171\n";
    await importFile(a, text);
    // The same file in another account is another import.
    expect(await importFile(b, text)).toMatchObject({ imported: 1, replayed: false });
    await expectStatus(await unblock(b, { address: "+14155550171" }), 200);
    expect((await check(a, { address: "+14155550171", sender: "X", channel: "sms" })).allowed).toBe(false);
    expect(await exportText(b, "csv")).toBe("address,channel,scope,reason,occurredAt\n");
    expect(await exportText(other, "ndjson")).toBe("");
  });
});
