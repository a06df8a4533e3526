import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CreateAccountResult } from "@optout/core";
import { LocalEdge } from "@optout/edge/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killLiveChildren, runCli } from "../helpers/cli.ts";

let edge: LocalEdge;
let dir: string;
let account: CreateAccountResult;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "optout-blocklist-files-"));
  const starting = new LocalEdge();
  edge = starting;
  await starting.start();
  account = await edge.request<CreateAccountResult>("POST", "/v1/accounts", edge.adminToken, {
    name: "Files",
    defaultRegion: "US",
  });
  // The account's key, not SYNC_TOKEN: a blocklist file belongs to one account.
  env = { EDGE_URL: edge.url, OPTOUT_API_KEY: account.apiKey };
});
afterAll(async () => {
  killLiveChildren();
  await edge?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function phoneRows(count: number, from: number): string {
  let text = "";
  for (let i = from; i < from + count; i++) text += `(415) 42${String(100_000 + i).slice(1)},sms,ACME\n`;
  return text;
}

describe("optout-sync import / export against a real edge", () => {
  it("imports a CSV (header mapped, refused rows listed), and a second run changes nothing", async () => {
    const file = join(dir, "suppressions.csv");
    writeFileSync(file, `Phone,Channel,Sender\n${phoneRows(1500, 0)}not a phone,sms,\n+14155550100,fax,\n`);
    const first = await runCli(["import", file], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain("import: suppressions.csv (csv, 1,502 rows");
    expect(first.stdout).toContain(
      "complete: suppressions.csv, 1,502 rows: 1,500 imported, 0 unchanged, 0 superseded, 2 refused",
    );
    expect(first.stdout).toMatch(/row 1501: address: /);
    expect(first.stdout).toMatch(/row 1502: channel: /);

    const again = await runCli(["import", file, "--json"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: "complete", replayed: true, imported: 1500 });
  });

  it("exports the active entries to a file that imports again as unchanged rows (CSV and NDJSON)", async () => {
    for (const format of ["csv", "ndjson"] as const) {
      const output = join(dir, `export.${format}`);
      const exported = await runCli(["export", "--output", output], env);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stderr).toContain(`export: 1,500 active entries (${format}) to ${output}`);
      const lines = readFileSync(output, "utf8").trimEnd().split("\n");
      expect(lines).toHaveLength(format === "csv" ? 1501 : 1500);
      const reimport = await runCli(["import", output, "--json"], env);
      expect(reimport.code, reimport.stderr).toBe(0);
      expect(JSON.parse(reimport.stdout)).toMatchObject({
        rows: 1500,
        imported: 0,
        unchanged: 1500,
        refused: 0,
      });
    }
    // To stdout, the format named by the flag.
    const out = await runCli(["export", "--format", "ndjson"], env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trimEnd().split("\n")).toHaveLength(1500);
  });

  it("resumes an import that was cut: continues after the rows the edge recorded, each row once", async () => {
    const file = join(dir, "big.csv");
    const text = `address,channel\n${phoneRows(5000, 10_000).replaceAll(",ACME\n", "\n")}`;
    writeFileSync(file, text);
    const digest = createHash("sha256").update(text).digest("hex");
    // A client that sends the first ~3,000 rows, then drops the connection once the edge has
    // recorded some of them.
    const bytes = Buffer.from(text);
    const aborter = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 3000 * 18) {
          for (;;) {
            const res = await fetch(`${edge.url}/v1/blocklist/import/${digest}`, {
              headers: { authorization: `Bearer ${account.apiKey}` },
            });
            if (res.ok && ((await res.json()) as { rows: number }).rows >= 2000) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          aborter.abort();
          return;
        }
        controller.enqueue(bytes.subarray(sent, sent + 4096));
        sent += 4096;
      },
    });
    await expect(
      fetch(`${edge.url}/v1/blocklist/import`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${account.apiKey}`,
          "content-type": "text/csv",
          "x-import-digest": digest,
        },
        body,
        duplex: "half",
        signal: aborter.signal,
      } as RequestInit),
    ).rejects.toThrow();

    const resumed = await runCli(["import", file, "--json"], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/import: resuming after row [\d,]+/);
    const report = JSON.parse(resumed.stdout);
    expect(report).toMatchObject({ status: "complete", rows: 5000, refused: 0 });
    expect(report.resumedAfterRow).toBeGreaterThanOrEqual(2000);
    // Every row recorded once: imported now plus before the cut is the whole file.
    expect(report.imported).toBe(5000);
    const listed = await edge.request<{ items: unknown[] }>(
      "GET",
      "/v1/blocklist?limit=1000&address=%2B14154210000",
      account.apiKey,
    );
    expect(listed.items).toHaveLength(1);
  });

  it("refuses to run without the account's API key (exit 2)", async () => {
    const r = await runCli(["import", join(dir, "suppressions.csv")], { EDGE_URL: edge.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("OPTOUT_API_KEY");
  });
});
