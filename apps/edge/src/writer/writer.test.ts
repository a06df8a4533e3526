/**
 * The account's writer under the conditions it exists for: changes racing in, guards that fail
 * because someone else wrote, one op that cannot commit among many, chains that began before
 * writers, KV that refuses writes or is left behind by a crash, and exactly one D1 write
 * transaction per request.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { GENESIS_HASH, sealEvent, verifyChain } from "@optout/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  accountChain,
  block,
  call,
  createAccount,
  expectChainValid,
  expectStatus,
  kvSettled,
  type TestAccount,
} from "../../test/helpers.ts";
import { confirm, mintLink } from "../../test/links.ts";
import { configureProvider, mo, postMo } from "../../test/mo.ts";
import app from "../index.ts";
import { runTriggerCron } from "../triggers/cron.ts";
import type { LedgerWriter } from "./ledger-writer.ts";

const writerOf = (account: { id: string }) => env.LEDGER_WRITER.get(env.LEDGER_WRITER.idFromName(account.id));
/** The writer's private parts, for injecting a storage failure (as the SQLite-trigger tests do). */
type WriterInternals = { env: Env; kv: { kv: KVNamespace } };

let n = 0;
const nextPhone = () => `+1415557${String(1000 + ++n).padStart(4, "0")}`;

afterEach(async () => {
  vi.restoreAllMocks();
  await env.DB.prepare("DROP TRIGGER IF EXISTS fail_address").run();
});

async function ledgerRows(accountId: string) {
  const { results } = await env.DB.prepare(
    "SELECT seq, account_seq AS accountSeq, recorded_at AS recordedAt FROM ledger_events WHERE account_id = ? ORDER BY seq",
  )
    .bind(accountId)
    .all<{ seq: number; accountSeq: number | null; recordedAt: string }>();
  return results;
}

describe("group commit", () => {
  it("200 concurrent adds to one account: all committed, in far fewer commits, chain whole", async () => {
    const account = await createAccount();
    const addresses = Array.from({ length: 200 }, nextPhone);
    const responses = await Promise.all(addresses.map((address) => block(account, { address })));
    for (const res of responses) expect(res.status, await res.clone().text()).toBe(201);

    const rows = await ledgerRows(account.id);
    expect(rows).toHaveLength(200);
    // Chain positions 1..200, and the feed positions gap-free within what this account wrote.
    expect(rows.map((r) => r.accountSeq)).toEqual(addresses.map((_, i) => i + 1));
    // Every event of one commit shares its recordedAt: the requests raced in and were coalesced.
    const commits = new Set(rows.map((r) => r.recordedAt)).size;
    expect(commits).toBeLessThan(100);
    const chain = await expectChainValid(account.id);
    expect(chain.every((e) => e.accountSeq !== undefined)).toBe(true);
    // Each 201 meant committed: a strong read blocks every one of them.
    for (const address of addresses.slice(0, 20)) {
      const res = await call(
        `/v1/check?address=${encodeURIComponent(address)}&sender=A&channel=sms&consistency=strong`,
        { headers: { authorization: `Bearer ${account.apiKey}` } },
      );
      expect((await expectStatus(res, 200)).allowed).toBe(false);
    }
  });

  it("two accounts' writers commit independently, and the feed stays gap-free across them", async () => {
    const a = await createAccount();
    const b = await createAccount();
    const before = (await env.DB.prepare("SELECT COALESCE(MAX(seq), 0) AS max FROM ledger_events").first<{
      max: number;
    }>())!.max;
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        block(i % 2 ? a : b, { address: nextPhone() }).then((r) => r.text()),
      ),
    );
    const { results } = await env.DB.prepare("SELECT seq FROM ledger_events WHERE seq > ? ORDER BY seq")
      .bind(before)
      .all<{ seq: number }>();
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => before + i + 1));
    await expectChainValid(a.id);
    await expectChainValid(b.id);
  });
});

