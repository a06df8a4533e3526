import { createHmac } from "node:crypto";
import {
  type BlocklistEntry,
  type ChangesPage,
  type ConsentEvent,
  type CreateAccountResult,
  type SyncChange,
  scopeKey,
  verifyChain,
} from "@optout/core";
import { LocalEdge } from "@optout/edge/testing";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/client.ts";
import { type Database, openDatabase } from "../../src/db/open.ts";
import { readChainHeads } from "../../src/db/queries/chain-heads.ts";
import { readCursor } from "../../src/db/queries/cursor.ts";
import { listEntries } from "../../src/db/queries/entries.ts";
import { eventFromLedgerRow, ledgerStats, readLedger } from "../../src/db/queries/ledger.ts";
import { insertOutbox } from "../../src/db/queries/outbox.ts";
import { FEED_CURSOR } from "../../src/feed/sync-feed.ts";
import { CliProcess, killLiveChildren, runCli } from "../helpers/cli.ts";
import { createTestTarget, DB_KIND, type TestTarget } from "../helpers/database.ts";
import { prng } from "../helpers/feed.ts";

let edge: LocalEdge;
let db: TestTarget;
let env: Record<string, string>;
const accounts: CreateAccountResult[] = [];

beforeAll(async () => {
  // Assigned one by one, so afterAll cleans up whichever started even if the other failed.
  const starting = new LocalEdge();
  edge = starting;
  db = await createTestTarget();
  await starting.start();
  env = { EDGE_URL: edge.url, SYNC_TOKEN: edge.syncToken, ...db.env };
  for (const name of ["Acme", "Globex"]) {
    accounts.push(await edge.request<CreateAccountResult>("POST", "/v1/accounts", edge.adminToken, { name }));
  }
});
afterAll(async () => {
  killLiveChildren();
  await edge?.stop();
  await db?.drop();
});

