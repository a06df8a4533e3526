import { env } from "cloudflare:workers";
import { GENESIS_HASH, type Scope } from "@optout/core";
import { describe, expect, it } from "vitest";
import { block, createAccount, expectChainValid, expectStatus } from "../../test/helpers.ts";
import { createDb } from "../db/client.ts";
import { appendChanges, type ChangeRequest } from "./append.ts";

const deps = () => ({ db: createDb(env.DB), kv: env.KV });

const change = (accountId: string, over: Partial<ChangeRequest> = {}): ChangeRequest => ({
  accountId,
  address: "+14155550601",
  channel: "*",
  scope: { type: "account" } as Scope,
  action: "opt_out",
  source: "api",
  occurredAt: new Date().toISOString(),
  evidence: {},
  ...over,
});

async function maxSeq(): Promise<number> {
  return (
    (await env.DB.prepare("SELECT COALESCE(MAX(seq), 0) AS n FROM ledger_events").first<number>("n")) ?? 0
  );
}

describe("appendChanges", () => {
  it("20 concurrent adds on one account give a gap-free seq and a valid chain", async () => {
    const account = await createAccount();
    const start = await maxSeq();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => block(account, { address: `+1415555${String(7000 + i)}` })),
    );
    for (const res of responses) await expectStatus(res, 201);
    const seqs = (
      await env.DB.prepare("SELECT seq FROM ledger_events WHERE seq > ? ORDER BY seq")
        .bind(start)
        .all<{ seq: number }>()
    ).results.map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => start + 1 + i));
    const chain = await expectChainValid(account.id);
    expect(chain).toHaveLength(20);
    const head = await env.DB.prepare("SELECT ledger_head_hash AS h FROM accounts WHERE id = ?")
      .bind(account.id)
      .first("h");
    expect(head).toBe(chain.at(-1)!.hash);
  });

  it("concurrent adds of the SAME entry append exactly one event", async () => {
    const account = await createAccount();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => block(account, { address: "+14155550602" })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await expectChainValid(account.id)).toHaveLength(1);
  });

  it("concurrent writers on two accounts interleave in seq and keep both chains valid", async () => {
    const [a, b] = [await createAccount(), await createAccount()];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => block(i % 2 ? a : b, { address: `pair${i}@example.com` })),
    );
    expect(await expectChainValid(a.id)).toHaveLength(5);
    expect(await expectChainValid(b.id)).toHaveLength(5);
  });

  it("appends several changes in one batch, chaining them in order", async () => {
    const account = await createAccount();
    const outcomes = await appendChanges(deps(), [
      change(account.id, { address: "a@example.com" }),
      change(account.id, { address: "b@example.com", channel: "email" }),
      change(account.id, { address: "a@example.com", action: "opt_in" }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["appended", "appended", "appended"]);
    const events = outcomes.map((o) => (o.status === "appended" ? o.event : undefined));
    expect(events[0]!.prevHash).toBe(GENESIS_HASH);
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[2]!.prevHash).toBe(events[1]!.hash);
    expect(events[2]!.seq).toBe(events[0]!.seq + 2);
    // Same instant: the later seq wins, so a@ ends inactive.
    const a = await env.DB.prepare(
      "SELECT active FROM blocklist_entries WHERE account_id = ? AND address = ?",
    )
      .bind(account.id, "a@example.com")
      .first("active");
    expect(a).toBe(0);
    await expectChainValid(account.id);
  });

  it("skipIfUnchanged appends nothing for a no-op, also inside a batch", async () => {
    const account = await createAccount();
    const start = await maxSeq();
    const outcomes = await appendChanges(deps(), [
      change(account.id, { skipIfUnchanged: true }),
      change(account.id, { skipIfUnchanged: true }),
      change(account.id, { action: "opt_in", address: "+14155550699", skipIfUnchanged: true }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["appended", "unchanged", "unchanged"]);
    expect(await maxSeq()).toBe(start + 1);
  });

  it("an event older than the entry's state is recorded but does not move it", async () => {
    const account = await createAccount();
    await appendChanges(deps(), [change(account.id, { occurredAt: "2026-02-01T00:00:00.000Z" })]);
    const [older] = await appendChanges(deps(), [
      change(account.id, { action: "opt_in", occurredAt: "2026-01-01T00:00:00.000Z" }),
    ]);
    expect(older).toMatchObject({ status: "appended", applied: false, entry: { active: true } });
    expect(await expectChainValid(account.id)).toHaveLength(2);
  });

  it("refuses an unknown account without writing", async () => {
    const start = await maxSeq();
    await expect(appendChanges(deps(), [change("acc_missing")])).rejects.toThrow(/unknown account/);
    expect(await maxSeq()).toBe(start);
  });
});
