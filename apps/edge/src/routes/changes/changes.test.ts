import { ConsentEvent } from "@optout/core";
import { describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  createAccount,
  expectError,
  expectStatus,
  SYNC_TOKEN,
  unblock,
} from "../../../test/helpers.ts";

const feed = (qs = "") => call(`/v1/changes${qs}`, { headers: bearer(SYNC_TOKEN) });

describe("GET /v1/changes", () => {
  it("returns every account's events in seq order, gap-free from 1, as ConsentEvent objects", async () => {
    const a = await createAccount();
    const b = await createAccount();
    await expectStatus(await block(a, { address: "+14155550301" }), 201);
    await expectStatus(await block(b, { address: "+14155550302", channel: "sms" }), 201);
    await expectStatus(await unblock(a, { address: "+14155550301" }), 200);

    const page = await expectStatus(await feed(), 200);
    expect(page.hasMore).toBe(false);
    expect(page.changes.map((e: ConsentEvent) => e.seq)).toEqual([1, 2, 3]);
    expect(page.next).toBe("3");
    for (const event of page.changes) expect(ConsentEvent.strict().parse(event)).toEqual(event);
    expect(page.changes.map((e: ConsentEvent) => [e.accountId, e.action])).toEqual([
      [a.id, "opt_out"],
      [b.id, "opt_out"],
      [a.id, "opt_in"],
    ]);
  });

  it("pages with after/limit and reports hasMore", async () => {
    const a = await createAccount();
    for (let i = 0; i < 4; i++) await expectStatus(await block(a, { address: `feed${i}@example.com` }), 201);
    const all = (await expectStatus(await feed("?limit=1000"), 200)).changes as ConsentEvent[];
    const seqs: number[] = [];
    let after = "0";
    for (;;) {
      const page = await expectStatus(await feed(`?after=${after}&limit=2`), 200);
      seqs.push(...page.changes.map((e: ConsentEvent) => e.seq));
      expect(page.changes.length).toBeLessThanOrEqual(2);
      after = page.next;
      if (!page.hasMore) break;
    }
    expect(seqs).toEqual(all.map((e) => e.seq));
    const end = await expectStatus(await feed(`?after=${after}`), 200);
    expect(end).toEqual({ changes: [], next: after, hasMore: false });
  });

  it.each([
    { name: "a negative cursor", qs: "?after=-1" },
    { name: "a non-numeric cursor", qs: "?after=abc" },
    { name: "an empty cursor", qs: "?after=" },
    { name: "a limit over 1000", qs: "?limit=1001" },
    { name: "an unknown parameter", qs: "?cursor=1" },
  ])("rejects $name with 400 invalid_input", async ({ qs }) => {
    await expectError(await feed(qs), 400, "invalid_input");
  });
});