async function withDatabase<T>(fn: (d: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(db.target);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

async function edgeFeed(): Promise<ConsentEvent[]> {
  const events: ConsentEvent[] = [];
  for (let after = 0; ; ) {
    const page = await edge.request<ChangesPage>(
      "GET",
      `/v1/changes?after=${after}&limit=1000`,
      edge.syncToken,
    );
    events.push(...page.changes);
    if (!page.hasMore) return events;
    after = Number(page.next);
  }
}

async function edgeActiveEntries(): Promise<string[]> {
  const keys: string[] = [];
  for (const account of accounts) {
    for (let cursor: string | null = null; ; ) {
      const page: { items: BlocklistEntry[]; nextCursor: string | null } = await edge.request(
        "GET",
        `/v1/blocklist?limit=1000${cursor ? `&cursor=${cursor}` : ""}`,
        account.apiKey,
      );
      for (const e of page.items)
        keys.push(JSON.stringify([e.accountId, e.address, e.channel, scopeKey(e.scope), e.seq]));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
  }
  return keys.sort();
}

/** Asserts PostgreSQL holds exactly the edge's ledger and the edge's active entries. */
async function expectPostgresEqualsEdge() {
  const feed = await edgeFeed();
  const active = await edgeActiveEntries();
  await withDatabase(async ({ db: pg }) => {
    const rows = await readLedger(pg, { afterSeq: 0, limit: 1_000_000 });
    expect(rows.length).toBe(feed.length);
    // Every change exactly once, in order, byte for byte what the edge hashed.
    expect(rows.map((r) => r.seq)).toEqual(feed.map((e) => e.seq));
    expect(rows.map(eventFromLedgerRow)).toEqual(feed);
    expect((await readCursor(pg, { name: FEED_CURSOR }))?.lastSeq).toBe(feed.at(-1)?.seq ?? 0);

    const stored = (await listEntries(pg, { activeOnly: true }))
      .map((r) => JSON.stringify([r.accountId, r.address, r.channel, r.scopeKey, r.seq]))
      .sort();
    expect(stored).toEqual(active);

    // Each account's chain verifies from the copy alone, and its head is the stored one.
    const heads = await readChainHeads(pg, { accountIds: accounts.map((a) => a.id) });
    for (const account of accounts) {
      const events = rows.map(eventFromLedgerRow).filter((e) => e.accountId === account.id);
      const verified = await verifyChain(events);
      expect(verified.ok).toBe(true);
      if (events.length)
        expect(heads.get(account.id)).toEqual({ lastSeq: events.at(-1)!.seq, hash: events.at(-1)!.hash });
    }
  });
  return feed.length;
}

describe(`a real edge on loopback → ${DB_KIND}`, () => {
  it("`once` makes PostgreSQL equal the edge after adds and removes", async () => {
    const [acme, globex] = accounts as [CreateAccountResult, CreateAccountResult];
    const add = (key: string, body: object) => edge.request("POST", "/v1/blocklist", key, body);
    const remove = (key: string, body: object) => edge.request("DELETE", "/v1/blocklist", key, body);
    await add(acme.apiKey, { address: "+1 415 555 0100", reason: "replied STOP by phone" });
    await add(acme.apiKey, { address: "+14155550101", scope: { type: "sender", sender: "+15550009999" } });
    await add(acme.apiKey, { address: "Someone@Example.com", channel: "email" });
    await add(acme.apiKey, { address: "someone@example.com", channel: "email" }); // already active: no event
    await add(globex.apiKey, { address: "+14155550100", channel: "sms" });
    await remove(acme.apiKey, { address: "+14155550101", scope: { type: "sender", sender: "+15550009999" } });
    await remove(globex.apiKey, { address: "nobody@example.com" }); // not active: no event

    const r = await runCli(["once"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("applied 5 change(s) in 1 batch(es); cursor at seq 5\n");
    expect(await expectPostgresEqualsEdge()).toBe(5);
    await withDatabase(async ({ db: pg }) => {
      const [first] = await listEntries(pg, { accountId: acme.id, activeOnly: true });
      expect(first).toMatchObject({
        address: "+14155550100",
        reason: "replied STOP by phone",
        source: "api",
      });
    });

    // Later changes arrive with the next run, and nothing is applied twice.
    await remove(acme.apiKey, { address: "+14155550100" });
    const again = await runCli(["once"], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("applied 1 change(s) in 1 batch(es); cursor at seq 6\n");
    expect(await expectPostgresEqualsEdge()).toBe(6);
  });

  it("SIGKILLed at random moments in a large feed, it still applies every change exactly once", async () => {
    const random = prng(Number(process.env.SYNC_KILL_SEED ?? Date.now() % 1_000_000));
    const seedChanges = async (count: number, prefix: string) => {
      for (let done = 0; done < count; done += 1000) {
        const changes: SyncChange[] = Array.from({ length: Math.min(1000, count - done) }, (_, i) => {
          const account = accounts[Math.floor(random() * accounts.length)]!;
          const n = Math.floor(random() * 3000);
          return {
            id: `${prefix}-${done + i}`,
            accountId: account.id,
            address: n % 2 ? `user${n}@example.com` : `+1415555${String(n).padStart(4, "0")}`,
            channel: (["*", "sms", "email"] as const)[n % 3]!,
            scope: n % 5 ? { type: "account" } : { type: "sender", sender: "ACME" },
            action: random() < 0.6 ? "opt_out" : "opt_in",
            // Spread over a day in random order, so older changes often arrive after newer ones.
            occurredAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 86_400_000)).toISOString(),
          };
        });
        await edge.request("POST", "/v1/sync/apply", edge.syncToken, { changes });
      }
    };
    await seedChanges(10_000, "bulk");
    const total = (await edgeFeed()).length;
    expect(total).toBeGreaterThanOrEqual(10_000);

    const kills: number[] = [];
    const runEnv = { ...env, BATCH_SIZE: "100", POLL_INTERVAL_MS: "100" };
    for (let k = 0; k < 4; k++) {
      const before = await withDatabase(
        async ({ db: pg }) => (await readCursor(pg, { name: FEED_CURSOR }))?.lastSeq ?? 0,
      );
      const daemon = new CliProcess(["run"], runEnv);
      // Let it commit at least one batch after the restart, then kill it a random moment later:
      // between batches, mid-fetch or mid-transaction.
      await daemon.waitForLog((l) => l.msg === "applied batch" && Number(l.toSeq) > before);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 300)));
      daemon.child.kill("SIGKILL");
      const exit = await daemon.exited;
      expect(exit.signal).toBe("SIGKILL");
      const at = await withDatabase(
        async ({ db: pg }) => (await readCursor(pg, { name: FEED_CURSOR }))!.lastSeq,
      );
      kills.push(at);
      // More changes arrive at the edge while the daemon is down.
      if (k === 1) await seedChanges(2000, "late");
    }
    const finalTotal = (await edgeFeed()).length;
    // Every kill landed mid-feed, never after the daemon had finished.
    expect(
      kills.every((seq) => seq > 0 && seq < finalTotal),
      `cursor at kills: ${kills}`,
    ).toBe(true);

    const r = await runCli(["once"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`cursor at seq ${finalTotal}\\n$`));
    expect(await expectPostgresEqualsEdge()).toBe(finalTotal);
    await withDatabase(async ({ db: pg }) => {
      expect(await ledgerStats(pg)).toEqual({ count: finalTotal, minSeq: 1, maxSeq: finalTotal });
    });
  });

  it("outbox rows reach the real edge once, come back recognized, and both stores agree on simultaneous changes", async () => {
    const [acme] = accounts as [CreateAccountResult];
    const hour = 3_600_000;
    const minute = 60_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    // The same entries changed on both sides around the same time, in different orders.
    await edge.request("POST", "/v1/blocklist", acme.apiKey, { address: "+14155550301" });
    await edge.request("POST", "/v1/blocklist", acme.apiKey, { address: "+14155550302" });
    await withDatabase(async ({ db: pg }) => {
      await insertOutbox(pg, {
        changes: [
          // Later than the edge's block (within the clock skew a change may be ahead): wins on both sides.
          {
            accountId: acme.id,
            address: "+14155550301",
            channel: "*",
            scope: { type: "account" },
            action: "opt_in",
            occurredAt: at(5 * minute),
          },
          // Earlier than the edge's block: recorded, loses on both sides.
          {
            accountId: acme.id,
            address: "+14155550302",
            channel: "*",
            scope: { type: "account" },
            action: "opt_in",
            occurredAt: at(-hour),
          },
          {
            accountId: acme.id,
            address: "pushed@example.com",
            channel: "email",
            scope: { type: "sender", sender: "ACME" },
            action: "opt_out",
            reason: "from the CRM",
          },
        ],
      });
    });
    const first = await runCli(["once"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^pushed 3 outbox change\(s\); applied \d+ change\(s\)/);
    // An edge change after the push, and a second round: nothing is pushed again.
    await edge.request("DELETE", "/v1/blocklist", acme.apiKey, {
      address: "pushed@example.com",
      channel: "email",
      scope: { type: "sender", sender: "ACME" },
    });
    const second = await runCli(["once"], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^applied 1 change\(s\)/);
    await expectPostgresEqualsEdge();
    const feed = await edgeFeed();
    const primary = feed.filter(
      (e) => e.source === "primary" && String(e.evidence.changeId ?? "").length === 36,
    );
    expect(primary).toHaveLength(3);
    await withDatabase(async ({ db: pg }) => {
      const rows = await listEntries(pg, { accountId: acme.id });
      const state = (address: string) => rows.find((r) => r.address === address)?.active;
      expect([state("+14155550301"), state("+14155550302"), state("pushed@example.com")]).toEqual([
        false,
        true,
        false,
      ]);
      const outbox = rowsOf<{ edgeSeq: string; appliedSeq: string }>(
        await pg.execute(
          sql`select edge_seq as "edgeSeq", applied_seq as "appliedSeq" from optout.outbox order by id`,
        ),
      );
      expect(outbox.map((o) => Number(o.appliedSeq))).toEqual(primary.map((e) => e.seq));
      expect(outbox.map((o) => Number(o.edgeSeq))).toEqual(primary.map((e) => e.seq));
    });
    const verify = await runCli(["verify"], env);
    // Differences are listed on stdout; why verify could not run at all is on stderr.
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });
});

// ---------- any text the edge accepts reaches PostgreSQL (issue 10, finding 1) ----------

interface OpenApiSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  anyOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
}
interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        requestBody?: { content: Record<string, { schema: OpenApiSchema }> };
      }
    >
  >;
  components: { schemas: Record<string, OpenApiSchema> };
}
type Path = (string | number)[];
interface Call {
  method: string;
  path: string;
  token: string;
  body: Record<string, unknown>;
  headers?: (body: string) => Record<string, string>;
  /** The address a 2xx must put in the ledger (a fresh one, so there is always a change). */
  changes?: { accountId: string; address: string };
}

