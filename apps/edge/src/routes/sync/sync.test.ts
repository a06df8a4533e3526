import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  block,
  callJson,
  check,
  createAccount,
  expectChainValid,
  expectError,
  expectStatus,
  SYNC_TOKEN,
  storageSnapshot,
  type TestAccount,
} from "../../../test/helpers.ts";

let account: TestAccount;
beforeAll(async () => {
  account = await createAccount({ defaultRegion: "US" });
});

const apply = (changes: unknown[]) => callJson("POST", "/v1/sync/apply", SYNC_TOKEN, { changes });

const change = (over: Record<string, unknown>) => ({
  accountId: account.id,
  address: "+14155550401",
  channel: "*",
  scope: { type: "account" },
  action: "opt_out",
  occurredAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

describe("POST /v1/sync/apply", () => {
  it("records changes as primary events, in order, and moves the entries", async () => {
    const { results } = await expectStatus(
      await apply([
        change({ id: "pg-1", address: "(415) 555-0401", reason: "from CRM" }),
        change({ id: "pg-2", address: "crm@example.com", channel: "email" }),
      ]),
      200,
    );
    expect(results).toEqual([
      { id: "pg-1", seq: expect.any(Number), applied: true },
      { id: "pg-2", seq: results[0].seq + 1, applied: true },
    ]);
    expect(await check(account, { address: "+14155550401", sender: "ANY", channel: "sms" })).toMatchObject({
      allowed: false,
      blockedBy: { source: "primary", occurredAt: "2026-01-01T00:00:00.000Z" },
    });
    const chain = await expectChainValid(account.id);
    expect(chain.at(-2)).toMatchObject({
      source: "primary",
      evidence: { changeId: "pg-1", reason: "from CRM" },
    });
  });

  it("is idempotent by change id: a replay appends nothing and answers as the first time", async () => {
    const first = await expectStatus(await apply([change({ id: "pg-10", address: "+14155550410" })]), 200);
    const before = await storageSnapshot();
    const again = await expectStatus(
      await apply([
        change({ id: "pg-10", address: "+14155550410" }),
        change({ id: "pg-10", address: "+14155550410" }),
      ]),
      200,
    );
    expect(again.results).toEqual([first.results[0], first.results[0]]);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("records an older change for audit without changing the entry (latest occurredAt wins)", async () => {
    const address = "+14155550420";
    await expectStatus(
      await apply([change({ id: "pg-20", address, occurredAt: "2026-03-01T00:00:00Z" })]),
      200,
    );
    const { results } = await expectStatus(
      await apply([
        change({ id: "pg-21", address, action: "opt_in", occurredAt: "2026-02-01T00:00:00+01:00" }),
      ]),
      200,
    );
    expect(results[0]).toMatchObject({ id: "pg-21", applied: false });
    expect(
      await check(account, { address, sender: "A", channel: "sms", consistency: "strong" }),
    ).toMatchObject({
      allowed: false,
    });
    const newer = await expectStatus(
      await apply([change({ id: "pg-22", address, action: "opt_in", occurredAt: "2026-03-02T00:00:00Z" })]),
      200,
    );
    expect(newer.results[0]).toMatchObject({ applied: true });
    expect(await check(account, { address, sender: "A", channel: "sms" })).toMatchObject({ allowed: true });
    await expectChainValid(account.id);
  });

  it("an API change made now supersedes an older primary change", async () => {
    const address = "+14155550430";
    await expectStatus(await apply([change({ id: "pg-30", address, action: "opt_in" })]), 200);
    await expectStatus(await block(account, { address }), 201);
    expect(await check(account, { address, sender: "A", channel: "sms" })).toMatchObject({ allowed: false });
  });

  it.each([
    {
      name: "an unknown account",
      changes: () => [change({ id: "bad-1", accountId: "acc_nope" })],
      code: "invalid_input",
      path: "changes.0.accountId",
    },
    {
      name: "an unreadable address",
      changes: () => [change({ id: "ok-1" }), change({ id: "bad-2", address: "nope" })],
      code: "invalid_address",
      path: "changes.1.address",
    },
    {
      name: "an unknown field",
      changes: () => [change({ id: "bad-3", extra: true })],
      code: "invalid_input",
      path: "changes.0",
    },
    { name: "a missing id", changes: () => [change({})], code: "invalid_input", path: "changes.0.id" },
    {
      name: "an instant without offset",
      changes: () => [change({ id: "bad-4", occurredAt: "2026-01-01T00:00:00" })],
      code: "invalid_input",
      path: "changes.0.occurredAt",
    },
    {
      name: "1001 changes",
      changes: () => Array.from({ length: 1001 }, (_, i) => change({ id: `bulk-${i}` })),
      code: "invalid_input",
      path: "changes",
    },
    { name: "no changes", changes: () => [], code: "invalid_input", path: "changes" },
    {
      name: "an opt_in dated 2999 (it would outrank every STOP until then)",
      changes: () => [change({ id: "bad-5", action: "opt_in", occurredAt: "2999-01-01T00:00:00Z" })],
      code: "invalid_input",
      path: "changes.0.occurredAt: more than 15 minutes in the future",
    },
    {
      name: "a 9999-12-31 placeholder date",
      changes: () => [change({ id: "ok-2" }), change({ id: "bad-6", occurredAt: "9999-12-31T00:00:00Z" })],
      code: "invalid_input",
      path: "changes.1.occurredAt",
    },
    {
      name: "a reason with U+0000 (PostgreSQL cannot store it)",
      changes: () => [change({ id: "bad-7", reason: "x\u0000y" })],
      code: "invalid_input",
      path: "changes.0.reason: contains U+0000",
    },
    {
      name: "a sender with an unpaired surrogate",
      changes: () => [change({ id: "bad-8", scope: { type: "sender", sender: "ACME\ud800" } })],
      code: "invalid_input",
      path: "changes.0.scope.sender: contains an unpaired UTF-16 surrogate",
    },
  ])("rejects $name with 400 $code naming $path, writing nothing", async ({ changes, code, path }) => {
    const before = await storageSnapshot();
    const message = await expectError(await apply(changes()), 400, code);
    expect(message.startsWith(path), message).toBe(true);
    expect(await storageSnapshot()).toEqual(before);
  });

  it("accepts an occurredAt within the allowed clock skew", async () => {
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    const { results } = await expectStatus(
      await apply([change({ id: "pg-skew", address: "+14155550440", occurredAt: soon })]),
      200,
    );
    expect(results[0]).toMatchObject({ applied: true });
  });

  it("applies a batch of 1000 changes in one request", async () => {
    const changes = Array.from({ length: 1000 }, (_, i) =>
      change({ id: `big-${i}`, address: `bulk${i}@example.com`, channel: "email" }),
    );
    const { results } = await expectStatus(await apply(changes), 200);
    expect(results).toHaveLength(1000);
    const seqs = results.map((r: { seq: number }) => r.seq);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => seqs[0] + i));
    const active = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM blocklist_entries WHERE account_id = ? AND active = 1 AND channel = 'email' AND address LIKE 'bulk%'",
    )
      .bind(account.id)
      .first("n");
    expect(active).toBe(1000);
  });
});
