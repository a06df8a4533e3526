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