/**
 * Where text goes in a request: every string leaf of a valid body, and every optional string
 * property the schema declares that the body leaves out. Enums and constants are not text.
 */
function textPaths(
  doc: OpenApiDocument,
  schema: OpenApiSchema | undefined,
  value: unknown,
  path: Path = [],
): Path[] {
  const resolve = (s: OpenApiSchema | undefined): OpenApiSchema | undefined =>
    s?.$ref ? resolve(doc.components.schemas[s.$ref.split("/").pop()!]) : s;
  const s = resolve(schema);
  if (typeof value === "string") return s?.enum || s?.const !== undefined ? [] : [path];
  if (Array.isArray(value))
    return value.flatMap((item, i) =>
      textPaths(doc, s?.items ?? s?.anyOf?.find((v) => v.items)?.items, item, [...path, i]),
    );
  if (value === null || typeof value !== "object") return [];
  const variants = (s?.anyOf ?? s?.oneOf ?? (s ? [s] : [])).map(resolve);
  // The variant that declares every key the body has (e.g. a sender scope, not the account one).
  const object = variants.find((v) => v?.properties && Object.keys(value).every((k) => k in v.properties!));
  const found = Object.entries(value).flatMap(([k, v]) =>
    textPaths(doc, object?.properties?.[k], v, [...path, k]),
  );
  for (const [k, prop] of Object.entries(object?.properties ?? {})) {
    const p = resolve(prop);
    const types = [p?.type].flat();
    if (!(k in value) && types.includes("string") && !p?.enum && p?.const === undefined)
      found.push([...path, k]);
  }
  return found;
}

