import { env } from "cloudflare:workers";
import { type ConsentEvent, sealEvent, verifyChain } from "@optout/core";
import { describe, expect, it } from "vitest";
import {
  bearer,
  block,
  call,
  callJson,
  createAccount,
  expectError,
  expectStatus,
  unblock,
} from "../../../test/helpers.ts";

const evidence = (apiKey: string, address: string) =>
  call(`/v1/evidence?address=${encodeURIComponent(address)}`, { headers: bearer(apiKey) });

describe("GET /v1/evidence", () => {
  it("returns the address's events in order and a verifying chain; a tampered copy does not verify", async () => {
    const account = await createAccount();
    const address = "+14155550501";
    await expectStatus(await block(account, { address, reason: "STOP by phone" }), 201);
    await expectStatus(await block(account, { address: "other@example.com" }), 201);
    await expectStatus(await unblock(account, { address }), 200);
    await expectStatus(await block(account, { address, scope: { type: "sender", sender: "ACME" } }), 201);

    const body = await expectStatus<{ events: ConsentEvent[]; verified: { ok: boolean; count: number } }>(
      await evidence(account.apiKey, address),
      200,
    );
    expect(body.events.map((e) => [e.action, e.scope.type])).toEqual([
      ["opt_out", "account"],
      ["opt_in", "account"],
      ["opt_out", "sender"],
    ]);
    expect(body.events.every((e) => e.address === address && e.accountId === account.id)).toBe(true);
    expect(body.events[0]!.evidence).toMatchObject({
      reason: "STOP by phone",
      requestId: expect.any(String),
    });
    expect(body.verified).toMatchObject({ ok: true, count: 4 });

    // A tampered copy: the address's own events are a slice of the chain, so check the full one.
    const all = (await expectStatus(await evidence(account.apiKey, "other@example.com"), 200))
      .events as ConsentEvent[];
    const chain = [...body.events, ...all].sort((a, b) => a.seq - b.seq);
    expect(await verifyChain(chain)).toMatchObject({ ok: true });
    const tampered = chain.map((e, i) => (i === 1 ? { ...e, action: "opt_in" as const } : e));
    expect(await verifyChain(tampered)).toMatchObject({ ok: false, brokenAt: 1, reason: "hash_mismatch" });
    expect(await verifyChain(chain.filter((_, i) => i !== 1))).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it("reports a chain broken in storage", async () => {
    const account = await createAccount();
    await expectStatus(await block(account, { address: "+14155550502" }), 201);
    await expectStatus(await block(account, { address: "+14155550503" }), 201);
    await env.DB.prepare("UPDATE ledger_events SET channel = 'sms' WHERE account_id = ? AND address = ?")
      .bind(account.id, "+14155550502")
      .run();
    const body = await expectStatus(await evidence(account.apiKey, "+14155550503"), 200);
    expect(body.verified).toEqual({ ok: false, count: 2, brokenAt: 0, reason: "hash_mismatch" });
  });

  it("an address with no history has no events", async () => {
    const account = await createAccount();
    const body = await expectStatus(await evidence(account.apiKey, "nobody@example.com"), 200);
    expect(body).toEqual({ events: [], verified: { ok: true, count: 0, head: "0".repeat(64) } });
  });

  it.each([
    { name: "no address", qs: "", code: "invalid_input" },
    { name: "an unreadable address", qs: "?address=xyz", code: "invalid_address" },
  ])("rejects $name with 400 $code", async ({ qs, code }) => {
    const account = await createAccount();
    await expectError(await call(`/v1/evidence${qs}`, { headers: bearer(account.apiKey) }), 400, code);
  });
});

describe("POST /v1/evidence/verify", () => {
  const verify = (apiKey: string | null, events: unknown) =>
    callJson("POST", "/v1/evidence/verify", apiKey, { events });

  async function evidenceOf(account: { apiKey: string }, address: string): Promise<ConsentEvent[]> {
    const body = await expectStatus<{ events: ConsentEvent[] }>(await evidence(account.apiKey, address), 200);
    return body.events;
  }

  it("verifies an untouched copy and names each tampered, foreign or invented event", async () => {
    const account = await createAccount();
    const address = "+14155550511";
    await expectStatus(await block(account, { address }), 201);
    await expectStatus(await unblock(account, { address }), 200);
    const copy = await evidenceOf(account, address);
    expect(copy).toHaveLength(2);

    expect(await expectStatus(await verify(account.apiKey, copy), 200)).toEqual({
      verified: true,
      results: copy.map((e) => ({ seq: e.seq, ok: true })),
    });

    // Edited content no longer matches its hash.
    const edited = [{ ...copy[0]!, action: "opt_in" }, copy[1]];
    expect(await expectStatus(await verify(account.apiKey, edited), 200)).toEqual({
      verified: false,
      results: [
        { seq: copy[0]!.seq, ok: false, reason: "hash_mismatch" },
        { seq: copy[1]!.seq, ok: true },
      ],
    });

    // Re-sealed after editing: self-consistent, but not what the ledger holds.
    const { hash: _h, ...unhashed } = { ...copy[0]!, occurredAt: "2020-01-01T00:00:00.000Z" };
    const forged = await sealEvent(unhashed);
    expect(await expectStatus(await verify(account.apiKey, [forged]), 200)).toMatchObject({
      verified: false,
      results: [{ seq: forged.seq, ok: false, reason: "differs_from_ledger" }],
    });

    // Another account's real evidence is not in this account's ledger.
    const other = await createAccount();
    expect(await expectStatus(await verify(other.apiKey, copy), 200)).toMatchObject({
      verified: false,
      results: [
        { seq: copy[0]!.seq, ok: false, reason: "not_in_ledger" },
        { seq: copy[1]!.seq, ok: false, reason: "not_in_ledger" },
      ],
    });
  });

  it.each([
    { name: "no key", key: null, status: 401 },
    { name: "a malformed key", key: "nope", status: 401 },
    { name: "an unknown key", key: `sk_test_${"A".repeat(32)}`, status: 401 },
  ])("refuses $name", async ({ key, status }) => {
    await expectError(await verify(key, []), status, "unauthorized");
  });

  it.each([
    { name: "no events", events: [] },
    { name: "an event with an unknown field", events: [{ extra: 1 }] },
    { name: "more than 1000 events", events: Array.from({ length: 1001 }, () => ({})) },
  ])("rejects $name with 400", async ({ events }) => {
    const account = await createAccount();
    await expectError(await verify(account.apiKey, events), 400, "invalid_input");
  });
});

describe("POST /v1/evidence/verify: a copy must say one thing", () => {
  const verifyText = (apiKey: string, text: string) => callJson("POST", "/v1/evidence/verify", apiKey, text);

  async function copyOf(account: { apiKey: string }, address: string): Promise<string> {
    const res = await call(`/v1/evidence?address=${encodeURIComponent(address)}`, {
      headers: bearer(account.apiKey),
    });
    const { events } = await expectStatus<{ events: ConsentEvent[] }>(res, 200);
    const text = JSON.stringify({ events });
    // Every event of a blocklist add carries evidence with a requestId.
    expect(text).toContain('"evidence":{');
    return text;
  }

  // Each edit adds a member that JSON.parse then drops or overwrites: the parsed copy is the
  // original, so without the check it would verify while saying something else.
  it.each([
    {
      name: "a __proto__ member in evidence",
      edit: (t: string) => t.replace('"evidence":{', '"evidence":{"__proto__":{"reason":"forged"},'),
      message: 'events.0.evidence: key "__proto__" is not allowed',
    },
    {
      name: "a __proto__ member written with escapes",
      edit: (t: string) => t.replace('"evidence":{', '"evidence":{"\\u005f_proto__":{"reason":"forged"},'),
      message: 'events.0.evidence: key "__proto__" is not allowed',
    },
    {
      name: "a duplicated key in evidence",
      edit: (t: string) => t.replace('"evidence":{', '"evidence":{"requestId":"forged",'),
      message: 'events.0.evidence: duplicate key "requestId"',
    },
    {
      name: "a duplicated key spelled differently",
      edit: (t: string) => t.replace('"evidence":{', '"evidence":{"request\\u0049d":"forged",'),
      message: 'events.0.evidence: duplicate key "requestId"',
    },
    {
      name: "a duplicated action in the event",
      edit: (t: string) => t.replace('"action":', '"action":"opt_in","action":'),
      message: 'events.0: duplicate key "action"',
    },
    {
      name: "a duplicated key in the scope of the second event",
      edit: (t: string) => {
        const second = t.indexOf('"scope":{', t.indexOf('"scope":{') + 1);
        return `${t.slice(0, second)}"scope":{"type":"account",${t.slice(second + '"scope":{'.length)}`;
      },
      message: 'events.1.scope: duplicate key "type"',
    },
    {
      name: "a duplicated events member",
      edit: (t: string) => `{"events":[],${t.slice(1)}`,
      message: 'duplicate key "events"',
    },
  ])("refuses $name with a 400 that names where", async ({ edit, message }) => {
    const account = await createAccount();
    const address = "+14155550521";
    await expectStatus(await block(account, { address }), 201);
    await expectStatus(await block(account, { address, scope: { type: "sender", sender: "ACME" } }), 201);
    const original = await copyOf(account, address);
    // The untouched text verifies.
    expect(await expectStatus(await verifyText(account.apiKey, original), 200)).toMatchObject({
      verified: true,
    });
    const edited = edit(original);
    expect(edited).not.toBe(original);
    expect(await expectError(await verifyText(account.apiKey, edited), 400, "invalid_input")).toBe(message);
  });

  it("still accepts the same key in different objects, and __proto__ as a value", async () => {
    const account = await createAccount();
    const address = "+14155550522";
    await expectStatus(await block(account, { address, reason: "__proto__" }), 201);
    await expectStatus(await unblock(account, { address, reason: "__proto__" }), 200);
    const text = await copyOf(account, address);
    expect(text).toContain('"reason":"__proto__"');
    expect(await expectStatus(await verifyText(account.apiKey, text), 200)).toMatchObject({ verified: true });
    // Pretty-printed, as a copy kept in a file might be: the same data, so it verifies.
    const pretty = JSON.stringify(JSON.parse(text), null, 2);
    expect(await expectStatus(await verifyText(account.apiKey, pretty), 200)).toMatchObject({
      verified: true,
    });
  });

  it("answers deep nesting with a 400, not a crash", async () => {
    const account = await createAccount();
    const depth = 200_000;
    const text = `{"events":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const res = await verifyText(account.apiKey, text);
    expect(res.status, await res.clone().text()).toBe(400);
  });
});