describe("when the writer's knowledge is wrong", () => {
  it("a guard fails, the writer reads what it relied on, and plans again", async () => {
    const account = await createAccount();
    const address = nextPhone();
    await expectStatus(await block(account, { address }), 201);
    // Someone else (an older deployment, an operator's SQL) removes the entry behind the writer.
    await env.DB.prepare("DELETE FROM blocklist_entries WHERE account_id = ? AND address = ?")
      .bind(account.id, address)
      .run();
    const logged: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void logged.push(String(line)));
    // The writer still believes the entry active ("unchanged"): its guard fails, and it re-reads.
    const again = await expectStatus(await block(account, { address }), 201);
    expect(again).toMatchObject({ address, active: true });
    expect(logged.some((l) => l.includes("writer_replanned"))).toBe(true);
    const rows = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM blocklist_entries WHERE account_id = ? AND address = ? AND active = 1",
    )
      .bind(account.id, address)
      .first<{ n: number }>();
    expect(rows!.n).toBe(1);
    await expectChainValid(account.id);
  });

  it("an op that cannot commit fails alone; the ones committed with it do not", async () => {
    const account = await createAccount();
    const bad = nextPhone();
    // A real storage failure for one address only.
    await env.DB.prepare(
      `CREATE TRIGGER fail_address BEFORE INSERT ON blocklist_entries WHEN NEW.address = '${bad}'
      BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END`,
    ).run();
    vi.spyOn(console, "error").mockImplementation(() => {});
    const good = Array.from({ length: 15 }, nextPhone);
    const responses = await Promise.all([...good, bad].map((address) => block(account, { address })));
    expect(responses.slice(0, 15).map((r) => r.status)).toEqual(good.map(() => 201));
    expect(responses[15]!.status).toBe(503);
    expect(responses[15]!.headers.get("retry-after")).toBe("1");
    const chain = await expectChainValid(account.id);
    expect(chain.map((e) => e.address).sort()).toEqual([...good].sort());
  });

  it("continues a chain sealed before writers: old events keep verifying, new ones count on", async () => {
    const account = await createAccount();
    // Two events as the edge sealed them before writers existed: seq in the hash, no accountSeq.
    const maxSeq = (await env.DB.prepare("SELECT COALESCE(MAX(seq), 0) AS m FROM ledger_events").first<{
      m: number;
    }>())!.m;
    let prevHash = GENESIS_HASH;
    for (const i of [1, 2]) {
      const event = await sealEvent({
        seq: maxSeq + i,
        id: `evt_old_${account.id}_${i}`,
        accountId: account.id,
        address: nextPhone(),
        channel: "*",
        scope: { type: "account" },
        action: "opt_out",
        source: "api",
        occurredAt: "2026-01-01T00:00:00.000Z",
        recordedAt: "2026-01-01T00:00:00.000Z",
        evidence: {},
        prevHash,
      });
      await env.DB.prepare(
        `INSERT INTO ledger_events (seq, id, account_id, address, channel, scope_key, action, source, occurred_at,
          recorded_at, evidence, prev_hash, hash) VALUES (?, ?, ?, ?, '*', 'account', 'opt_out', 'api', ?, ?, '{}', ?, ?)`,
      )
        .bind(
          event.seq,
          event.id,
          account.id,
          event.address,
          event.occurredAt,
          event.recordedAt,
          prevHash,
          event.hash,
        )
        .run();
      prevHash = event.hash;
    }
    await expectStatus(await block(account, { address: nextPhone() }), 201);
    const chain = await accountChain(account.id);
    expect(chain.map((e) => e.accountSeq)).toEqual([undefined, undefined, 3]);
    expect(chain[2]!.prevHash).toBe(prevHash);
    expect(await verifyChain(chain)).toMatchObject({ ok: true, count: 3 });
  });
});