function withText(body: Record<string, unknown>, path: Path, text: string): Record<string, unknown> {
  const copy = structuredClone(body);
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path.at(-1)!] = text;
  return copy;
}

const hasUnstorableText = (text: string) => text.includes("\u0000") || /\p{Cs}/u.test(text);

describe(`any text, every write route → ${DB_KIND}`, () => {
  it("arbitrary strings in every text field: refused precisely, or accepted and applied to PostgreSQL where the chain verifies", async () => {
    const [acme] = accounts as [CreateAccountResult];
    const genericSecret = "generic-webhook-secret-0123456789";
    await edge.request("PUT", "/v1/providers/generic", acme.apiKey, { secret: genericSecret });
    const postmarkSecret = "postmark:webhook-password-0123";
    await edge.request("PUT", "/v1/providers/postmark", acme.apiKey, { secret: postmarkSecret });
    const doc = (await (await fetch(`${edge.url}/openapi.json`)).json()) as OpenApiDocument;
    let n = 0;
    const fresh = () => `+1415556${String(n++).padStart(4, "0")}`;
    const now = () => new Date().toISOString();
    // A valid request per operation: the property puts arbitrary text into its text fields.
    const calls: Record<string, () => Call> = {
      createAccount: () => ({
        method: "POST",
        path: "/v1/accounts",
        token: edge.adminToken,
        body: { name: "Initech" },
      }),
      updateAccount: () => ({
        method: "PATCH",
        path: `/v1/accounts/${acme.id}`,
        token: edge.adminToken,
        body: { name: "Acme" },
      }),
      createApiKey: () => ({ method: "POST", path: "/v1/keys", token: acme.apiKey, body: { name: "ci" } }),
      addToBlocklist: () => {
        const address = fresh();
        return {
          method: "POST",
          path: "/v1/blocklist",
          token: acme.apiKey,
          body: { address, scope: { type: "sender", sender: "+15550001111" }, reason: "asked by phone" },
          changes: { accountId: acme.id, address },
        };
      },
      removeFromBlocklist: () => ({
        method: "DELETE",
        path: "/v1/blocklist",
        token: acme.apiKey,
        body: { address: fresh(), scope: { type: "sender", sender: "+15550001111" }, reason: "asked again" },
      }),
      checkSendBatch: () => ({
        method: "POST",
        path: "/v1/check",
        token: acme.apiKey,
        body: { items: [{ address: fresh(), sender: "+15550001111", channel: "sms" }] },
      }),
      applySyncChanges: () => {
        const address = fresh();
        return {
          method: "POST",
          path: "/v1/sync/apply",
          token: edge.syncToken,
          body: {
            changes: [
              {
                id: crypto.randomUUID(),
                accountId: acme.id,
                address,
                channel: "sms",
                scope: { type: "sender", sender: "+15550001111" },
                action: "opt_out",
                occurredAt: now(),
                reason: "from the CRM",
              },
            ],
          },
          changes: { accountId: acme.id, address },
        };
      },
      verifyEvidence: () => ({
        method: "POST",
        path: "/v1/evidence/verify",
        token: acme.apiKey,
        body: {
          events: [
            {
              seq: 1,
              id: "evt",
              accountId: acme.id,
              address: "+14155550100",
              channel: "*",
              scope: { type: "account" },
              action: "opt_out",
              source: "api",
              occurredAt: now(),
              recordedAt: now(),
              evidence: { note: "kept copy" },
              prevHash: "0".repeat(64),
              hash: "0".repeat(64),
            },
          ],
        },
      }),
      mintLink: () => ({
        method: "POST",
        path: "/v1/links",
        token: acme.apiKey,
        body: { address: fresh(), sender: "+15550001111", campaign: "spring", messageId: `m-${n}` },
      }),
      mintLinkBatch: () => ({
        method: "POST",
        path: "/v1/links/batch",
        token: acme.apiKey,
        body: {
          items: [{ address: fresh(), sender: "+15550001111", campaign: "spring", messageId: `m-${n}` }],
        },
      }),
      updateLinkSettings: () => ({
        method: "PUT",
        path: "/v1/links/settings",
        token: acme.apiKey,
        body: { brandName: "Acme" },
      }),
      registerSender: () => ({
        method: "POST",
        path: "/v1/senders",
        token: acme.apiKey,
        body: { sender: "+15550002222" },
      }),
      createTriggerRule: () => ({
        method: "POST",
        path: "/v1/triggers",
        token: acme.apiKey,
        body: { name: "bounces", on: { type: "bounced" }, campaign: "spring" },
      }),
      recordMessageEvents: () => ({
        method: "POST",
        path: "/v1/events",
        token: acme.apiKey,
        body: {
          events: [
            {
              type: "replied",
              messageId: `m-${n}`,
              address: fresh(),
              sender: "+15550001111",
              channel: "sms",
              occurredAt: now(),
              campaign: "spring",
              text: "thanks",
            },
          ],
        },
      }),
      configureProvider: () => ({
        method: "PUT",
        path: "/v1/providers/twilio",
        token: acme.apiKey,
        body: { secret: "twilio-auth-token" },
      }),
      createKeywordRule: () => ({
        method: "POST",
        path: "/v1/keyword-rules",
        token: acme.apiKey,
        body: { keywords: ["HALT"], action: "opt_out", replies: { en: "Stopped." } },
      }),
      updateKeywordSettings: () => ({
        method: "PUT",
        path: "/v1/keyword-rules/settings",
        token: acme.apiKey,
        body: { supportContact: "help@acme.example" },
      }),
      updateKeywordRule: () => ({
        method: "PATCH",
        path: "/v1/keyword-rules/none",
        token: acme.apiKey,
        body: { enabled: false },
      }),
      decideReviewMessage: () => ({
        method: "POST",
        path: "/v1/review/none",
        token: acme.apiKey,
        body: { decision: "dismiss" },
      }),
      // An email provider's own unsubscribe: an opt-out with source `provider`.
      receiveProviderEvents: () => {
        const address = `reader${n++}@example.com`;
        return {
          method: "POST",
          path: `/events/postmark/${acme.id}`,
          token: "",
          body: {
            RecordType: "SubscriptionChange",
            MessageID: crypto.randomUUID(),
            MessageStream: "outbound",
            Metadata: { campaign: "spring" },
            Recipient: address,
            ChangedAt: now(),
            SuppressSending: true,
            SuppressionReason: "ManualSuppression",
            Origin: "Recipient",
          },
          headers: () => ({ authorization: `Basic ${btoa(postmarkSecret)}` }),
          changes: { accountId: acme.id, address },
        };
      },
      receiveInboundMessage: () => {
        const from = fresh();
        return {
          method: "POST",
          path: `/mo/generic/${acme.id}`,
          token: "",
          body: { messages: [{ id: `mo-${n}`, from, to: "+15550001111", text: "STOP", receivedAt: now() }] },
          headers: (body) => {
            const t = Math.floor(Date.now() / 1000);
            const v1 = createHmac("sha256", genericSecret).update(`${t}.${body}`).digest("hex");
            return { "x-optout-signature": `t=${t},v1=${v1}` };
          },
        };
      },
    };

    // Every operation of the document that takes JSON is covered: a new one fails here until it is.
    const operations = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).flatMap((op) => {
        const schema = op.requestBody?.content["application/json"]?.schema;
        return schema ? [{ id: op.operationId, schema }] : [];
      }),
    );
    expect(operations.filter((op) => !calls[op.id]).map((op) => op.id)).toEqual([]);
    const targets = operations.flatMap((op) => {
      const paths = textPaths(doc, op.schema, calls[op.id]!().body);
      return paths.map((path) => ({ op: op.id, path }));
    });
    expect(targets.length).toBeGreaterThan(40);
    // Routes that never store what they are sent, and webhooks (whose text is cleaned, not refused).
    const notStored = new Set([
      "checkSendBatch",
      "verifyEvidence",
      "receiveInboundMessage",
      "receiveProviderEvents",
    ]);

    const text = fc.oneof(
      fc.string({ unit: "binary", maxLength: 24 }),
      fc.string({
        unit: fc.constantFrom("\u0000", "\ud800", "\udfff", "\ud83d\ude00", "a", "é", " ", "\\", '"', "\n"),
        maxLength: 8,
      }),
      fc.constantFrom("x\u0000y", "STOP\ud800", "\udc00", "+1415\u00005550123"),
    );
    // Half the runs go to the fields of requests that always make a ledger change.
    const changing = targets.filter(({ op }) => calls[op]!().changes);
    const target = fc.oneof(fc.constantFrom(...changing), fc.constantFrom(...targets));
    const expected: { accountId: string; address: string }[] = [];
    let accepted = 0;
    // Printed with any failure below, to replay it: FC_SEED=<seed>.
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    const refusedNaming: boolean[] = [];
    await fc.assert(
      fc.asyncProperty(target, text, async ({ op, path }, value) => {
        const call = calls[op]!();
        const body = JSON.stringify(withText(call.body, path, value));
        const res = await fetch(`${edge.url}${call.path}`, {
          method: call.method,
          headers: {
            "content-type": "application/json",
            ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
            ...call.headers?.(body),
          },
          body,
        });
        const answer = await res.text();
        const where = `${op} ${path.join(".")} = ${JSON.stringify(value)} → ${res.status} ${answer}`;
        expect(res.status, where).toBeLessThan(500);
        if (res.ok) {
          accepted++;
          // Unless the text went into the address or the account itself (then it names another).
          const named = ["address", "from", "accountId", "Recipient"].includes(String(path.at(-1)));
          // A webhook answers 200 for what it skips too: its answer says whether it opted out.
          const optedOut = call.path.startsWith("/events/")
            ? (JSON.parse(answer) as { optedOut: number }).optedOut > 0
            : true;
          if (call.changes && !named && optedOut) expected.push(call.changes);
          return;
        }
        const envelope = JSON.parse(answer) as { error?: { code?: string; message?: string } };
        expect(envelope.error?.code, where).toEqual(expect.any(String));
        if (hasUnstorableText(value) && !notStored.has(op) && res.status !== 409) {
          expect(res.status, where).toBe(400);
          expect(envelope.error?.code, where).toBe("invalid_input");
          // The message names the field (its last named key: `items[0].sender` names `sender`).
          const field = path.findLast((key) => typeof key === "string");
          if (hasUnstorableText(value))
            refusedNaming.push(envelope.error?.message?.includes(String(field)) ?? false);
        }
      }),
      { numRuns: 300, seed },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(expected.length).toBeGreaterThan(0);
    expect(refusedNaming.length).toBeGreaterThan(0);
    expect(refusedNaming.every(Boolean)).toBe(true);

    const r = await runCli(["once"], env);
    expect(r.code, r.stderr).toBe(0);
    await expectPostgresEqualsEdge();
    await withDatabase(async ({ db: pg }) => {
      const rows = (await readLedger(pg, { afterSeq: 0, limit: 1_000_000 })).map(eventFromLedgerRow);
      const applied = new Set(rows.map((e) => `${e.accountId} ${e.address}`));
      const missing = expected.filter((change) => !applied.has(`${change.accountId} ${change.address}`));
      expect(missing, `FC_SEED=${seed}`).toEqual([]);
    });
  });
});
