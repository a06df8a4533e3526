import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "./client.ts";
import { sql } from "./sql.ts";

describe("sql", () => {
  it("binds every value as a parameter, never as text", () => {
    const hostile = "x'); DROP TABLE accounts; --";
    const query = sql`SELECT id FROM accounts WHERE id = ${hostile} AND name = ${"n"}`;
    expect(query).toEqual({
      text: "SELECT id FROM accounts WHERE id = ? AND name = ?",
      params: [hostile, "n"],
    });
  });

  it("splices nested queries and joins with their parameters in order", () => {
    const where = sql.join([sql`a = ${1}`, sql`b = ${"two"}`, sql.raw("c IS NULL")], " AND ");
    expect(sql`SELECT 1 WHERE ${where} LIMIT ${3}`).toEqual({
      text: "SELECT 1 WHERE a = ? AND b = ? AND c IS NULL LIMIT ?",
      params: [1, "two", 3],
    });
  });

  it("stores booleans as 1 and 0 and keeps null", () => {
    expect(sql`${true} ${false} ${null}`.params).toEqual([1, 0, null]);
  });

  it("refuses an undefined value instead of binding NULL", () => {
    const missing = undefined as unknown as string;
    expect(() => sql`SELECT 1 WHERE id = ${missing}`).toThrow(/parameter 1 is undefined/);
  });

  it("runs on D1: hostile text round-trips as data", async () => {
    const db = createDb(env.DB);
    const hostile = "x'); DROP TABLE accounts; --";
    const row = await db.get<{ v: string; flag: number }>(sql`SELECT ${hostile} AS v, ${true} AS flag`);
    expect(row).toEqual({ v: hostile, flag: 1 });
    expect(await db.all(sql`SELECT name FROM sqlite_master WHERE name = ${"accounts"}`)).toHaveLength(1);
  });
});