describe("KV after a commit", () => {
  it("a put KV refuses is retried until it lands", async () => {
    const account = await createAccount();
    const address = nextPhone();
    await expectStatus(await block(account, { address: nextPhone() }), 201); // the writer exists
    let refusals = 3;
    await runInDurableObject(writerOf(account), (writer: LedgerWriter) => {
      const kv = (writer as unknown as WriterInternals).kv;
      const real = kv.kv;
      kv.kv = new Proxy(real, {
        get: (target, prop) =>
          prop === "put"
            ? (...args: Parameters<KVNamespace["put"]>) =>
                refusals-- > 0 ? Promise.reject(new Error("KV PUT failed: 500")) : target.put(...args)
            : Reflect.get(target, prop),
      });
    });
    const warned: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: unknown) => void warned.push(String(line)));
    await expectStatus(await block(account, { address }), 201);
    await kvSettled(account);
    expect(refusals).toBeLessThan(0);
    expect(await env.KV.get(`e:${account.id}:${address}`, "json")).toEqual([
      expect.objectContaining({ address, scope: { type: "account" } }),
    ]);
  });

  it("what a crash leaves owed (kv_outbox) is paid by the writer's alarm, and by the cron", async () => {
    const account = await createAccount();
    const address = nextPhone();
    // KV refuses everything: the commit succeeds, the KV write stays owed in kv_outbox.
    await expectStatus(await block(account, { address: nextPhone() }), 201);
    await runInDurableObject(writerOf(account), (writer: LedgerWriter) => {
      const kv = (writer as unknown as WriterInternals).kv;
      const real = kv.kv;
      kv.kv = new Proxy(real, {
        get: (target, prop) =>
          prop === "put" ? () => Promise.reject(new Error("KV unavailable")) : Reflect.get(target, prop),
      });
      // Restored for whoever pays later (a new instance after a crash would have the real one).
      setTimeout(() => {
        kv.kv = real;
      }, 300);
    });
    vi.spyOn(console, "warn").mockImplementation(() => {});
    await expectStatus(await block(account, { address }), 201);
    const owed = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM kv_outbox WHERE account_id = ? AND subject = ?",
    )
      .bind(account.id, address)
      .first<{ n: number }>();
    expect(owed!.n).toBe(1);
    expect(await env.KV.get(`e:${account.id}:${address}`)).toBeNull();
    // The debt ages past what the alarm leaves to the flush in flight; then the alarm pays it.
    await env.DB.prepare("UPDATE kv_outbox SET created_at = '2000-01-01T00:00:00.000Z' WHERE account_id = ?")
      .bind(account.id)
      .run();
    await new Promise((r) => setTimeout(r, 400));
    expect(await runDurableObjectAlarm(writerOf(account))).toBe(true);
    expect(await env.KV.get(`e:${account.id}:${address}`, "json")).toEqual([
      expect.objectContaining({ address }),
    ]);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM kv_outbox WHERE account_id = ?")
      .bind(account.id)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);

    // The cron's backstop does the same for debts no alarm paid.
    await env.DB.prepare(
      "INSERT INTO kv_outbox (account_id, kind, subject, created_at) VALUES (?, 'entries', ?, '2000-01-01T00:00:00.000Z')",
    )
      .bind(account.id, address)
      .run();
    await env.KV.delete(`e:${account.id}:${address}`);
    const report = await runTriggerCron({ env }, new Date());
    expect(report.kvRepaired).toBeGreaterThanOrEqual(1);
    expect(await env.KV.get(`e:${account.id}:${address}`, "json")).toEqual([
      expect.objectContaining({ address }),
    ]);
  });

  it("a check that fills KV on a miss does so for 60 s; the writer's own values last", async () => {
    const account = await createAccount();
    const checked = nextPhone();
    const written = nextPhone();
    await expectStatus(await block(account, { address: written }), 201);
    await kvSettled(account);
    await expectStatus(
      await call(`/v1/check?address=${encodeURIComponent(checked)}&sender=A&channel=sms`, {
        headers: { authorization: `Bearer ${account.apiKey}` },
      }),
      200,
    );
    const { keys } = await env.KV.list({ prefix: `e:${account.id}:` });
    const ttl = (address: string) => {
      const key = keys.find((k) => k.name === `e:${account.id}:${address}`);
      return (key?.expiration ?? 0) - Date.now() / 1000;
    };
    // A fill may already be stale when it lands (a change committed after the read): it must go
    // within KV's own propagation time.
    expect(ttl(checked)).toBeGreaterThan(0);
    expect(ttl(checked)).toBeLessThanOrEqual(61);
    expect(ttl(written)).toBeGreaterThan(3600);
  });
});

