import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CsvRecords,
  csvCell,
  importColumnsOf,
  importRecordOf,
  importRecordOfJson,
  NdjsonLines,
  readImportInstant,
  readImportRow,
} from "../src/index.ts";

const now = new Date("2026-06-01T12:00:00Z");

function splitAll(text: string, cuts: number[]): string[][] {
  const csv = new CsvRecords();
  const out: string[][] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(...csv.push(text.slice(at, cut)));
    at = cut;
  }
  out.push(...csv.push(text.slice(at)), ...csv.end());
  return out;
}

describe("CsvRecords", () => {
  it("reads RFC 4180: quotes, doubled quotes, line breaks inside quotes, CRLF and CR, a BOM, blank lines", () => {
    const text = '\uFEFFa,b\r\n"x, ""y""",2\n\n"multi\nline",3\r"last",\n';
    expect(splitAll(text, [])).toEqual([
      ["a", "b"],
      ['x, "y"', "2"],
      ["multi\nline", "3"],
      ["last", ""],
    ]);
  });

  it("gives the same records however the text is cut into pieces", () => {
    const cell = fc.string({ unit: fc.constantFrom("a", ",", '"', "\n", "\r", " ", "é") });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (rows, cuts) => {
          const text = rows.map((r) => r.map((c) => `"${c.replaceAll('"', '""')}"`).join(",")).join("\n");
          const whole = splitAll(text, []);
          // A record of one empty cell is a blank line: skipped.
          expect(whole).toEqual(rows.filter((r) => !(r.length === 1 && r[0] === "")));
          expect(
            splitAll(
              text,
              cuts.map((c) => c % (text.length + 1)),
            ),
          ).toEqual(whole);
        },
      ),
    );
  });

  it("refuses an unterminated quote at the end, and a record longer than the limit", () => {
    expect(() => splitAll('a\n"never closed', [])).toThrow(/never closed/);
    expect(() => new CsvRecords().push(`"${"x".repeat(70_000)}`)).toThrow(/longer than/);
  });

  it("quotes exported cells only when it must", () => {
    expect(csvCell("+14155550100")).toBe("+14155550100");
    expect(csvCell('a, "b"')).toBe('"a, ""b"""');
    expect(csvCell(" padded")).toBe('" padded"');
  });
});

describe("columns and rows", () => {
  it("maps header aliases case-insensitively and lists the columns it ignores", () => {
    const columns = importColumnsOf([
      "Phone Number",
      "E-mail",
      "Sender ID",
      "Notes",
      "Unsubscribed_At",
      "Plan",
    ]);
    expect(columns.fields).toEqual(["address", "address", "sender", "reason", "occurredAt", null]);
    expect(columns.ignored).toEqual(["Plan"]);
    // The first non-empty of two address columns wins.
    expect(importRecordOf(["", "a@example.com", "", "", "", "x"], columns)).toEqual({
      address: "a@example.com",
    });
    expect(() => importColumnsOf(["name", "city"])).toThrow(/header/);
  });

  it("reads NDJSON members like header cells", () => {
    expect(importRecordOfJson('{"Email":"a@example.com","scope":{"type":"sender","sender":"ACME"}}')).toEqual(
      {
        ok: true,
        record: { address: "a@example.com", scope: "sender:ACME" },
      },
    );
    expect(importRecordOfJson("[1]")).toEqual({ ok: false, reason: "not a JSON object" });
    const lines = new NdjsonLines();
    expect([...lines.push('{"a":1}\n\n{"b"'), ...lines.push(":2}"), ...lines.end()]).toEqual([
      '{"a":1}',
      '{"b":2}',
    ]);
  });

  it.each([
    { name: "a date", value: "2026-05-01", at: "2026-05-01T00:00:00.000Z" },
    { name: "a date-time without offset (UTC)", value: "2026-05-01 10:30", at: "2026-05-01T10:30:00.000Z" },
    { name: "an offset", value: "2026-05-01T10:30:00+02:00", at: "2026-05-01T08:30:00.000Z" },
  ])("reads $name as an instant", ({ value, at }) => {
    expect(readImportInstant(value, now)).toEqual({ ok: true, at });
  });

  it.each([
    { name: "a day that does not exist", value: "2026-02-30", reason: /not a valid date/ },
    { name: "words", value: "last week", reason: /not an ISO-8601/ },
    { name: "the far future", value: "2027-01-01", reason: /in the future/ },
  ])("refuses $name", ({ value, reason }) => {
    const read = readImportInstant(value, now);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.reason).toMatch(reason);
  });

  it("reads a row like POST /v1/blocklist: region, defaults, scopes", () => {
    expect(readImportRow({ address: "(415) 555-0100" }, { defaultRegion: "US", now })).toEqual({
      ok: true,
      row: {
        address: "+14155550100",
        channel: "*",
        scope: { type: "account" },
        reason: null,
        occurredAt: "2026-06-01T12:00:00.000Z",
      },
    });
    expect(
      readImportRow({ address: "+14155550100", scope: "sender", sender: "ACME", channel: "SMS" }, { now }),
    ).toMatchObject({
      ok: true,
      row: { channel: "sms", scope: { type: "sender", sender: "ACME" } },
    });
    expect(readImportRow({ address: "+14155550100", scope: "sender:A", sender: "B" }, { now })).toMatchObject(
      { ok: false },
    );
    expect(readImportRow({ address: "4155550100" }, { now })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^address: /),
    });
  });
});