describe("one D1 write transaction per request", () => {
  /** A D1 binding that counts what is sent to it: batches, and statements run alone. */
  function counting(d1: D1Database) {
    const counts = { writes: 0, reads: 0 };
    const isWrite = (sql: string) => /^\s*(INSERT|UPDATE|DELETE|REPLACE)/i.test(sql);
    const wrapStatement = (s: D1PreparedStatement, sql: string): D1PreparedStatement =>
      new Proxy(s, {
        get(target, prop) {
          if (prop === "bind") return (...args: unknown[]) => wrapStatement(target.bind(...args), sql);
          if (prop === "__sql") return sql;
          if (prop === "__target") return target;
          const value = Reflect.get(target, prop);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (["run", "all", "first", "raw"].includes(String(prop))) {
              if (isWrite(sql)) counts.writes++;
              else counts.reads++;
            }
            return value.apply(target, args);
          };
        },
      });
    const db = new Proxy(d1, {
      get(target, prop) {
        if (prop === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql);
        if (prop === "batch")
          return (statements: D1PreparedStatement[]) => {
            const sqls = statements.map((s) => (s as unknown as { __sql: string }).__sql);
            if (sqls.some(isWrite)) counts.writes++;
            else counts.reads++;
            return target.batch(statements.map((s) => Reflect.get(s, "__target") ?? s));
          };
        return Reflect.get(target, prop);
      },
    });
    return { db, counts };
  }

  async function countedRequest(account: TestAccount, request: () => Promise<Response>) {
    // Warm: the writer knows the account; rules are cached. What is counted is the steady state.
    const worker = counting(env.DB);
    const writer = counting(env.DB);
    await runInDurableObject(writerOf(account), (w: LedgerWriter) => {
      const internals = w as unknown as WriterInternals;
      internals.env = { ...internals.env, DB: writer.db };
    });
    const res = await request.call({ db: worker.db });
    await kvSettled(account);
    await runInDurableObject(writerOf(account), (w: LedgerWriter) => {
      const internals = w as unknown as WriterInternals;
      internals.env = { ...internals.env, DB: env.DB };
    });
    return { res, worker: worker.counts, writer: writer.counts };
  }

  const viaApp = (db: D1Database, path: string, init: RequestInit) =>
    app.request(`https://edge.test${path}`, init, { ...env, DB: db });

  it.each([
    {
      name: "an API add",
      prepare: async () => ({}),
      send: (db: D1Database, account: TestAccount) =>
        viaApp(db, "/v1/blocklist", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${account.apiKey}` },
          body: JSON.stringify({ address: nextPhone() }),
        }),
      status: 201,
    },
    {
      name: "a signed MO STOP",
      prepare: async (account: TestAccount) => {
        await configureProvider(account, "twilio");
        return {};
      },
      send: async (db: D1Database, account: TestAccount) =>
        postMo(account, "twilio", mo("STOP", { from: nextPhone() }), {
          via: (path, init) => viaApp(db, path, init),
        }),
      status: 200,
    },
    {
      name: "a one-click POST",
      prepare: async (account: TestAccount) => ({
        code: (await mintLink(account, { address: nextPhone() })).code,
      }),
      send: async (db: D1Database, _account: TestAccount, ctx: { code?: string }) =>
        confirm(ctx.code!, "account", { via: (path, init) => viaApp(db, path, init) }),
      status: 200,
    },
  ])("$name: the writer commits once; the route itself writes nothing", async ({ prepare, send, status }) => {
    const account = await createAccount({ name: "Acme" });
    const ctx = await prepare(account);
    // One of each first, so the writer and the caches are warm.
    await expectStatus(await block(account, { address: nextPhone() }), 201);
    await kvSettled(account);
    let sent: Response | undefined;
    const counted = await countedRequest(account, async function (this: { db: D1Database }) {
      sent = await send(this.db, account, ctx);
      return sent;
    });
    expect(sent!.status, await sent!.clone().text()).toBe(status);
    expect(counted.writer.writes).toBe(1);
    expect(counted.worker.writes).toBe(0);
  });
});
